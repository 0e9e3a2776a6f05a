#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: disk_identity
short_description: Give the system on a freshly imaged disk its own host name, machine-id and SSH host keys
version_added: 0.2.0
description:
  - Runs on a node booted into the imaging system (docs/imaging_system.md), after the disk was written from a golden
    image, without starting the installed system. It finds the installed system's root partition on O(device) (by
    O(label) or O(partition)), mounts it in the imaging system's kernel, and writes the node's identity there.
  - C(/etc/hostname) and the C(127.0.1.1) line of C(/etc/hosts) name O(hostname); C(/etc/machine-id) (and
    C(/var/lib/dbus/machine-id) when it is a file) gets a new random id; the SSH host keys of the types the golden
    system has (ed25519, ECDSA, RSA) are regenerated with C(ssh-keygen). So no two machines imaged from one golden
    disk share an identity.
  - The identity given is recorded in C(/etc/labfarm/identity.json) on that disk; a second run finds it and changes
    nothing. A disk copied again from the golden image has no such record (or another one), and gets a new identity.
  - Used by the role labfarm.massclone.image_nodes.
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - on the node (the imaging system has them all) C(mount) and C(umount), C(blkid) and C(blockdev) (util-linux), C(ssh-keygen) (openssh-client)
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Mounts the partition read-only, writes nothing, and reports changed with what would change in RV(changes)
        (the machine-id and host keys are made when written, so the diff says C(a new random one) and C(a new key)).
  diff_mode:
    support: full
    details:
      - The host name, the machine-id and the SHA256 fingerprint of every SSH host key (as C(ssh-keygen -l) shows
        them; never a private key), before and after, with headers naming the partition and O(device).
  idempotent:
    support: full
    details:
      - A second run with the same host name finds its own record and reports no change.
options:
  device:
    description:
      - The disk written by the ring (C(/dev/vda), C(/dev/sda), C(/dev/nvme0n1)). Its partition table is read again first.
      - A regular file is taken as the root file system itself (an image made with C(mkfs.ext4 -d), say) and mounted
        through a loop device; O(label) and O(partition) do not apply to it.
    type: path
    required: true
  hostname:
    description: The node's host name.
    type: str
    required: true
  label:
    description: The file system label of the installed system's root partition. Used when O(partition) is not given.
    type: str
    default: labfarm-root
  partition:
    description: The root partition's number on O(device) (2 for C(/dev/vda2) or C(/dev/nvme0n1p2)); wins over O(label).
    type: int
  hook:
    description:
      - A command (argument list) run after the identity is written, with the mounted root's path as its last
        argument, for what a site adds (a network configuration, a key). Its output is returned in RV(hook).
        The module then always reports a change.
    type: list
    elements: str
    default: []
notes:
  - Needs C(mount), C(umount), C(blkid), C(blockdev) and C(ssh-keygen), which the imaging system has, and a kernel that
    can mount the root partition's file system.
seealso:
  - module: labfarm.massclone.ring_copy
"""

EXAMPLES = r"""
- name: Give the imaged system its own identity
  labfarm.massclone.disk_identity:
    device: /dev/vda
    hostname: "{{ inventory_hostname }}"
    label: labfarm-root

- name: Show what would change (run with --check --diff), writing nothing
  labfarm.massclone.disk_identity:
    device: /dev/vda
    hostname: "{{ inventory_hostname }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
partition:
  description: The root partition found.
  returned: always
  type: str
  sample: /dev/vda2
hostname:
  description: The host name the system has now.
  returned: always
  type: str
  sample: node001
machine_id:
  description: Its machine-id now (in check mode, the current one).
  returned: always
  type: str
  sample: 5f2c4a0e9b1d4e7f8a6c3b2d1e0f9a8b
host_keys:
  description: Its SSH host public keys by type, C(type base64) (in check mode, the current ones).
  returned: always
  type: dict
  sample: {ed25519: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI..."}
changes:
  description: What was (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: ["hostname golden -> node001", "machine-id 0123... -> a new one", "SSH host keys regenerated: ed25519, ecdsa"]
hook:
  description: The output of O(hook).
  returned: when O(hook) is given and not in check mode
  type: str
  sample: ""
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes.identity import hostname_problem
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes.identity_disk import DiskError, personalise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(type="path", required=True),
            hostname=dict(type="str", required=True),
            label=dict(type="str", default="labfarm-root"),
            partition=dict(type="int"),
            hook=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    problem = hostname_problem(module.params["hostname"])
    if problem:
        module.fail_json(msg="hostname: %s" % problem)
    try:
        result = personalise(module.params["device"], module.params["hostname"], label=module.params["label"],
                             number=module.params["partition"], check=module.check_mode, hook=module.params["hook"])
    except (DiskError, OSError, ValueError) as exc:
        fail_with(module, exc, device=module.params["device"])
    exit_with(module, result)


if __name__ == "__main__":
    main()
