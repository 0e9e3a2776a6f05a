# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""gns3_project_reset with its ``clone`` option: the projects' datasets are made in the same call, as ZFS
clones of one snapshot (_zfs/batch.py), so that one module start decides, clones and resets a batch (each
module task of a play costs a few tenths of a second, more than the reset of 100 clones itself).

All under the farm lock of the projects root, then the host's zfs lock (nothing takes them the other way):
1. plan the batch, each missing project planned as the copy of ``plan_from`` it will be: an exhausted range,
   a bad project under the root or a bad input is refused before the first dataset is made;
2. clone the snapshot into each missing project's dataset (a clone failing mid-batch rolls the batch back);
3. plan again from the files the clones hold (a snapshot made earlier may differ from ``plan_from`` today)
   and write. A failure there destroys what step 2 made, and the error says so."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.batch import run as run_batch, undo_present
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import host_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.options import property_args
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.plan import check_targets

# What the result's `clone` keeps of the zfs batch's result (its per-dataset entries and commands are
# for zfs_clone; here they would only make the result bigger).
RESULT_KEYS = ("snapshot", "snapshot_created", "created", "existing", "parents_created")


class CloneRequest:
    """The checked ``clone`` option: the snapshot, and the dataset of each project, in order."""

    def __init__(self, snapshot, datasets, create_snapshot, recursive, properties):
        self.snapshot = snapshot
        self.datasets = datasets
        self.create_snapshot = create_snapshot
        self.recursive = recursive
        self.properties = properties

    def batch(self, cli, check_mode=False):
        return run_batch(cli, self.datasets, snapshot=self.snapshot, create_snapshot=self.create_snapshot,
                         properties=self.properties, recursive=self.recursive, rollback=True, check_mode=check_mode)


def clone_request(params):
    """The ``clone`` option checked, with every project's dataset, before anything runs; None without it."""
    clone = params.get("clone")
    if not clone:
        return None
    snapshot = clone.get("snapshot") or ""
    if "@" not in snapshot:
        raise Gns3ProjectError("clone.snapshot %r is not a snapshot: give it as pool/dataset@name, for example "
                               "tank/gns3/projects/<source project_id>@massclone, or clone.source" % snapshot)
    if not params.get("plan_from"):
        raise Gns3ProjectError("clone needs plan_from, the source project (its directory or .gns3 file) the "
                               "snapshot was taken of, or clone.source, its name: the batch is planned from it before "
                               "any dataset is made")
    datasets = []
    for index, item in enumerate(params["projects"]):
        if not item.get("dataset"):
            raise Gns3ProjectError("projects[%d] (%s) has no dataset: with clone, give each project the dataset to "
                                   "clone into, the one mounted at its path" % (index, item["name"]))
        datasets.append(item["dataset"])
    try:
        property_args(clone.get("properties") or {})
        check_targets(snapshot, datasets, clone.get("recursive", False))
    except ZfsError as error:
        raise Gns3ProjectError("clone: %s" % error)
    return CloneRequest(snapshot, datasets, clone.get("create_snapshot", False), clone.get("recursive", False),
                        clone.get("properties") or {})


def clone_then(request, cli, plan_copies, plan_and_write, paths, timeout):
    """Run steps 1-3 (the caller holds the farm lock). ``plan_copies()`` plans with the planned copies (the
    verdict), ``plan_and_write()`` plans the real files and writes, returning the result. Returns that result
    with ``clone`` (what the batch made) and ``durations`` (seconds of each step) added. ``paths``: the
    projects' paths, in the order of their datasets."""
    try:
        with host_lock(timeout):
            started = time.time()
            plan_copies()
            planned = time.time()
            made = request.batch(cli)
            cloned = time.time()
            try:
                result = plan_and_write()
            except Exception as error:   # whatever failed, the datasets this call made must not stay behind
                undone, left, snapshot_left = _undo(cli, made, dict(zip(request.datasets, paths)))
                message = error.msg if isinstance(error, Gns3ProjectError) else "resetting the clones failed: %r" % error
                raise Gns3ProjectError("%s -- %s" % (message, undone),
                                       clone=dict(_kept(made), created=left, snapshot_created=snapshot_left))
    except ZfsError as error:   # refused or rolled back by the batch itself: the farm is as it was
        result = getattr(error, "result", {})
        raise Gns3ProjectError("clone: %s" % error, clone=dict(_kept(result), created=result.get("created", [])))
    result["clone"] = _kept(made)
    result["changed"] = result["changed"] or made["changed"]
    result["durations"] = {"plan": round(planned - started, 3), "clone": round(cloned - planned, 3),
                           "reset": round(time.time() - cloned, 3)}
    return result


def check_clone(request, cli):
    """The ``clone`` part of a check-mode result: what the batch would make."""
    try:
        return _kept(request.batch(cli, check_mode=True))
    except ZfsError as error:
        raise Gns3ProjectError("clone: %s" % error)


def _kept(result):
    return dict((key, result.get(key, False if key == "snapshot_created" else [])) for key in RESULT_KEYS
                if key != "snapshot" or key in result)


def _undo(cli, made, path_of):
    """Destroy what the batch made and remove the empty mountpoints it leaves (``path_of``: dataset -> project
    path). Returns the sentence that says so, the datasets still there, and whether the snapshot this call
    took is still there."""
    created = made.get("created", [])
    if not created:
        return "no dataset had been made: nothing was changed", [], False
    destroyed, problems = undo_present(cli, made)
    for path in [path_of[name] for name in destroyed if name in path_of]:
        try:
            os.rmdir(path)   # only an empty directory: never files someone left there
        except OSError:
            pass
    left = [name for name in created if name not in destroyed]
    snapshot_left = bool(made.get("snapshot_created")) and made["snapshot"] not in destroyed
    if problems:
        return ("this call made %d datasets and could not destroy them all (%s): destroy by hand %s"
                % (len(created), "; ".join(problems), ", ".join(left) or "the snapshot " + made["snapshot"]),
                left, snapshot_left)
    return ("this call destroyed the datasets it had made (%s)%s: nothing was changed"
            % (", ".join(created), " and the snapshot " + made["snapshot"] if made.get("snapshot_created") else ""),
            left, snapshot_left)
