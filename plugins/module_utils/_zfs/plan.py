# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The plan of a zfs_clone batch: from the listings of datasets and snapshots, what would be created or
destroyed, or a ZfsCloneError that names every conflict before anything is changed. check_mode runs
the same planning and stops there. Pure, standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsCloneError, ZfsNameError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.names import (
    MAX_NAME_LEN, ancestors, common_root, depth, parent)

Item = namedtuple("Item", "name origin action")


class Plan:
    """What a batch does: items in execution order, and what it needs first."""

    def __init__(self, state, snapshot, root):
        self.state = state
        self.snapshot = snapshot
        self.source, self.snapname = snapshot.split("@", 1)
        self.root = root
        self.items = []
        self.create_snapshot = False
        self.parents = []
        self.warnings = []

    def names(self, action):
        return [item.name for item in self.items if item.action == action]

    @property
    def changed(self):
        return self.create_snapshot or any(item.action in ("create", "destroy") for item in self.items)


def _describe(dataset):
    if dataset.origin is None:
        return "%s (exists and is not a clone)" % dataset.name
    return "%s (a clone of %s)" % (dataset.name, dataset.origin)


def _children_index(datasets):
    children = {}
    for name in datasets:
        if "/" in name:
            children.setdefault(parent(name), []).append(name)
    return children


def _descendants(name, children):
    out = []
    stack = list(children.get(name, ()))
    while stack:
        child = stack.pop()
        out.append(child)
        stack.extend(children.get(child, ()))
    return out


def check_targets(snapshot, targets, recursive):
    """Refuse clones in another pool, inside the source's tree, or (recursive) inside another clone."""
    source = snapshot.split("@", 1)[0]
    pool = source.split("/")[0]
    for name in targets:
        if name.split("/")[0] != pool:
            raise ZfsNameError("clone %s is not in pool %s: ZFS clones live in the pool of their snapshot %s; "
                               "name the clones %s/..." % (name, pool, snapshot, pool))
        if name == source or name.startswith(source + "/"):
            raise ZfsNameError("clone %s is the source dataset or inside it (%s); clones must live outside the "
                               "source's tree, for example %s/clones/..." % (name, source, pool))
    if recursive:
        wanted = set(targets)
        for name in targets:
            for ancestor in ancestors(name):
                if ancestor in wanted:
                    raise ZfsNameError("with recursive: true, clone %s is inside clone %s, which gets the source's child "
                                       "datasets; list only the top clones" % (name, ancestor))


def plan_present(snapshot, targets, datasets, snapshots, recursive=False, create_snapshot=False, properties=None):
    """Plan the creation of ``targets`` from ``snapshot``; raise ZfsCloneError on a conflict."""
    check_targets(snapshot, targets, recursive)
    plan = Plan("present", snapshot, common_root(targets + [snapshot.split("@")[0]]))
    source, snapname = plan.source, plan.snapname
    if source not in datasets:
        raise ZfsCloneError("the source dataset %s of snapshot %s does not exist; check the name (zfs list -r %s)"
                            % (source, snapshot, source.split("/")[0]))
    exists = snapshot in snapshots
    if not exists and not create_snapshot:
        raise ZfsCloneError("snapshot %s does not exist; create it (zfs snapshot -r %s) or set create_snapshot: true"
                            % (snapshot, snapshot))
    plan.create_snapshot = not exists
    origins = [("", snapshot)]
    if recursive:
        below = sorted((name for name in datasets if name.startswith(source + "/")), key=lambda n: (depth(n), n))
        for name in below:
            snap = name + "@" + snapname
            if exists and snap not in snapshots:
                plan.warnings.append("%s has no snapshot @%s (made after the snapshot?): it is not cloned" % (name, snapname))
                continue
            origins.append((name[len(source):], snap))
    items = []
    for target in targets:
        for rel, origin in origins:
            items.append((target + rel, origin))
    items.sort(key=lambda item: depth(item[0]))
    conflicts = []
    planned = set()
    for name, origin in items:
        if len(name) > MAX_NAME_LEN:
            raise ZfsNameError("clone %s (of %s) is %d characters long, more than ZFS's limit of %d; use shorter "
                               "clone names" % (name, origin, len(name), MAX_NAME_LEN))
        dataset = datasets.get(name)
        if dataset is None:
            plan.items.append(Item(name, origin, "create"))
        elif dataset.origin == origin:
            plan.items.append(Item(name, origin, "existing"))
        else:
            conflicts.append(_describe(dataset) + " where a clone of %s should be" % origin)
        planned.add(name)
    if conflicts:
        raise ZfsCloneError("refusing to touch existing datasets that are not clones of the snapshot: %s; "
                            "rename or destroy them, or choose other clone names. Nothing was changed."
                            % "; ".join(conflicts), conflicts=conflicts)
    parents = {}
    for item in plan.items:
        if item.action != "create":
            continue
        for ancestor in ancestors(item.name):
            if ancestor in planned:
                break
            found = datasets.get(ancestor)
            if found is not None:
                if found.type != "filesystem":
                    raise ZfsCloneError("clone %s cannot be made: its parent %s is a %s, not a filesystem; choose "
                                        "clone names under a filesystem" % (item.name, ancestor, found.type))
                break
            parents[ancestor] = True
    plan.parents = sorted(parents, key=lambda n: (depth(n), n))
    creating = plan.names("create")
    mountpoint = (properties or {}).get("mountpoint")
    if len(creating) > 1 and isinstance(mountpoint, str) and mountpoint not in ("none", "legacy"):
        raise ZfsNameError("properties.mountpoint %r would give all %d clones the same mountpoint; set the mountpoint "
                           "of their parent dataset instead (each clone then mounts at <parent>/<name>)"
                           % (mountpoint, len(creating)))
    return plan


def plan_absent(snapshot, targets, datasets, recursive=False):
    """Plan the destruction of the clones of ``snapshot`` among ``targets``; raise ZfsCloneError on a conflict."""
    check_targets(snapshot, targets, recursive)
    plan = Plan("absent", snapshot, common_root(targets + [snapshot.split("@")[0]]))
    source, snapname = plan.source, plan.snapname
    children = _children_index(datasets)
    conflicts = []
    doomed = {}
    for target in targets:
        dataset = datasets.get(target)
        if dataset is None:
            plan.items.append(Item(target, snapshot, "absent"))
            continue
        if dataset.origin != snapshot:
            conflicts.append(_describe(dataset) + ", not a clone of %s" % snapshot)
            continue
        doomed[target] = snapshot
        if recursive:
            for name in _descendants(target, children):
                origin = source + name[len(target):] + "@" + snapname
                if datasets[name].origin != origin:
                    conflicts.append("%s is inside clone %s but is not a clone of %s; destroy or move it first"
                                     % (_describe(datasets[name]), target, origin))
                else:
                    doomed[name] = origin
    if not recursive:
        for name in list(doomed):
            for below in _descendants(name, children):
                if below not in doomed:
                    conflicts.append("%s is inside clone %s and is not part of this batch; destroy it first, list it "
                                     "in clones, or use recursive: true if it is a clone of a child of the source"
                                     % (_describe(datasets[below]), name))
    if conflicts:
        raise ZfsCloneError("refusing to destroy: %s. Nothing was destroyed." % "; ".join(dict.fromkeys(conflicts)),
                            conflicts=list(dict.fromkeys(conflicts)))
    order = sorted(doomed, key=lambda n: (-depth(n), n))
    plan.items.extend(Item(name, doomed[name], "destroy") for name in order)
    return plan
