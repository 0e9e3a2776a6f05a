#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: imaging_build
short_description: Build the network-bootable imaging system (a Debian kernel and an initramfs) from Debian packages
version_added: 0.2.0
description:
  - Builds the memory image machines boot into to be imaged - the Debian kernel and an initramfs holding
    busybox, Python 3 (so Ansible's modules run), OpenSSH's server trusting O(authorized_keys), and the tools
    imaging needs (sfdisk, util-linux, e2fsprogs, dosfstools, tar, zstd, and python3-xxhash for the ring's xxh3
    chunk checksums), with the kernel modules for common disks and NICs.
  - Runs on a Debian or Ubuntu host with apt (the controller or a build host). The packages are the versions apt
    would install (C(apt-cache show)), fetched with C(apt-get download) into O(cache_dir) and checked against apt's
    SHA256, and read in Python - no C(dpkg -i), chroot, loop mount, root or running systemd. The shared libraries
    the packages need are added by following their dependencies, and every program is checked to find its
    libraries before anything is written.
  - Reproducible - the initramfs is a newc cpio written in path order with owner 0, fixed times and inode
    numbers, compressed with a fixed gzip header, so the same inputs give the same bytes.
  - Cached - a build is kept in O(cache_dir) under the hash of its inputs (packages and versions, kernel, keys,
    init script, modules, prune patterns, compression). A later call with the same inputs finds it and reports no
    change; a new package version, key or option builds anew.
  - The kernel parameters the image's C(/init) reads (C(labfarm.hostname), C(BOOTIF), C(labfarm.ip), ...) are
    listed in the README of the role P(labfarm.massclone.imaging_system#role).
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - apt (C(apt-cache), C(apt-get download)) with the Debian bookworm package lists
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Resolves the package versions and reports whether a build would be made, and where; downloads and writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A second call with the same inputs finds the build in the cache and reports no change.
options:
  authorized_keys:
    description:
      - The OpenSSH public keys (lines as in C(authorized_keys)) that may log in as root, the controller's.
    type: list
    elements: str
    required: true
  cache_dir:
    description:
      - Where the builds and the downloaded packages are kept. Must be writable; never inside the collection.
      - Defaults to C(imaging) under C(LABFARM_CACHE) when the build host's environment sets it, else under
        C(~/.cache/labfarm).
    type: path
  packages:
    description:
      - The Debian packages of the root, as C(name) or C(name=version). Their shared library dependencies are added.
      - Defaults to busybox-static, libc6, zlib1g, python3-minimal, python3.11-minimal, libpython3.11-minimal,
        libpython3.11-stdlib, openssh-server, openssh-sftp-server, openssh-client, fdisk, util-linux, e2fsprogs,
        dosfstools, tar, zstd, python3-xxhash.
    type: list
    elements: str
  extra_packages:
    description: Packages added to O(packages) (for example C(parted) or C(pigz)).
    type: list
    elements: str
    default: []
  kernel:
    description:
      - The kernel's package - a meta package such as C(linux-image-amd64) (the kernel it depends on is taken) or a
        versioned C(linux-image-6.1.0-NN-amd64), optionally C(=version).
    type: str
    default: linux-image-amd64
  modules:
    description:
      - The kernel modules C(/init) loads, with their dependencies (read from the modules themselves). Names the
        kernel has built in are skipped; names it does not know are returned in RV(unknown_modules) with a warning.
      - Defaults to disks (virtio, AHCI, PIIX, SCSI disks and CD-ROMs, NVMe, USB storage), NICs (virtio, Intel
        e1000/e1000e/igb/ixgbe, Realtek r8169, Broadcom tg3/bnx2), filesystems (ext4 with crc32c, vfat) and loop.
    type: list
    elements: str
  extra_modules:
    description: Modules added to O(modules).
    type: list
    elements: str
    default: []
  prune:
    description: More paths left out of the root, as shell patterns on paths without the leading slash (C(usr/share/zoneinfo/*)).
    type: list
    elements: str
    default: []
  compression:
    description: How the initramfs is compressed; V(none) for an uncompressed cpio.
    type: str
    choices: [gzip, none]
    default: gzip
  init:
    description:
      - "The content of C(/init), replacing the built-in one (which brings up the network, sets the host name,
        starts sshd and prints C(labfarm-imaging: ready <hostname> <address>) on the console). It must never exit."
    type: str
  force:
    description: Build again even when the cache holds a build of the same inputs (it is replaced).
    type: bool
    default: false
notes:
  - The root logs in with O(authorized_keys) only (no password). The SSH host keys are made at each boot, so they
    differ between boots; connect with host key checking off or a known-hosts file of the session.
  - Builds of other inputs stay in O(cache_dir) (each about 35 MB); remove the C(build-*) directories no longer
    wanted. Downloaded packages are kept in C(debs/) and reused.
seealso:
  - name: The imaging system
    description: What the image holds, its size and boot time, the kernel parameters (docs/imaging_system.md).
    link: https://github.com/labfarm/massclone/blob/main/docs/imaging_system.md
"""

EXAMPLES = r"""
- name: Build the imaging system, trusting the controller's key
  labfarm.massclone.imaging_build:
    authorized_keys:
      - "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
  register: imaging

- name: Show where the kernel and initramfs are
  ansible.builtin.debug:
    msg: "{{ imaging.kernel }} {{ imaging.initrd }} ({{ imaging.initrd_size }} bytes)"

- name: With parted and a pinned kernel, kept in a directory of its own
  labfarm.massclone.imaging_build:
    authorized_keys: "{{ controller_keys }}"
    extra_packages: [parted]
    kernel: linux-image-6.1.0-57-amd64
    cache_dir: /srv/labfarm/imaging
"""

RETURN = r"""
kernel:
  description: The kernel (bzImage) to boot.
  returned: always
  type: str
  sample: /root/.cache/labfarm/imaging/build-3140fed84d7c750baeba254b/vmlinuz
initrd:
  description: The initramfs to boot it with.
  returned: always
  type: str
  sample: /root/.cache/labfarm/imaging/build-3140fed84d7c750baeba254b/initrd.img
dir:
  description: The build's directory in O(cache_dir) (also holds C(manifest.json), this result's data).
  returned: always
  type: str
  sample: /root/.cache/labfarm/imaging/build-3140fed84d7c750baeba254b
key:
  description: The SHA256 of the build's inputs.
  returned: always
  type: str
  sample: 3140fed84d7c750baeba254b2030226dd4c00663c2cdbd862337b1d4bff008b9
kernel_version:
  description: The kernel's release (C(uname -r)).
  returned: success and not check mode
  type: str
  sample: 6.1.0-57-amd64
kernel_package:
  description: The kernel's package and version.
  returned: always
  type: str
  sample: linux-image-6.1.0-57-amd64=6.1.192-3
packages:
  description: Every package of the root with its version, the library dependencies included.
  returned: always
  type: list
  elements: str
  sample: [busybox-static=1:1.35.0-4+deb12u1+b1, libc6=2.36-9+deb12u13]
modules:
  description: The modules C(/init) loads, in order.
  returned: success and not check mode
  type: list
  elements: str
  sample: [virtio_ring, virtio, virtio_pci, virtio_blk]
unknown_modules:
  description: Modules asked for that the kernel neither has as modules nor built in.
  returned: success and not check mode
  type: list
  elements: str
  sample: []
dropped:
  description: Python extension modules left out because a library they need is not in the image (curses, dbm).
  returned: success and not check mode
  type: list
  elements: str
  sample: []
kernel_size:
  description: Bytes of the kernel.
  returned: success and not check mode
  type: int
  sample: 8247232
initrd_size:
  description: Bytes of the initramfs as written.
  returned: success and not check mode
  type: int
  sample: 27560430
initrd_uncompressed_size:
  description: Bytes of the uncompressed cpio archive (what the booted machine holds in memory).
  returned: success and not check mode
  type: int
  sample: 76722948
files:
  description: How many paths the root holds.
  returned: success and not check mode
  type: int
  sample: 1124
downloaded:
  description: The packages this call downloaded (the others were in the cache).
  returned: always
  type: list
  elements: str
  sample: []
seconds:
  description: How long the call took.
  returned: success and not check mode
  type: float
  sample: 28.8
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.build import BuildError, build
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.options import check_options


def main():
    module = AnsibleModule(
        argument_spec=dict(
            authorized_keys=dict(type="list", elements="str", required=True, no_log=False),
            cache_dir=dict(type="path"),
            packages=dict(type="list", elements="str"),
            extra_packages=dict(type="list", elements="str", default=[]),
            kernel=dict(type="str", default="linux-image-amd64"),
            modules=dict(type="list", elements="str"),
            extra_modules=dict(type="list", elements="str", default=[]),
            prune=dict(type="list", elements="str", default=[]),
            compression=dict(type="str", default="gzip", choices=["gzip", "none"]),
            init=dict(type="str"),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        settings = check_options(module.params, os.environ)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        result = build(settings, check_mode=module.check_mode)
    except (BuildError, OSError) as exc:
        fail_with(module, exc)
    if result.get("unknown_modules"):
        result["warnings"] = ["kernel modules the kernel does not have (neither modules nor built in): %s"
                              % ", ".join(result["unknown_modules"])]
    exit_with(module, result)


if __name__ == "__main__":
    main()
