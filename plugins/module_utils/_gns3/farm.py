# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The farm scan: every project under a GNS3 server's projects_path, as both gns3_project_reset (whose
clones must not collide with any of them) and gns3_project_info (which reports them) see it.

The rule: each directory directly under the root is a project directory when it holds a .gns3 file,
as GNS3's own scan of projects_path sees it, and every .gns3 file in it counts; names that start with
a dot are not project files (disk.is_topology_file), so a hidden copy never counts as a project.

Standard library only: it runs on the GNS3 hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import parallel_map
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.disk import IO_WORKERS, is_topology_file, load_project
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError


def topology_files(root, skip_dirs=()):
    """[.gns3 path] of every project directly under `root`, directories and files in name order.
    Directories whose real path is in `skip_dirs` are left out (the reset's own targets)."""
    if not os.path.isdir(root):
        raise Gns3ProjectError("projects_root %s is not a directory: give the GNS3 server's projects_path" % root)
    try:
        entries = sorted(os.listdir(root))
    except (IOError, OSError) as exc:
        raise Gns3ProjectError("cannot list projects_root %s: %s" % (root, exc))
    found = []
    for entry in entries:
        directory = os.path.abspath(os.path.join(root, entry))
        if not os.path.isdir(directory) or (skip_dirs and os.path.realpath(directory) in skip_dirs):
            continue
        try:
            names = sorted(name for name in os.listdir(directory) if is_topology_file(name))
        except (IOError, OSError):
            continue
        found.extend(os.path.join(directory, name) for name in names)
    return found


def _load_or_error(path):
    try:
        return load_project(path)
    except Gns3ProjectError as exc:
        return exc


def read_farm(root, skip_dirs=()):
    """[(path, Project or the Gns3ProjectError that refused it)] for topology_files(root, skip_dirs),
    read IO_WORKERS files at a time, in the same order."""
    paths = topology_files(root, skip_dirs)
    return list(zip(paths, parallel_map(_load_or_error, paths, IO_WORKERS)))
