# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Atomic file replacement shared by the modules that write configuration and project files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import tempfile


def atomic_write(path, content, like=None, uid=None, gid=None, fsync=True, rename=True):
    """Write bytes to path through a temporary file in the same directory, fsync, rename, fsync the
    directory. The new file takes the mode and ownership of `like` (by default the file it replaces;
    0644 when there is none); uid/gid, when given, set the owner instead.

    With rename=False the temporary path is returned for the caller to rename, after one os.sync()
    for a whole batch (thousands of small files), instead of an fsync each.

    Every file system call counts on FUSE (zfs-fuse: a round trip each), so the mode and owner are set
    only when the new file does not have them already, and a stale temporary is removed only when the
    exclusive create finds one."""
    directory = os.path.dirname(path)
    like = like or path
    try:
        info = os.stat(like)
        mode, owner, group = stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid
    except OSError:
        mode, owner, group = 0o644, -1, -1
    owner = owner if uid is None else uid
    group = group if gid is None else gid
    if rename:
        handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    else:
        # Bulk: a name of our own (pid) is much cheaper than mkstemp's random retries; O_EXCL still
        # refuses to follow anything planted there.
        tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
        try:
            handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
            os.unlink(tmp)      # left by a run of ours that was cut short
            handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            have = os.fstat(out.fileno())
            if stat.S_IMODE(have.st_mode) != mode:
                os.fchmod(out.fileno(), mode)
            if (owner, group) != (-1, -1) and (owner not in (-1, have.st_uid) or group not in (-1, have.st_gid)):
                try:
                    os.fchown(out.fileno(), owner, group)
                except OSError:
                    if uid is not None or gid is not None:
                        raise   # asked for, so not optional
            out.write(content)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        if not rename:
            return tmp
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(directory)
    return path


def fsync_dir(directory):
    """Make a rename in `directory` durable; a file system that cannot fsync a directory is let be."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
