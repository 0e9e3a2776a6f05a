# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The host lock of zfs_clone: one batch at a time on a host (a lock file in /run/lock), with a bounded
wait that names the holder (_common.locks). Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import tempfile

from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import DEFAULT_TIMEOUT, LockTimeout, bounded_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsError

LOCK_NAME = "labfarm-massclone-zfs.lock"
LOCK_DIRS = ("/run/lock", tempfile.gettempdir())


@contextlib.contextmanager
def host_lock(timeout=DEFAULT_TIMEOUT, directories=LOCK_DIRS):
    """One zfs_clone batch at a time on a host. Batches do not interleave their clones and rollbacks,
    and zfs-fuse, which can hang when two `zfs clone` run at once, gets one at a time. A batch waits at
    most `timeout` seconds (a hung zfs must not block every later job for ever): then a ZfsError names
    the holder, before any zfs command ran."""
    lock = None
    for directory in directories:
        if os.path.isdir(directory) and os.access(directory, os.W_OK):
            lock = bounded_lock(os.path.join(directory, LOCK_NAME), timeout, purpose="zfs_clone", option="lock_timeout")
            break
    if lock is None:   # nowhere to lock: run unserialised rather than not at all
        yield
        return
    try:
        lock.__enter__()
    except LockTimeout as exc:
        raise ZfsError("another zfs_clone batch is running on this host, and no zfs command was run: %s. A zfs "
                       "command that hangs (zfs-fuse) keeps it: see `ps -p %s` there" % (exc, exc.holder.get("pid", "?")))
    except (IOError, OSError):   # the lock file cannot be opened or locked: run unserialised
        yield
        return
    try:
        yield
    finally:
        lock.__exit__(None, None, None)
