# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options libvirt_farm and libvirt_farm_info share: the hypervisors, the VM template and the
    capacity rules; their argument spec is plugins/module_utils/_libvirt/options.py shared_argument_spec()."""

    DOCUMENTATION = r"""
options:
  hypervisors:
    description: The hypervisors, in order (placement ties go to the first).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A unique name, reported with each VM.
        type: str
        required: true
      uri:
        description: The libvirt URI, for example C(qemu:///system) or C(qemu+ssh://root@hv1/system).
        type: str
        required: true
      pool_dir:
        description:
          - Absolute directory on the hypervisor for the overlays.
          - M(labfarm.massclone.libvirt_farm_info) checks it but does not use it.
        type: str
        required: true
      memory_mb:
        description: Memory the farm may use there in MiB, instead of what libvirt reports minus O(reserve_memory_mb).
        type: int
      vcpus:
        description: CPUs instead of what libvirt reports.
        type: int
      max_vms:
        description: At most this many VMs of the batch there.
        type: int
      weight:
        description: Share for C(distribution=weighted) of M(labfarm.massclone.libvirt_farm), instead of capacity.
        type: float
  template:
    description:
      - What every VM gets.
      - M(labfarm.massclone.libvirt_farm_info) counts only O(template.memory_mb) and O(template.vcpus).
    type: dict
    default: {}
    suboptions:
      memory_mb:
        description: Memory of each VM in MiB.
        type: int
        default: 512
      vcpus:
        description: vCPUs of each VM.
        type: int
        default: 1
      disk_gb:
        description: Virtual size of each overlay in GiB; by default the backing file's size.
        type: int
      network:
        description: The libvirt network of the VM's NIC. Mutually exclusive with O(template.bridge).
        type: str
      bridge:
        description: The host bridge of the VM's NIC. Without O(template.network) and O(template.bridge) the VM has no NIC.
        type: str
      nic_model:
        description: The NIC model.
        type: str
        default: virtio
      machine:
        description: The machine type, for example C(pc) or C(q35); by default the hypervisor's.
        type: str
      arch:
        description: The guest architecture.
        type: str
        default: x86_64
      domain_type:
        description:
          - The libvirt domain type. V(auto) takes C(kvm) when the hypervisor offers it, else C(qemu) (TCG).
          - V(test) is for libvirt's test driver.
        type: str
        choices: [auto, kvm, qemu, test]
        default: auto
      boot:
        description: Boot devices in order; V(network) first boots from PXE (see M(labfarm.massclone.netboot_config)).
        type: list
        elements: str
        default: [hd]
      extra_xml:
        description:
          - XML elements added to each domain. Children of a C(<devices>) element go into the domain's
            C(<devices>); other elements into C(<domain>). For example C(<devices><serial type='pty'/></devices>).
        type: str
  cpu_overcommit:
    description: vCPUs a hypervisor may give per CPU.
    type: float
    default: 1.0
  reserve_memory_mb:
    description: Memory of each hypervisor kept for the host, not given to VMs.
    type: int
    default: 0
requirements:
  - libvirt-python 9.0 or later on the host that runs the module (for C(qemu:///system) the hypervisor itself; for
    C(qemu+ssh://) URIs any host that reaches the hypervisors, the controller or an execution environment).
  - For C(qemu+ssh://) URIs, the OpenSSH client (C(ssh)) on that host, with key access to each hypervisor.
  - libvirtd on each hypervisor, with C(qemu-img) there for the qcow2 overlays.
"""
