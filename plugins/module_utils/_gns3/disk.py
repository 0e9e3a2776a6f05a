# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""GNS3 project directories on disk, read: find a project's .gns3 file, load it with our marker and what
a reset needs of its directory, and list what would change owner. Writing is apply.py's.

Standard library only: it runs on the GNS3 hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import (
    MARKER, Gns3ProjectError, Project, check_marker, check_topology)

# Projects are read and written by a few threads at once: on FUSE (zfs-fuse) and network storage
# each file operation waits on the daemon, and a batch of 100 clones spends most of its time there.
IO_WORKERS = 8


def is_topology_file(name):
    """Whether a directory entry is a project file: a .gns3 name that is not hidden. Dot-files are
    never projects: editors' and sync tools' copies (macOS ``._lab.gns3``) would otherwise count as
    corrupt projects, or as a second .gns3 file of the directory."""
    return name.endswith(".gns3") and not name.startswith(".")


def find_topology_file(path):
    """The .gns3 file of a project: `path` itself, or the one .gns3 file in directory `path`."""
    if os.path.isfile(path):
        if not path.endswith(".gns3"):
            raise Gns3ProjectError("%s is not a .gns3 file: give the project directory or its .gns3 file" % path)
        return path
    if not os.path.isdir(path):
        raise Gns3ProjectError("project path %s does not exist: give the directory of a GNS3 project "
                               "(the one holding its .gns3 file)" % path)
    files = sorted(name for name in os.listdir(path) if is_topology_file(name))
    if not files:
        raise Gns3ProjectError("%s holds no .gns3 file, so it is not a GNS3 project directory" % path)
    if len(files) > 1:
        raise Gns3ProjectError("%s holds several .gns3 files (%s) and GNS3 would open whichever it lists first: "
                               "keep one, or give the path of the .gns3 file" % (path, ", ".join(files)))
    return os.path.join(path, files[0])


def read_marker(directory):
    try:
        with open(os.path.join(directory, MARKER)) as handle:
            return check_marker(json.load(handle))
    except (IOError, OSError, ValueError):
        return None


def load_project(path):
    """The Project at `path` (a directory or its .gns3 file), checked; Gns3ProjectError naming the file."""
    topology_file = os.path.abspath(find_topology_file(path))
    directory = os.path.dirname(topology_file)
    try:
        with open(topology_file, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise Gns3ProjectError("cannot read %s: %s" % (topology_file, exc))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Gns3ProjectError("%s is not valid JSON (%s): restore it from a snapshot or a backup "
                               "(GNS3 keeps <name>.gns3.backup)" % (topology_file, exc))
    check_topology(data, topology_file)
    return Project(directory, topology_file, data, read_marker(directory),
                   real_file=os.path.realpath(topology_file), real_directory=os.path.realpath(directory))


def _node_dirs(directory):
    """{node type directory: set of entries} under project-files/."""
    found = {}
    files_dir = os.path.join(directory, "project-files")
    if os.path.isdir(files_dir):
        for kind in os.listdir(files_dir):
            kind_dir = os.path.join(files_dir, kind)
            if os.path.isdir(kind_dir):
                found[kind] = set(os.listdir(kind_dir))
    return found


def load_target(path):
    """A project to reset: load_project, plus its node directories, whether it holds snapshots, and
    whether its marker was written for this very directory."""
    project = load_project(path)
    project.node_dirs = _node_dirs(project.directory)
    snapshots = os.path.join(project.directory, "snapshots")
    project.has_snapshots = os.path.isdir(snapshots) and bool(os.listdir(snapshots))
    marker = project.marker
    project.marker_here = bool(marker) and os.path.realpath(marker.get("path", "")) == project.real_directory
    return project


def load_planned_copy(path, source):
    """A project that does not exist yet: what load_target(path) will read once `path` is a byte copy of the
    project `source` (a ZFS clone of its dataset), so a reset can be planned before the copy is made."""
    project = load_target(source)
    path = os.path.abspath(path)
    if path.endswith(".gns3"):
        directory, name = os.path.dirname(path), os.path.basename(path)
    else:
        directory, name = path, os.path.basename(project.topology_file)
    project.directory = directory
    project.topology_file = os.path.join(directory, name)
    project.real_directory = os.path.realpath(directory)
    project.real_file = os.path.join(project.real_directory, name)
    project.marker_here = False   # a copy of a project we reset is a new target (load_target's rule)
    return project


def ownership_changes(directory, uid, gid):
    """Every path under `directory` (itself included) whose owner or group differs from uid/gid (None: any)."""
    changes = []
    for base, dirs, files in os.walk(directory):
        for name in [""] + dirs + files:
            path = os.path.join(base, name) if name else base
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (uid is not None and info.st_uid != uid) or (gid is not None and info.st_gid != gid):
                changes.append(path)
    return changes
