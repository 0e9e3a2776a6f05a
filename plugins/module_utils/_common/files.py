# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Atomic file replacement shared by the modules that write configuration and project files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile


def atomic_write(path, content, like=None, uid=None, gid=None, fsync=True, rename=True):
    """Write bytes to path through a temporary file in the same directory, fsync, rename, fsync the
    directory. The new file takes the mode and ownership of `like` (by default the file it replaces;
    0644 when there is none); uid/gid, when given, set the owner instead.

    With rename=False the temporary path is returned for the caller to rename, after one os.sync()
    for a whole batch (thousands of small files), instead of an fsync each."""
    directory = os.path.dirname(path)
    if rename:
        handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    else:
        # Bulk: a name of our own (pid) is much cheaper than mkstemp's random retries; O_EXCL still
        # refuses to follow anything planted there.
        tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
        if os.path.lexists(tmp):
            os.unlink(tmp)
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        like = like or path
        owner, group = -1, -1
        if os.path.exists(like):
            info = os.stat(like)
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
            owner, group = info.st_uid, info.st_gid
        else:
            os.chmod(tmp, 0o644)
        owner = owner if uid is None else uid
        group = group if gid is None else gid
        if (owner, group) != (-1, -1):
            try:
                os.chown(tmp, owner, group)
            except OSError:
                if uid is not None or gid is not None:
                    raise   # asked for, so not optional
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
