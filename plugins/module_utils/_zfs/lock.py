# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The host lock of zfs_clone: one batch at a time on a host (a flock(2) on a file in /run/lock).
Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import os
import tempfile

LOCK_NAME = "labfarm-massclone-zfs.lock"


@contextlib.contextmanager
def host_lock():
    """One zfs_clone batch at a time on a host. Batches do not interleave their clones and rollbacks,
    and zfs-fuse, which can hang when two `zfs clone` run at once, gets one at a time."""
    for directory in ("/run/lock", tempfile.gettempdir()):
        try:
            handle = open(os.path.join(directory, LOCK_NAME), "a")
            break
        except (IOError, OSError):
            handle = None
    if handle is None:   # nowhere to lock: run unserialised rather than not at all
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()
