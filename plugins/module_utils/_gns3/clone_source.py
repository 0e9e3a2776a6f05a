# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""gns3_project_reset's ``clone.source``: the source project found by its name under the projects root, and
what its clones are by default - each one's project id (derived from the source's id and the clone's name,
as the reset derives it), directory and dataset (named after that id, as GNS3 lays projects out), and the
snapshot to clone. The caller then needs only the clones' names: one module start instead of a lookup task
and a reset task (each module task costs a few tenths of a second). Read-only, standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import derive_project_id
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.clone_set import clone_home
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm import read_farm
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError


class CloneSource:
    """The source project found, and the snapshot its clones are made from."""

    def __init__(self, name, project_id, path, snapshot):
        self.name = name
        self.project_id = project_id
        self.path = path
        self.snapshot = snapshot

    def result(self):
        return {"name": self.name, "project_id": self.project_id, "path": self.path, "snapshot": self.snapshot}


def with_source(params):
    """``(params, CloneSource)``: with ``clone.source``, params whose projects have their project_id, path and
    dataset, whose plan_from is the source and whose clone.snapshot is set (each one given stays as given);
    ``(params, None)`` without it. Raises Gns3ProjectError for a missing input or a missing or ambiguous
    source, before anything runs."""
    clone = params.get("clone") or {}
    if not clone.get("source"):
        for index, item in enumerate(params["projects"]):
            if not item.get("path"):
                raise Gns3ProjectError("projects[%d] (%s) has no path: give the project's directory, or clone.source "
                                       "to make the clones of that project under projects_root" % (index, item["name"]))
        return params, None
    root = params["projects_root"]
    projects_dataset = (clone.get("projects_dataset") or "").rstrip("/")
    if not projects_dataset:
        raise Gns3ProjectError("clone.source needs clone.projects_dataset, the ZFS dataset mounted at projects_root "
                               "%s (for example tank/gns3/projects): each clone is a dataset under it" % root)
    snapshot_name = clone.get("snapshot_name") or ""
    if not clone.get("snapshot") and (not snapshot_name or "@" in snapshot_name or "/" in snapshot_name):
        raise Gns3ProjectError("clone.snapshot_name %r is not a snapshot name: give a name such as clonesource, without "
                               "@ or /, or the whole clone.snapshot" % snapshot_name)
    found = find_source(root, clone["source"])
    snapshot = clone.get("snapshot") or "%s@%s" % (
        clone.get("source_dataset") or "%s/%s" % (projects_dataset, found.project_id), snapshot_name)
    source = CloneSource(found.name, found.project_id, found.directory, snapshot)
    projects = []
    for item in params["projects"]:
        project_id = item.get("project_id") or derive_project_id(source.project_id, item["name"])
        home = clone_home(project_id, root.rstrip("/"), projects_dataset)
        projects.append(dict(item, project_id=project_id, path=item.get("path") or home["path"],
                             dataset=item.get("dataset") or home["dataset"]))
    return dict(params, projects=projects, plan_from=params.get("plan_from") or source.path,
                clone=dict(clone, snapshot=snapshot)), source


def find_source(root, name):
    """The one project named ``name`` under ``root``. Several of that name: another run's clones not reset yet
    are byte copies of the source (same name and project_id) in directories named after their own ids, so the
    source is the one in the directory named after its project_id."""
    matches = [project for _path, project in read_farm(root)
               if not isinstance(project, Gns3ProjectError) and project.name == name]
    if len(matches) > 1:
        homes = [project for project in matches
                 if os.path.basename(os.path.normpath(project.directory)) == project.project_id]
        if len(homes) == 1:
            return homes[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise Gns3ProjectError("clone.source %r: no project under projects_root %s has that name: give the name of the "
                               "project to clone, as GNS3 shows it, present under projects_root on this host"
                               % (name, root))
    raise Gns3ProjectError("clone.source %r matches %d projects under projects_root %s (%s), and not exactly one of "
                           "them is in the directory named after its project_id: give the name of the one project "
                           "to clone" % (name, len(matches), root, ", ".join(project.directory for project in matches)))
