# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The files of the DHCP daemon and the TFTP root: reading what is live, writing the candidate the
daemon's config test reads, and applying a plan (plan.py).

Nothing is written until every check has passed; files are replaced atomically and a file whose
content is unchanged is left alone (its mtime too). Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import shutil
import tempfile

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write, fsync_dir

BULK_WRITES = 32


def read_text(path):
    """A file's text, or None when it cannot be read (absent)."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (IOError, OSError):
        return None


def list_dir(directory):
    """The entries of a directory; [] when it cannot be listed (absent)."""
    try:
        return os.listdir(directory)
    except OSError:
        return []


def write_candidates(the_plan, backend):
    """The main file as the daemon test must see it, in a private temporary directory of the system's
    temporary directory, never in the live configuration directory: check mode writes nothing there, and
    a fresh host whose configuration directory does not exist yet is still tested. The candidate names
    every other file by its absolute path, so where it sits does not matter. Returns (tempdir, path)."""
    tempdir = tempfile.mkdtemp(prefix="labfarm-netboot-test-")
    name = os.path.basename(the_plan.main_path)
    path = os.path.join(tempdir, name)
    with open(path, "wb") as out:
        out.write(the_plan.candidates["main"].encode("utf-8"))
    return tempdir, path


def apply_plan(the_plan, backup=False, timestamp=None):
    """Write what changed (directories created as needed), remove stale per-MAC files. Returns the
    list of backup files made."""
    backups = []
    stamp = timestamp or datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")
    directories = set()
    for path in sorted(the_plan.writes, key=lambda p: p != the_plan.main_path):
        directory = os.path.dirname(path)
        if directory not in directories:
            if not os.path.isdir(directory):
                os.makedirs(directory)
            directories.add(directory)
    # The main file last: the dnsmasq hosts file must exist before the file that names it.
    order = [p for p in the_plan.writes if p != the_plan.main_path]
    if the_plan.main_path in the_plan.writes:
        order.append(the_plan.main_path)
    # A file at a time with its own fsync costs ~0.35 ms each: 20,000 PXE files would take 7 s.
    # Write every temporary file, flush them all to disk with one sync, then rename each.
    bulk = len(order) > BULK_WRITES and hasattr(os, "sync")
    pending = []
    renamed = 0
    try:
        for path in order:
            if backup and os.path.exists(path):
                copy = "%s.%s~" % (path, stamp)
                shutil.copy2(path, copy)
                backups.append(copy)
            if bulk:
                pending.append((atomic_write(path, the_plan.writes[path], fsync=False, rename=False), path))
            else:
                atomic_write(path, the_plan.writes[path])
        if pending:
            os.sync()
            for done, (tmp, path) in enumerate(pending):
                os.rename(tmp, path)
                renamed = done + 1
    finally:
        for tmp, path in pending[renamed:]:
            if os.path.exists(tmp):
                os.unlink(tmp)
    for path in the_plan.removals:
        if backup:
            copy = "%s.%s~" % (path, stamp)
            shutil.copy2(path, copy)
            backups.append(copy)
        os.unlink(path)
        directories.add(os.path.dirname(path))
    for directory in directories:
        fsync_dir(directory)
    return backups
