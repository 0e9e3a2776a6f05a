# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Writing a reset plan (plan.py) into its project directory: node directories renamed, dynamips files
renamed, snapshots dropped, the .gns3 file and our marker replaced atomically, ownership set.
Every step can be repeated, so a run cut short converges on rerun. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re
import shutil

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write
from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import parallel_map
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.disk import IO_WORKERS, ownership_changes
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import MARKER, Gns3ProjectError


def dump_topology(data):
    """Indented like a file GNS3 saved (sorted keys, 4 spaces) down to the lists of nodes, links and
    drawings, with one line per item. Python's indenting JSON encoder is pure Python and takes most
    of the reset time of a 1,000-node project; each item here goes through the C encoder."""
    return (_pretty(data, 0, 3) + "\n").encode("utf-8")


def _pretty(value, level, depth):
    if depth == 0 or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, sort_keys=True)
    pad, end = "    " * (level + 1), "    " * level
    if isinstance(value, dict):
        items = [pad + json.dumps(key) + ": " + _pretty(value[key], level + 1, depth - 1) for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    items = [pad + _pretty(item, level + 1, depth - 1) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + end + "]"


def apply_plan(plan, owner_uid=None, owner_gid=None):
    """Make the changes of one plan, then sync. Every step can be repeated: a run cut short converges on
    rerun (node directories already renamed are skipped, the topology file is replaced last but one, and
    the marker last). A batch goes through apply_plans, which syncs once for all its plans."""
    _commit(stage_plan(plan, owner_uid, owner_gid))
    os.sync()


def stage_plan(plan, owner_uid=None, owner_gid=None):
    """Everything of one plan but the two replacements: node directories and dynamips files renamed,
    snapshots dropped, ownership set, and the new topology file and marker written beside the old ones
    (not synced). Returns [(temporary, path)] in the order they must replace their files."""
    project = plan.project
    for source, target in plan.renames:
        _rename_once(source, target)
    for node_id, old, new in plan.file_renames:
        _rename_dynamips_files(project.directory, node_id, old, new)
    if plan.drop_snapshots:
        shutil.rmtree(os.path.join(project.directory, "snapshots"))
        os.mkdir(os.path.join(project.directory, "snapshots"))
    pending = []
    try:
        if plan.new_data != project.data:
            pending.append((atomic_write(project.topology_file, dump_topology(plan.new_data), like=project.topology_file,
                                         uid=owner_uid, gid=owner_gid, fsync=False, rename=False), project.topology_file))
        if plan.marker != project.marker:
            marker_path = os.path.join(project.directory, MARKER)
            pending.append((atomic_write(marker_path, json.dumps(plan.marker, indent=1, sort_keys=True).encode("utf-8"),
                                         like=project.topology_file, uid=owner_uid, gid=owner_gid, fsync=False,
                                         rename=False), marker_path))
        if owner_uid is not None or owner_gid is not None:
            for path in ownership_changes(project.directory, owner_uid, owner_gid):
                os.lchown(path, -1 if owner_uid is None else owner_uid, -1 if owner_gid is None else owner_gid)
    except BaseException:
        _discard(pending)
        raise
    return pending


def _rename_once(source, target):
    """Rename a node directory unless an earlier run did (source gone) or its target is already there: the
    rename itself tells, without a stat of each side (two FUSE lookups per node on zfs-fuse, most of the
    time of a 500-clone reset)."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise


def _commit(pending):
    """Replace each file by its temporary, in order (the topology file, then the marker)."""
    for tmp, path in pending:
        os.rename(tmp, path)


def _discard(pending):
    for tmp, dummy in pending:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def apply_plans(plans, owner_uid=None, owner_gid=None):
    """Apply the changed plans, a few projects at a time. Returns (done, failures): the directories
    finished, and [(directory, error)] for those that failed (each can be finished by a rerun).

    The new files of the whole batch are written first and made durable by one sync, then put in place
    and made durable by a second: two flushes for the batch instead of four fsyncs per project, which
    on ZFS cost a ZIL commit each (500 projects: seconds). Renames are ordered within each project."""
    def stage(plan):
        try:
            return stage_plan(plan, owner_uid=owner_uid, owner_gid=owner_gid), None
        except (IOError, OSError) as exc:
            return None, exc

    def commit(staged):
        pending, error = staged
        if error is not None:
            return error
        try:
            _commit(pending)
            return None
        except (IOError, OSError) as exc:
            _discard(pending)
            return exc

    changed = [plan for plan in plans if plan.changed]
    staged = parallel_map(stage, changed, IO_WORKERS)
    os.sync()
    errors = parallel_map(commit, staged, IO_WORKERS)
    os.sync()
    done = [plan.project.directory for plan, error in zip(changed, errors) if error is None]
    failures = [(plan.project.directory, error) for plan, error in zip(changed, errors) if error is not None]
    return done, failures


def apply_reset(plans, result, owner_uid=None, owner_gid=None):
    """apply_plans; when a project fails, a Gns3ProjectError that says exactly where the batch stopped
    and carries `result` (the module's result), since a rerun finishes the job."""
    done, failures = apply_plans(plans, owner_uid=owner_uid, owner_gid=owner_gid)
    if failures:
        raise Gns3ProjectError("writing %s failed. Projects finished: %s. Fix the cause and rerun: the reset resumes "
                               "where it stopped" % ("; ".join("%s: %s" % (path, error) for path, error in failures),
                                                     ", ".join(done) or "none"), **result)


def _rename_dynamips_files(directory, node_id, old, new):
    """Dynamips names its files after the router's dynamips_id (c7200_i1_nvram, configs/i1_startup-config.cfg)."""
    node_dir = os.path.join(directory, "project-files", "dynamips", node_id)
    for sub, pattern in (("", re.compile(r"^(.*_i)%d(_.*)$" % old)), ("configs", re.compile(r"^(i)%d(_.*)$" % old))):
        folder = os.path.join(node_dir, sub)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            match = pattern.match(name)
            if match:
                os.rename(os.path.join(folder, name), os.path.join(folder, "%s%d%s" % (match.group(1), new, match.group(2))))
