# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One zfs_clone batch run through the zfs command line: list once, plan (plan.py), then clone or destroy
dataset by dataset; a clone that fails mid-batch is cleaned up and the batch rolled back (unless asked
not to), and the result says what exists. Few processes per batch: one ``zfs list -r`` of the datasets
under the deepest common ancestor of the source and the clones, one ``zfs list -t snapshot`` of the
source, then one ``zfs clone`` (or unmount/destroy) per dataset, and one listing at the end for
mountpoints. Standard library only: this runs on the managed node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import ZfsCommandError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsCloneError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.names import common_root, depth, parent
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.options import (
    check_state, expand_clones, property_args, resolve_snapshot)
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.plan import check_targets, plan_absent, plan_present


def _listing(cli, plan_root, pool):
    """Datasets under ``plan_root``; the pool's if that is missing (then the source is missing too)."""
    try:
        return cli.list_datasets(plan_root)
    except ZfsCommandError as exc:
        if not exc.missing or plan_root == pool:
            if exc.missing:
                raise ZfsCloneError("pool %s does not exist or is not imported (zpool list); %s" % (pool, exc),
                                    stderr=exc.stderr)
            raise ZfsCloneError("cannot list the datasets under %s: %s" % (plan_root, exc), stderr=exc.stderr)
    return _listing(cli, pool, pool)


def _entry(item, state, datasets):
    found = datasets.get(item.name)
    return {"name": item.name, "origin": item.origin, "state": state,
            "mountpoint": found.mountpoint if found is not None else None}


def _diff(before, after):
    return {"before": {"clones": sorted(before)}, "after": {"clones": sorted(after)}}


def run(cli, clones, snapshot=None, source=None, snapshot_name=None, create_snapshot=False, properties=None,
        recursive=False, state="present", rollback=True, check_mode=False):
    """Run one batch and return the module's result dict; raise ZfsError (ZfsCloneError carries .result)."""
    snapshot = resolve_snapshot(snapshot, source, snapshot_name)
    targets = expand_clones(clones)
    property_args(properties)
    check_state(state)
    if not targets:
        return {"changed": False, "msg": "clones is empty: nothing to do", "snapshot": snapshot,
                "snapshot_created": False, "created": [], "existing": [], "destroyed": [], "clones": [],
                "commands": cli.commands, "warnings": [], "diff": _diff([], [])}
    check_targets(snapshot, targets, recursive)
    source = snapshot.split("@")[0]
    pool = source.split("/")[0]
    root = common_root(targets + [source])
    datasets = _listing(cli, root, pool)
    if state == "absent":
        plan = plan_absent(snapshot, targets, datasets, recursive)
        return _run_absent(cli, plan, datasets, check_mode)
    if source not in datasets:
        plan_present(snapshot, targets, datasets, set(), recursive, create_snapshot, properties)  # raises
    try:
        snapshots = cli.list_snapshots(source, recursive=recursive)
    except ZfsCommandError as exc:
        raise ZfsCloneError("cannot list the snapshots of %s: %s" % (source, exc), stderr=exc.stderr)
    plan = plan_present(snapshot, targets, datasets, snapshots, recursive, create_snapshot, properties)
    return _run_present(cli, plan, datasets, properties, rollback, check_mode)


def _result(plan, cli, entries, **extra):
    result = {
        "changed": False,
        "snapshot": plan.snapshot,
        "snapshot_created": False,
        "created": [],
        "existing": [],
        "destroyed": [],
        "clones": entries,
        "commands": cli.commands,
        "warnings": list(plan.warnings),
    }
    result.update(extra)
    return result


def _run_present(cli, plan, datasets, properties, rollback, check_mode):
    creating = [item for item in plan.items if item.action == "create"]
    existing = plan.names("existing")
    verb = "would create" if check_mode else "created"
    diff = _diff(existing, existing + [item.name for item in creating])
    if check_mode or not plan.changed:
        entries = [_entry(item, "created" if item.action == "create" else "existing", datasets) for item in plan.items]
        msg = "%s %d clones of %s; %d already existed" % (verb, len(creating), plan.snapshot, len(existing))
        if plan.create_snapshot:
            msg = "%s snapshot %s (recursive); %s" % (verb, plan.snapshot, msg)
        return _result(plan, cli, entries, changed=plan.changed, snapshot_created=plan.create_snapshot,
                       created=[item.name for item in creating], existing=existing, diff=diff,
                       parents_created=list(plan.parents), msg=msg)
    snapshot_created = False
    if plan.create_snapshot:
        try:
            cli.snapshot(plan.snapshot, recursive=True)
            snapshot_created = True
        except ZfsCommandError as exc:
            if "already exists" in (exc.stderr or ""):  # made since the listing: reuse it, as if listed
                plan.warnings.append("snapshot %s appeared while this call ran; it was reused" % plan.snapshot)
            else:
                raise ZfsCloneError("creating snapshot %s failed: %s. Nothing was changed." % (plan.snapshot, exc),
                                    stderr=exc.stderr, commands=cli.commands, snapshot=plan.snapshot)
    created = []
    missing_parents = set(plan.parents)
    for item in creating:
        try:
            # -p only where a parent is missing: it costs zfs a lookup of every ancestor (a millisecond a clone on
            # zfs-fuse), and a parent missing without it stops the batch, which is then rolled back
            cli.clone(item.origin, item.name, properties, parents=parent(item.name) in missing_parents)
        except ZfsCommandError as exc:
            _fail_present(cli, plan, item, exc, created, snapshot_created, rollback, datasets)
        created.append(item)
    try:
        final = cli.list_datasets(plan.root)
    except ZfsCommandError as exc:
        plan.warnings.append("the clones were created but listing them afterwards failed, so mountpoints are "
                             "not reported: %s" % exc)
        final = {}
    entries = [_entry(item, "created" if item.action == "create" else "existing", final) for item in plan.items]
    msg = "created %d clones of %s; %d already existed" % (len(created), plan.snapshot, len(existing))
    if snapshot_created:
        msg = "created snapshot %s (recursive); %s" % (plan.snapshot, msg)
    return _result(plan, cli, entries, changed=True, snapshot_created=snapshot_created,
                   created=[item.name for item in created], existing=existing, diff=diff,
                   parents_created=[name for name in plan.parents if name in final], msg=msg)


def _remove(cli, name, mounted):
    """Unmount (if mounted) and destroy one dataset this call made; return an error string or None."""
    try:
        if mounted:
            cli.unmount(name)
        cli.destroy(name)
    except ZfsCommandError as exc:
        return "%s: %s" % (name, exc)
    return None


def _fail_present(cli, plan, failed, error, created, snapshot_created, rollback, before):
    """A clone failed mid-batch: remove the half-made one, roll back if asked, raise with the facts."""
    try:
        now = cli.list_datasets(plan.root)
    except ZfsCommandError as exc:
        raise ZfsCloneError("creating clone %s from %s failed: %s; then listing %s failed too (%s), so this call "
                            "could not clean up: check these clones by hand: %s"
                            % (failed.name, failed.origin, error, plan.root, exc, ", ".join(i.name for i in created)),
                            failed=failed.name, stderr=error.stderr, created=[i.name for i in created],
                            commands=cli.commands, snapshot=plan.snapshot)
    problems = []
    half_removed = False
    half = now.get(failed.name)
    if half is not None and half.origin == failed.origin and failed.name not in before:
        # made but not mounted (zfs clone exits 1 then): remove it so that a rerun makes it again
        problem = _remove(cli, failed.name, half.mounted)
        if problem:
            problems.append(problem)
        else:
            half_removed = True
    rolled_back = []
    new_parents = [name for name in plan.parents if name in now and name not in before]
    if rollback:
        for item in sorted(reversed(created), key=lambda i: -depth(i.name)):
            found = now.get(item.name)
            if found is None:
                continue
            problem = _remove(cli, item.name, found.mounted)
            if problem:
                problems.append(problem)
            else:
                rolled_back.append(item.name)
        for name in sorted(new_parents, key=lambda n: -depth(n)):
            problem = _remove(cli, name, now[name].mounted)
            if problem:
                problems.append(problem)
            else:
                rolled_back.append(name)
        if snapshot_created:
            try:
                cli.destroy(plan.snapshot, recursive=True)
                rolled_back.append(plan.snapshot)
            except ZfsCommandError as exc:
                problems.append("%s: %s" % (plan.snapshot, exc))
    left = set(rolled_back)
    still = [item.name for item in created if item.name not in left and item.name in now]
    entries = []
    for item in plan.items:
        if item.name == failed.name:
            state = "failed"
        elif item.name in left:
            state = "rolled_back"
        elif item in created:
            state = "created"
        elif item.action == "existing":
            state = "existing"
        else:
            state = "not_created"
        entries.append(_entry(item, state, now if state in ("created", "existing") else {}))
    msg = "creating clone %s from %s failed: %s." % (failed.name, failed.origin, (error.stderr or "").strip() or error)
    if half_removed:
        msg += " It had been made but not mounted and was destroyed."
    if rollback:
        made = set(item.name for item in created)
        msg += " Rolled back: destroyed the %d clones this call had created" % len([n for n in rolled_back if n in made])
        if snapshot_created and plan.snapshot in left:
            msg += " and the snapshot %s" % plan.snapshot
        msg += "."
    else:
        msg += " rollback is false: these %d clones were created and exist: %s." % (len(still), ", ".join(still) or "none")
    if problems:
        msg += " Could not clean up: %s; these still exist: %s." % ("; ".join(problems), ", ".join(still) or "see problems")
    raise ZfsCloneError(msg, failed=failed.name, stderr=error.stderr, created=still, rolled_back=rolled_back,
                        existing=plan.names("existing"), clones=entries, commands=cli.commands, snapshot=plan.snapshot,
                        snapshot_created=snapshot_created and plan.snapshot not in left, cleanup_errors=problems)


def _run_absent(cli, plan, datasets, check_mode):
    doomed = [item for item in plan.items if item.action == "destroy"]
    names = [item.name for item in doomed]
    diff = _diff(names, [])
    verb = "would destroy" if check_mode else "destroyed"
    msg = "%s %d clones of %s" % (verb, len(doomed), plan.snapshot)
    if check_mode or not doomed:
        entries = [_entry(item, "destroyed" if item.action == "destroy" else "absent", datasets) for item in plan.items]
        return _result(plan, cli, entries, changed=bool(doomed), destroyed=names, diff=diff, msg=msg)
    destroyed = []
    doomed_set = set(names)
    try:
        for item in doomed:  # deepest first
            if datasets[item.name].mounted:
                cli.unmount(item.name)
        for item in doomed:
            if parent(item.name) in doomed_set:
                continue  # its top clone's `destroy -r` takes it
            cli.destroy(item.name, recursive=True)
            destroyed.extend(n for n in names if n == item.name or n.startswith(item.name + "/"))
    except ZfsCommandError as exc:
        left = [n for n in names if n not in set(destroyed)]
        raise ZfsCloneError("destroying the clones of %s failed: %s. Destroyed: %s. Still there: %s."
                            % (plan.snapshot, exc, ", ".join(destroyed) or "none", ", ".join(left)),
                            stderr=exc.stderr, destroyed=destroyed, remaining=left, commands=cli.commands,
                            snapshot=plan.snapshot, changed=bool(destroyed))
    order = dict((name, i) for i, name in enumerate(names))
    destroyed.sort(key=order.get)
    entries = [_entry(item, "destroyed" if item.action == "destroy" else "absent", datasets) for item in plan.items]
    return _result(plan, cli, entries, changed=True, destroyed=destroyed, diff=diff, msg=msg)


def failure_fields(result):
    """What zfs_clone adds to the result a failed batch carries: ``failed_clone`` (the clone that failed:
    Ansible's own ``failed`` is the task's flag, which fail_json sets) and ``changed`` when the batch did
    not say."""
    extra = {}
    if "failed" in result:
        extra["failed_clone"] = result["failed"]
    if "changed" not in result:
        extra["changed"] = bool(result.get("created") or result.get("destroyed"))
    return extra


def undo_present(cli, result):
    """Destroy what a batch that succeeded made (``result`` is its result): its clones, deepest first,
    the parents it created, then the snapshot if it made it. For a later step of the same call that
    failed (gns3_project_reset's clone option). Returns (destroyed, problems); a snapshot another
    batch clones from stays (zfs refuses to destroy it), and is reported as a problem."""
    destroyed, problems = [], []
    made = sorted(result.get("created", ()), key=lambda n: -depth(n))
    for name in made + sorted(result.get("parents_created", ()), key=lambda n: -depth(n)):
        problem = _remove(cli, name, True)   # unmount first: one that is not mounted is fine
        if problem:
            problems.append(problem)
        else:
            destroyed.append(name)
    if result.get("snapshot_created") and not problems:
        try:
            cli.destroy(result["snapshot"], recursive=True)
            destroyed.append(result["snapshot"])
        except ZfsCommandError as exc:
            problems.append("%s: %s" % (result["snapshot"], exc))
    return destroyed, problems
