# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The disk side of labfarm.massclone.disk_identity: find the installed system's root partition on a disk
just written by the ring, mount it in the imaging system's own kernel, read its identity files and write the new
ones (ssh-keygen for the host keys). Standard library only: it runs on the node, in the imaging system.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import subprocess
import tempfile
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import identity


class DiskError(Exception):
    """A step on the disk failed; the message names the device and the command."""


def _run(argv, timeout=120):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise DiskError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode, (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def reread_partitions(device):
    """Make the kernel read the partition table the ring just wrote (it still knows the old one)."""
    if os.path.exists(device) and not os.path.basename(device)[-1:].isdigit():
        try:
            _run(["blockdev", "--rereadpt", device])
        except DiskError:
            pass     # a disk whose table did not change, or a partition given directly


def find_partition(device, label=None, number=None, timeout=10.0):
    """The root partition: number on device (vda2, nvme0n1p2), or the partition of device whose
    file system carries label."""
    base = os.path.basename(device)
    deadline = time.time() + timeout
    while True:
        parts = sorted(p for p in os.listdir("/sys/class/block/%s" % base) if p.startswith(base)) \
            if os.path.isdir("/sys/class/block/%s" % base) else []
        if number:
            wanted = [p for p in parts if p in (base + str(number), base + "p" + str(number))]
            if wanted:
                return "/dev/" + wanted[0]
        elif label:
            for part in parts:
                try:
                    found = _run(["blkid", "-s", "LABEL", "-o", "value", "/dev/" + part]).strip()
                except DiskError:
                    continue
                if found == label:
                    return "/dev/" + part
        if time.time() > deadline:
            raise DiskError("%s has no partition %s (partitions: %s)" % (
                device, number if number else "labelled %r" % label, ", ".join(parts) or "none"))
        time.sleep(0.5)


@contextlib.contextmanager
def mounted(partition, readonly):
    where = tempfile.mkdtemp(prefix="labfarm-identity-")
    try:
        _run(["mount", "-o", "ro" if readonly else "rw", partition, where])
        try:
            yield where
        finally:
            _run(["umount", where])
    finally:
        os.rmdir(where)


def _read(root, path):
    try:
        with open(os.path.join(root, path)) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def read_identity(root):
    """The identity files of the system mounted at root."""
    keys = {}
    for kind in identity.KEY_TYPES:
        public = _read(root, "etc/ssh/ssh_host_%s_key.pub" % kind)
        if public is not None:
            keys[kind] = " ".join(public.split()[:2])
    marker = _read(root, identity.MARKER)
    try:
        marker = json.loads(marker) if marker else None
    except ValueError:
        marker = None
    return {"hostname": _read(root, "etc/hostname"), "machine_id": _read(root, "etc/machine-id"),
            "hosts": _read(root, "etc/hosts"), "marker": marker, "host_keys": keys}


def _write(root, path, text, mode):
    full = os.path.join(root, path)
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full), 0o755)
    atomic_write(full, text.encode("utf-8"))
    os.chmod(full, mode)


def apply(root, changes, hostname):
    """Write changes (identity.plan's answer) into the system mounted at root; returns its new identity."""
    if changes["hostname"]:
        _write(root, "etc/hostname", hostname + "\n", 0o644)
    if changes["hosts"] is not None:
        _write(root, "etc/hosts", changes["hosts"], 0o644)
    if changes["machine_id"]:
        _write(root, "etc/machine-id", changes["machine_id"] + "\n", 0o444)
        dbus = os.path.join(root, "var/lib/dbus/machine-id")
        if os.path.isfile(dbus) and not os.path.islink(dbus):
            _write(root, "var/lib/dbus/machine-id", changes["machine_id"] + "\n", 0o444)
    ssh = os.path.join(root, "etc/ssh")
    for kind in changes["regenerate_keys"]:
        if not os.path.isdir(ssh):
            os.makedirs(ssh, 0o755)
        path = os.path.join(ssh, "ssh_host_%s_key" % kind)
        for old in (path, path + ".pub"):
            if os.path.exists(old):
                os.unlink(old)
        _run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@" + hostname, "-f", path])
    now = read_identity(root)
    if changes["changes"]:
        _write(root, identity.MARKER, json.dumps(identity.marker(hostname, now["machine_id"].strip(), now["host_keys"]),
                                                 sort_keys=True) + "\n", 0o644)
    return now


def personalise(device, hostname, label=None, number=None, check=False, hook=None):
    """Find the root partition of device, plan and (unless check) write the identity of hostname;
    hook is a command run with the mounted root as its argument after the identity is written.
    Returns the module's result."""
    reread_partitions(device)
    partition = find_partition(device, label=label, number=number)
    with mounted(partition, readonly=check) as root:
        current = read_identity(root)
        changes = identity.plan(current, hostname)
        result = {"changed": bool(changes["changes"]), "changes": changes["changes"], "partition": partition,
                  "hostname": hostname}
        if check:
            result.update(machine_id=(current["machine_id"] or "").strip(), host_keys=current["host_keys"])
            return result
        now = apply(root, changes, hostname)
        if hook:
            result["hook"] = _run(list(hook) + [root], timeout=600).strip()
            result["changed"] = True
        os.sync()
        result.update(machine_id=now["machine_id"].strip(), host_keys=now["host_keys"])
        return result
