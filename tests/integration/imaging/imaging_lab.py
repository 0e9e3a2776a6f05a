# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the imaging tests and their fixtures share (a module of its own: "conftest" is not a unique name)."""

import sys

TOOLS = ("qemu-system-x86_64", "apt-get", "apt-cache", "ssh", "ssh-keygen", "sfdisk", "mkfs.ext4", "mkfs.vfat",
         "mcopy", "syslinux", "debugfs")
NODE = "lab-node-1"
MAC = "52:54:00:4c:46:01"
BOOT_TIMEOUT = 300


FIGURES = []


def report(text):
    """A figure the tests print (sizes, build and boot times): shown in the terminal summary even under pytest -q
    (conftest's pytest_terminal_summary), and on stderr for -s."""
    FIGURES.append(text)
    sys.stderr.write("\n[imaging] %s\n" % text)
