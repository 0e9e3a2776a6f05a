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
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import identity, identity_diff


class DiskError(Exception):
    """A step on the disk failed; the message names the device and the command."""


# The package of the imaging system that brings each program (for the message when it is missing).
_PACKAGES = {"mount": "mount", "umount": "mount", "blkid": "util-linux", "blockdev": "util-linux",
             "ssh-keygen": "openssh-client"}


def _run_command(argv, timeout=120):
    """The one place where this file starts a process: (rc, stdout, stderr) of argv. A program that cannot be
    started gives rc 127, one that runs longer than timeout seconds is killed and gives rc 124, with the reason in
    stderr: never an exception. Unit tests replace this function."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              errors="replace", timeout=timeout, check=False)
    except OSError as exc:
        return 127, "", "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    except subprocess.TimeoutExpired:
        return 124, "", "killed after %d s without an answer" % timeout
    return proc.returncode, proc.stdout, proc.stderr


def _run(argv, device, fix, timeout=120):
    """stdout of argv; DiskError naming device, the command, its words and fix when it fails (rc 127: the
    imaging system lacks the program, and the fix says which package brings it)."""
    rc, out, err = _run_command(argv, timeout=timeout)
    if rc != 0:
        if rc == 127 and os.path.basename(argv[0]) in _PACKAGES:
            fix = "the imaging system needs %s (Debian package %s in imaging_system_extra_packages)" % (
                os.path.basename(argv[0]), _PACKAGES[os.path.basename(argv[0])])
        words = (err or out).strip() or "no message"
        raise DiskError("%s: %s failed (rc=%d): %s%s" % (device, " ".join(argv), rc, words, "; " + fix if fix else ""))
    return out


def reread_partitions(device):
    """Make the kernel read the partition table the ring just wrote (it still knows the old one)."""
    if os.path.exists(device) and not os.path.basename(device)[-1:].isdigit():
        try:
            _run(["blockdev", "--rereadpt", device], device, "")
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
                    found = _run(["blkid", "-s", "LABEL", "-o", "value", "/dev/" + part], "/dev/" + part, "").strip()
                except DiskError:
                    continue
                if found == label:
                    return "/dev/" + part
        if time.time() > deadline:
            raise DiskError("%s has no partition %s (partitions: %s); give the root partition's label (label) or number (partition)" % (
                device, number if number else "labelled %r" % label, ", ".join(parts) or "none"))
        time.sleep(0.5)


@contextlib.contextmanager
def mounted(partition, readonly):
    """The path where partition (a block device, or a file holding a file system: mounted through a loop device)
    is mounted for the time of the with block."""
    where = tempfile.mkdtemp(prefix="labfarm-identity-")
    options = ("ro" if readonly else "rw") + (",loop" if os.path.isfile(partition) else "")
    try:
        _run(["mount", "-o", options, partition, where], partition,
             "the imaging system's kernel needs the module of its file system (imaging_system_extra_modules), "
             "and the partition must not be mounted elsewhere")
        try:
            yield where
        finally:
            _run(["umount", where], partition, "a process still uses %s (the hook?): stop it and umount it" % where)
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


def apply(root, changes, hostname, device=None):
    """Write changes (identity.plan's answer) into the system mounted at root (device's, named in errors);
    returns its new identity."""
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
        _run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@" + hostname, "-f", path], device or root,
             "is the root file system full or read-only?")
    now = read_identity(root)
    if changes["changes"]:
        _write(root, identity.MARKER, json.dumps(identity.marker(hostname, now["machine_id"].strip(), now["host_keys"]),
                                                 sort_keys=True) + "\n", 0o644)
    return now


def root_of(device, label=None, number=None):
    """The root file system to personalise: device itself when it is a file (a file system image, as the tests
    make), else its partition numbered number or labelled label, after the kernel read its partition table again."""
    if os.path.isfile(device):
        return device
    reread_partitions(device)
    return find_partition(device, label=label, number=number)


def personalise(device, hostname, label=None, number=None, check=False, hook=None):
    """Find the root partition of device, plan and (unless check) write the identity of hostname;
    hook is a command run with the mounted root as its argument after the identity is written.
    Returns the module's result, with its diff (identity_diff.build: host name, machine-id and host key
    fingerprints before and after; in check mode the after side is what the run would write)."""
    partition = root_of(device, label=label, number=number)
    with mounted(partition, readonly=check) as root:
        current = read_identity(root)
        changes = identity.plan(current, hostname)
        result = {"changed": bool(changes["changes"]), "changes": list(changes["changes"]), "partition": partition,
                  "hostname": hostname}
        if check:
            if hook:
                result["changes"].append("hook %s would run" % " ".join(hook))
                result["changed"] = True
            result.update(machine_id=(current["machine_id"] or "").strip(), host_keys=current["host_keys"],
                          diff=identity_diff.build(device, partition, current, changes=changes))
            return result
        now = apply(root, changes, hostname, device=partition)
        if hook:
            result["hook"] = _run(list(hook) + [root], partition, "the identity was written; fix the hook and run it again",
                                  timeout=600).strip()
            result["changed"] = True
        os.sync()
        result.update(machine_id=now["machine_id"].strip(), host_keys=now["host_keys"],
                      diff=identity_diff.build(device, partition, current, after=now))
        return result
