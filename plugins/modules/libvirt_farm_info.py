#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: libvirt_farm_info
short_description: Capacity of libvirt hypervisors and how many VMs of a template fit
version_added: 0.1.0
description:
  - Reads each hypervisor's memory and CPUs and what its running domains use, and computes with the
    collection's placement engine how many VMs of O(template) fit on each and in total (vm5k's C(get_max_vms)),
    with the same capacity rules as M(labfarm.massclone.libvirt_farm).
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.libvirt
  - labfarm.massclone.attributes
  - labfarm.massclone.attributes.info_module
options:
  vms:
    description:
      - The farm's VM names (a noderange string or a list). Their domains count as used where they are, as
        M(labfarm.massclone.libvirt_farm) counts them, and are listed in RV(hypervisors[].farm_vms).
    type: raw
seealso:
  - module: labfarm.massclone.libvirt_farm
"""

EXAMPLES = r"""
- name: How many 256 MiB VMs fit on the hypervisors
  labfarm.massclone.libvirt_farm_info:
    hypervisors:
      - {name: hv1, uri: "qemu+ssh://root@hv1/system", pool_dir: /var/lib/libvirt/images/lab}
      - {name: hv2, uri: "qemu+ssh://root@hv2/system", pool_dir: /var/lib/libvirt/images/lab}
    template: {memory_mb: 256, vcpus: 1}
    cpu_overcommit: 4
    reserve_memory_mb: 2048
  register: farm_capacity

- name: Refuse to go on when the exam does not fit
  ansible.builtin.assert:
    that: farm_capacity.max_vms >= 120
"""

RETURN = r"""
max_vms:
  description: How many VMs of the template fit in total.
  returned: always
  type: int
  sample: 160
template:
  description: The needs counted, C({memory_mb, vcpus}).
  returned: always
  type: dict
  sample: {memory_mb: 256, vcpus: 1}
hypervisors:
  description: One entry per hypervisor.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The hypervisor's name.
      type: str
      sample: hv1
    uri:
      description: Its URI.
      type: str
      sample: qemu+ssh://root@hv1/system
    memory_mb:
      description: The node's memory in MiB, as libvirt reports it.
      type: int
      sample: 65536
    cpus:
      description: The node's CPUs.
      type: int
      sample: 16
    domains:
      description: Domains defined there.
      type: int
      sample: 12
    active_domains:
      description: Domains running there.
      type: int
      sample: 10
    used_memory_mb:
      description: Memory of the running domains.
      type: int
      sample: 20480
    used_vcpus:
      description: vCPUs of the running domains.
      type: int
      sample: 10
    free_memory_mb:
      description: Memory left for VMs (after O(reserve_memory_mb)).
      type: int
      sample: 43008
    free_vcpus:
      description: vCPUs left for VMs (after O(cpu_overcommit)).
      type: float
      sample: 54.0
    max_vms:
      description: How many VMs of the template fit there.
      type: int
      sample: 54
    domain_types:
      description: The domain types it offers (kvm, qemu, test).
      type: list
      elements: str
      sample: [kvm, qemu]
    farm_vms:
      description: The VMs of O(vms) defined there.
      type: list
      elements: str
      sample: [lab001, lab002]
    placement_host:
      description:
        - The host record M(labfarm.massclone.libvirt_farm) gives the placement engine for the VMs of O(vms) that
          are missing, C({name, memory_mb, vcpus, used_memory_mb, used_vcpus}); input for the
          P(labfarm.massclone.placement#filter) filter.
      type: dict
      sample: {name: hv1, memory_mb: 63488, vcpus: 16, used_memory_mb: 20480, used_vcpus: 10}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.farm import farm_info
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.hypervisor import libvirt_for
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import info_params, shared_argument_spec


def main():
    argument_spec = shared_argument_spec()
    argument_spec.update(vms=dict(type="raw"))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    libvirt = libvirt_for(module)
    try:
        result = farm_info(libvirt, info_params(module.params))
    except FarmError as exc:
        fail_with(module, exc)
    exit_with(module, result)


if __name__ == "__main__":
    main()
