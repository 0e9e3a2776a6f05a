# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The farm lock of a projects root: gns3_project_reset holds it from the farm scan to its last write, so
two resets on one root (two jobs, or two servers that mount one NAS directory) never hand out the same
console port, MAC or id. The lock file is a dot-file in the root itself, so every host that mounts the
directory locks the same file; the farm scan never reads it (it is no directory), nor does GNS3.
The lock itself is _common.locks'. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os

from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import LockTimeout, bounded_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError

FARM_LOCK = ".labfarm-farm.lock"


def farm_lock_path(root):
    return os.path.join(root, FARM_LOCK)


@contextlib.contextmanager
def farm_lock(root, timeout):
    """Hold the farm lock of projects root `root` for the `with` block, waiting at most `timeout` seconds.
    Gns3ProjectError, before anything is read or written, when it cannot be had."""
    if not os.path.isdir(root):
        raise Gns3ProjectError("projects_root %s is not a directory: give the GNS3 server's projects_path" % root)
    lock = bounded_lock(farm_lock_path(root), timeout, purpose="gns3_project_reset", option="lock_timeout")
    try:
        held = lock.__enter__()
    except LockTimeout as exc:
        raise Gns3ProjectError("another gns3_project_reset is working on projects_root %s, and nothing was written: %s"
                               % (root, exc))
    except (IOError, OSError) as exc:
        raise Gns3ProjectError("cannot lock projects_root %s (%s: %s), and nothing was written: the reset needs to "
                               "create and lock that file (on NFS, a v4 mount or lockd for v3)"
                               % (root, farm_lock_path(root), exc))
    try:
        yield held
    finally:
        lock.__exit__(None, None, None)
