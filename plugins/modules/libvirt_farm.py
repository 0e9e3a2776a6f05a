#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: libvirt_farm
short_description: Deploy a batch of VMs on qcow2 overlays of one backing file over several libvirt hypervisors
version_added: 0.1.0
description:
  - Places a batch of VMs named by a range (C(lab[001-100])) on several hypervisors by capacity, creates one
    qcow2 overlay per VM on one backing file, defines the domains with deterministic MAC addresses and starts
    them gradually, in one call. What vm5k does on Grid'5000, idempotent and capacity-aware.
  - Capacity of a hypervisor is read from libvirt - the node's memory (minus O(reserve_memory_mb)) and CPUs
    (times O(cpu_overcommit)), minus what running domains outside the batch use and what the batch's domains
    already there use. The collection's placement engine distributes the missing VMs; VMs that exist stay where
    they are. When the VMs do not fit, the module fails with the placement's figures before anything is created.
  - Idempotent. A domain made by this module records the spec it was made from in its metadata. A rerun leaves
    matching domains as they are; a domain that differs (memory, vCPUs, MAC, NIC, boot order, backing file...)
    is reported in RV(differs) and in the diff, and redefined only with O(update=true) (its run state still
    follows O(state)).
  - Overlays are libvirt storage volumes in O(hypervisors[].pool_dir) (an existing pool on that directory, or a
    pool made for the call and removed after it), so remote URIs such as C(qemu+ssh://) work.
  - All or nothing for definitions. When an overlay or a domain cannot be created, what this call created is
    removed again (O(rollback)). A VM that fails to start stays defined and is named in the error; a rerun starts it.
  - With O(state=absent) the domains of the batch are destroyed and undefined and the overlays this module made
    are deleted. The backing file, overlays it did not make and other domains are never touched. A domain of
    the batch's names that this module did not make is an error, raised before anything changes.
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.libvirt
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Connects, reads capacity and domains, places the VMs and reports what would be created, updated, started or
        removed; changes nothing.
  diff_mode:
    support: full
    details:
      - Reports per VM that changes its hypervisor, state, memory, vCPUs and MAC before and after, and for a
        differing domain each differing key with its current and wanted value.
  idempotent:
    support: full
    details:
      - A rerun leaves the domains that match the template, and already have the run state of O(state), as they are.
      - A domain that differs is reported in RV(differs) and redefined only with O(update=true).
options:
  vms:
    description:
      - The VM (domain) names. One string is a range expression of the collection's noderange grammar, for
        example C(lfvm[001-050]) or C(lab[01-40],-lab13); a list is taken literally.
      - The name also names the overlay, C(<pool_dir>/<name>.qcow2).
    type: raw
    required: true
  backing_file:
    description:
      - Absolute path of the image the overlays are made on, the same on every hypervisor. Never modified or removed.
      - Required unless O(state=absent).
    type: path
  backing_format:
    description: Format of the backing file.
    type: str
    choices: [qcow2, raw]
    default: qcow2
  distribution:
    description:
      - How the missing VMs are spread, by the collection's placement engine (see docs/placement.md).
      - V(round_robin) interleaves; V(even) gives each hypervisor the same number (contiguous blocks);
        V(concentrated) fills the first, then the next; V(weighted) shares by capacity or O(hypervisors[].weight).
    type: str
    choices: [round_robin, even, concentrated, weighted]
    default: round_robin
  mac_prefix:
    description:
      - First 1 to 5 octets of every VM's MAC; the rest is derived from the VM name (SHA-256), so a VM gets
        the same MAC on every run and every hypervisor. A MAC already used by another domain is skipped.
    type: str
    default: "52:54:00"
  assignment:
    description:
      - A placement computed elsewhere, a mapping of VM names to hypervisor names, for example by the
        P(labfarm.massclone.placement#filter) filter on the controller (the M(labfarm.massclone.libvirt_farm_info)
        C(placement_host) records give it the capacities). The call then handles only the VMs of O(vms) assigned to
        one of its O(hypervisors) (or already there) and places nothing itself; MACs and O(first_ip) addresses
        still follow the whole O(vms) list. The role C(labfarm.massclone.vm_farm) runs one call per hypervisor this way.
    type: dict
  first_ip:
    description:
      - When set, VM number i of O(vms) (from 0) gets the address O(first_ip) + i in RV(vms[].ip), to feed
        DHCP reservations (M(labfarm.massclone.netboot_config)) and an inventory. Nothing is configured from it here.
    type: str
  state:
    description:
      - V(present) defines the domains (and their overlays) and leaves their run state as it is.
      - V(running) also starts them (resumes paused ones); V(paused) starts them paused (suspends running ones).
      - V(absent) destroys and undefines them and deletes the overlays this module made.
    type: str
    choices: [present, running, paused, absent]
    default: running
  update:
    description:
      - Redefine domains that differ from the template (same UUID). A running domain is restarted with the new
        definition when O(state) is V(running) or V(paused). An overlay whose backing file changed is made again
        (its content is lost) when this module made it.
    type: bool
    default: false
  start_rate:
    description: At most this many VM starts per second over the whole batch; V(0) does not pace.
    type: float
    default: 0
  concurrency:
    description: At most this many VMs starting at the same time.
    type: int
    default: 4
  rollback:
    description: When creating an overlay or a domain fails, remove what this call created.
    type: bool
    default: true
notes:
  - Capacity counts running domains outside the batch (defined but stopped ones are not counted) and every
    domain of the batch. VMs are never migrated; a VM missing from the batch is placed in what is left.
  - The module runs where libvirt-python is; with C(qemu+ssh://) URIs that can be the controller (delegate_to).
seealso:
  - module: labfarm.massclone.libvirt_farm_info
  - module: labfarm.massclone.netboot_config
"""

EXAMPLES = r"""
- name: Fifty tiny VMs over two hypervisors, started 5 per second
  labfarm.massclone.libvirt_farm:
    vms: lab[001-050]
    template:
      memory_mb: 256
      vcpus: 1
      bridge: br0
      boot: [network, hd]
    backing_file: /var/lib/libvirt/images/debian-12.qcow2
    hypervisors:
      - {name: hv1, uri: "qemu+ssh://root@hv1/system", pool_dir: /var/lib/libvirt/images/lab}
      - {name: hv2, uri: "qemu+ssh://root@hv2/system", pool_dir: /var/lib/libvirt/images/lab}
    distribution: even
    mac_prefix: "52:54:00:4c"
    first_ip: 10.20.0.11
    start_rate: 5
  delegate_to: localhost
  register: farm

- name: DHCP reservations for the farm
  labfarm.massclone.netboot_config:
    backend: dnsmasq
    dest: /etc/labfarm-netboot/dnsmasq.conf
    hosts: "{{ farm.vms | map('dict2items') | map('selectattr', 'key', 'in', ['name', 'mac', 'ip']) | map('items2dict') | list }}"
    subnets:
      - {network: 10.20.0.0/24, gateway: 10.20.0.1}

- name: Remove the farm (never the backing file)
  labfarm.massclone.libvirt_farm:
    vms: lab[001-050]
    hypervisors:
      - {name: hv1, uri: "qemu+ssh://root@hv1/system", pool_dir: /var/lib/libvirt/images/lab}
      - {name: hv2, uri: "qemu+ssh://root@hv2/system", pool_dir: /var/lib/libvirt/images/lab}
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
vms:
  description: One entry per VM of O(vms), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The domain name.
      type: str
      sample: lab001
    hypervisor:
      description: The hypervisor it is (or would be) on; null when absent and not placed.
      type: str
      sample: hv1
    uri:
      description: That hypervisor's URI.
      type: str
      sample: qemu+ssh://root@hv1/system
    mac:
      description: The MAC of its NIC (null without a NIC).
      type: str
      sample: "52:54:00:4c:9a:0e"
    ip:
      description: Its address from O(first_ip), or null.
      type: str
      sample: 10.20.0.11
    overlay:
      description: The overlay's path on the hypervisor.
      type: str
      sample: /var/lib/libvirt/images/lab/lab001.qcow2
    uuid:
      description: The domain's UUID (null when not created yet).
      type: str
      sample: 7f1c3e0e-5a43-4ab4-9f57-5dd0c5a4f0a1
    state:
      description: Its libvirt state after the call (in check mode, the state it would have) - running, paused, shutoff, absent...
      type: str
      sample: running
    action:
      description: V(created), V(updated), V(unchanged), V(differs) (not updated without O(update)), V(removed) or V(none).
      type: str
      sample: created
    started:
      description: What was done to its run state - V(start), V(resume), V(suspend), V(restart) - or null.
      type: str
      sample: start
    differs:
      description: The template keys in which the domain differs.
      type: list
      elements: str
      sample: []
created:
  description: VMs created (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [lab001, lab002]
updated:
  description: VMs redefined with O(update).
  returned: always
  type: list
  elements: str
  sample: []
differs:
  description: VMs that differ from the template and were left as they are.
  returned: always
  type: list
  elements: str
  sample: [lab003]
started:
  description: VMs whose run state was changed.
  returned: always
  type: list
  elements: str
  sample: [lab001, lab002]
removed:
  description: VMs removed with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: []
placement:
  description: How many VMs of the batch each hypervisor holds after the call.
  returned: always
  type: list
  elements: dict
  sample: [{hypervisor: hv1, vms: 25}, {hypervisor: hv2, vms: 25}]
  contains:
    hypervisor:
      description: The hypervisor's name.
      type: str
      sample: hv1
    vms:
      description: How many VMs of O(vms) are (or would be) there.
      type: int
      sample: 25
capacity:
  description: The hypervisors' capacity records given to the placement engine.
  returned: when the VMs do not fit
  type: list
  elements: dict
  sample: [{name: hv1, memory_mb: 63488, vcpus: 16, used_memory_mb: 61440, used_vcpus: 60}]
  contains:
    name:
      description: The hypervisor's name.
      type: str
      sample: hv1
    memory_mb:
      description: Memory the farm may use there (O(hypervisors[].memory_mb), or the node's minus O(reserve_memory_mb)).
      type: int
      sample: 63488
    vcpus:
      description: CPUs counted there (O(hypervisors[].vcpus), or the node's).
      type: int
      sample: 16
    used_memory_mb:
      description: Memory of the running domains outside the batch and of every domain of the batch there.
      type: int
      sample: 61440
    used_vcpus:
      description: vCPUs of the same domains.
      type: int
      sample: 60
    max_items:
      description: How many more VMs of the batch it may take, from O(hypervisors[].max_vms); absent without it.
      type: int
      sample: 10
    weight:
      description: O(hypervisors[].weight); absent without it.
      type: float
      sample: 2.0
rolled_back:
  description: What the rollback removed after a failed creation.
  returned: when a creation failed
  type: list
  elements: str
  sample: [lab001, lab002]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.farm import Farm
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.hypervisor import libvirt_for
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import shared_argument_spec


def main():
    argument_spec = shared_argument_spec()
    argument_spec.update(
        vms=dict(type="raw", required=True),
        backing_file=dict(type="path"),
        backing_format=dict(type="str", default="qcow2", choices=["qcow2", "raw"]),
        distribution=dict(type="str", default="round_robin", choices=["round_robin", "even", "concentrated", "weighted"]),
        mac_prefix=dict(type="str", default="52:54:00"),
        first_ip=dict(type="str"),
        assignment=dict(type="dict"),
        state=dict(type="str", default="running", choices=["present", "running", "paused", "absent"]),
        update=dict(type="bool", default=False),
        start_rate=dict(type="float", default=0),
        concurrency=dict(type="int", default=4),
        rollback=dict(type="bool", default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["backing_file"]), ("state", "running", ["backing_file"]),
                     ("state", "paused", ["backing_file"])],
        supports_check_mode=True,
    )
    libvirt = libvirt_for(module)
    try:
        result = Farm(libvirt, module.params, check_mode=module.check_mode).run()
    except FarmError as exc:
        fail_with(module, exc)
    exit_with(module, result)


if __name__ == "__main__":
    main()
