# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The ZFS layer of zfs_clone: name rules, planning, and the zfs commands that clone a batch.

* Every zfs process goes through ``ZfsCli._run_command(argv) -> (rc, stdout, stderr)``:
  unit tests patch that one method with a scripted fake.
* Few processes per batch: one ``zfs list -r`` of the datasets under the deepest common
  ancestor of the source and the clones, one ``zfs list -t snapshot`` of the source, then one
  ``zfs clone`` (or unmount/destroy) per dataset, and one listing at the end for mountpoints.
* Planning (``plan_present``, ``plan_absent``) is pure: it takes the listings and returns what
  would be created or destroyed, or raises ``ZfsCloneError`` before anything is changed.
  check_mode runs the same planning and stops there.
* Only the CLI common to OpenZFS and zfs-fuse is used: no ``zfs list -p``, no ``zfs holds``.
* ``dataset is busy`` (zfs-fuse says it for freshly mounted datasets) is retried a bounded
  number of times with exponential back-off.

Standard library only: this runs on the managed node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import time
from collections import namedtuple

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.noderange import NodeRangeError, expand

MAX_NAME_LEN = 255
MAX_RETRIES = 20
DEFAULT_RETRIES = 6
MAX_CLONES = 100000
LIST_PROPERTIES = "name,origin,type,mountpoint,mounted"

_BAD_CHAR = re.compile(r"[^A-Za-z0-9_.:-]")
_PROPERTY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:+-]*$")
_BUSY = re.compile(r"dataset is busy|pool or dataset is busy|device or resource busy|target is busy", re.IGNORECASE)
_MISSING = re.compile(r"dataset does not exist", re.IGNORECASE)
_NOT_MOUNTED = re.compile(r"not currently mounted", re.IGNORECASE)
_ALLOWED = "letters, digits and the characters _ . : -"

Dataset = namedtuple("Dataset", "name origin type mountpoint mounted")
Item = namedtuple("Item", "name origin action")


class ZfsError(Exception):
    """Base of this layer's errors; ``str()`` is a message for the user."""


class ZfsNameError(ZfsError, ValueError):
    """A dataset, snapshot or property name that ZFS would refuse."""


class ZfsCommandError(ZfsError):
    """A zfs command that failed (after its retries, if it had any)."""

    def __init__(self, argv, rc, stdout, stderr, attempts=1):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.attempts = attempts
        detail = (stderr or "").strip() or (stdout or "").strip() or "no output"
        tries = ", still busy after %d attempts" % attempts if attempts > 1 else ""
        super(ZfsCommandError, self).__init__("`%s` failed (rc=%d%s): %s" % (" ".join(self.argv), rc, tries, detail))

    @property
    def busy(self):
        return bool(_BUSY.search(self.stderr or ""))

    @property
    def missing(self):
        return bool(_MISSING.search(self.stderr or ""))


class ZfsCloneError(ZfsError):
    """A batch that cannot run or failed; ``result`` holds what the module returns with the error."""

    def __init__(self, msg, **result):
        super(ZfsCloneError, self).__init__(msg)
        self.msg = msg
        self.result = result


# --------------------------------------------------------------------------- names


def _depth(name):
    return name.count("/")


def _parent(name):
    return name.rpartition("/")[0]


def _ancestors(name):
    """pool/a/b/c -> [pool/a/b, pool/a, pool], nearest first."""
    out = []
    while "/" in name:
        name = _parent(name)
        out.append(name)
    return out


def _check_component(component, name, what):
    if component in (".", ".."):
        raise ZfsNameError("%s %r has a component %r, which ZFS does not allow; use a real name" % (what, name, component))
    bad = _BAD_CHAR.search(component)
    if bad:
        raise ZfsNameError("%s %r contains %r, which ZFS does not allow in names; use only %s"
                           % (what, name, bad.group(), _ALLOWED))


def check_dataset_name(name, what="dataset"):
    """Raise ZfsNameError unless ``name`` is a valid filesystem or volume name (pool/path/name)."""
    if not isinstance(name, str):
        raise ZfsNameError("%s must be a string such as pool/path/name, got %s %r" % (what, type_name(name), name))
    if not name:
        raise ZfsNameError("%s is empty; give a dataset name such as pool/path/name" % what)
    if "@" in name:
        raise ZfsNameError("%s %r names a snapshot; give a dataset (the part before '@')" % (what, name))
    if len(name) > MAX_NAME_LEN:
        raise ZfsNameError("%s %r is %d characters long, more than ZFS's limit of %d; use a shorter name"
                           % (what, name, len(name), MAX_NAME_LEN))
    if name.startswith("/") or name.endswith("/"):
        raise ZfsNameError("%s %r starts or ends with '/'; write the dataset as pool/path/name, not a mountpoint"
                           % (what, name))
    components = name.split("/")
    if "" in components:
        raise ZfsNameError("%s %r has an empty component ('//'); remove the extra '/'" % (what, name))
    for component in components:
        _check_component(component, name, what)
    pool = components[0]
    if not ("a" <= pool[0].lower() <= "z"):
        raise ZfsNameError("%s %r: the pool name %r must begin with a letter" % (what, name, pool))


def check_snapshot_component(snapname, what="snapshot_name"):
    """Raise ZfsNameError unless ``snapname`` is valid as the part after '@'."""
    if not isinstance(snapname, str):
        raise ZfsNameError("%s must be a string, got %s %r" % (what, type_name(snapname), snapname))
    if not snapname:
        raise ZfsNameError("%s is empty; give the snapshot's name (the part after '@')" % what)
    if "@" in snapname or "/" in snapname:
        raise ZfsNameError("%s %r must be only the part after '@', without '@' or '/'" % (what, snapname))
    _check_component(snapname, snapname, what)


def check_snapshot_name(name, what="snapshot"):
    """Raise ZfsNameError unless ``name`` is dataset@snapshot."""
    if not isinstance(name, str):
        raise ZfsNameError("%s must be a string such as pool/path@name, got %s %r" % (what, type_name(name), name))
    if name.count("@") != 1:
        raise ZfsNameError("%s %r must be written dataset@name with exactly one '@' (for example pool/projects/P@clonesource)"
                           % (what, name))
    dataset, snapname = name.split("@")
    check_dataset_name(dataset, "%s %r: the dataset" % (what, name))
    check_snapshot_component(snapname, "%s %r: the snapshot name" % (what, name))
    if len(name) > MAX_NAME_LEN:
        raise ZfsNameError("%s %r is %d characters long, more than ZFS's limit of %d; use a shorter name"
                           % (what, name, len(name), MAX_NAME_LEN))


def property_args(properties):
    """``{k: v}`` -> ['-o', 'k=v', ...]: booleans become on/off, names and values are checked."""
    if properties is None:
        return []
    if not isinstance(properties, dict):
        raise ZfsNameError("properties must be a mapping of property: value, got %s" % type_name(properties))
    args = []
    for key, value in properties.items():
        if not isinstance(key, str) or not _PROPERTY_NAME.match(key) or len(key) > 256:
            raise ZfsNameError("properties: %r is not a ZFS property name; native properties are lower case "
                               "(compression, canmount), user properties contain a ':' (com.example:tag)" % (key,))
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise ZfsNameError("properties.%s must be a string, number or boolean, got %s" % (key, type_name(value)))
        if "\n" in value or "\0" in value or len(value) > 8192:
            raise ZfsNameError("properties.%s: the value %r cannot be set: no newlines and at most 8192 characters"
                               % (key, value))
        args.extend(["-o", "%s=%s" % (key, value)])
    return args


def expand_clones(clones):
    """The clone names: one noderange string, or a list of literal names. Checked, duplicates dropped.

    An empty list (or blank string) gives no names: a batch of nothing, which a role may well compute.
    """
    if isinstance(clones, str):
        try:
            names = expand(clones, limit=MAX_CLONES)
        except NodeRangeError as exc:
            raise ZfsNameError("clones: %s; fix the range expression (for example pool/clones/C[01-40])" % exc)
    elif isinstance(clones, (list, tuple)):
        names = []
        for index, name in enumerate(clones):
            if not isinstance(name, str):
                raise ZfsNameError("clones[%d] must be a dataset name string, got %s %r" % (index, type_name(name), name))
            names.append(name)
        names = list(dict.fromkeys(names))
    else:
        raise ZfsNameError("clones must be a list of dataset names or one noderange string, got %s" % type_name(clones))
    for name in names:
        check_dataset_name(name, "clone")
    return names


def common_root(names):
    """The deepest dataset that is an ancestor-or-self of every name."""
    split = [name.split("/") for name in names]
    common = []
    for parts in zip(*split):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return "/".join(common)


# --------------------------------------------------------------------------- the command layer


class ZfsCli:
    """Builds and runs zfs commands. All of them go through ``_run_command``."""

    def __init__(self, zfs="zfs", retries=DEFAULT_RETRIES, delay=0.2, max_delay=2.0, sleep=None):
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
            raise ZfsNameError("retries must be a whole number from 0 to %d, got %r" % (MAX_RETRIES, retries))
        self.zfs = zfs
        self.retries = retries
        self.delay = delay
        self.max_delay = max_delay
        self.sleep = time.sleep if sleep is None else sleep
        self.commands = 0
        self.history = []

    def _run_command(self, argv):
        env = dict(os.environ, LC_ALL="C", LANG="C")
        try:
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  universal_newlines=True, env=env, check=False)
        except OSError as exc:
            return 127, "", "cannot run %s: %s" % (argv[0], exc)
        return proc.returncode, proc.stdout, proc.stderr

    def backoff(self, attempt):
        return min(self.delay * (2 ** attempt), self.max_delay)

    def run(self, args, busy_retry=False):
        """Run ``zfs args``; return stdout or raise ZfsCommandError. Busy errors are retried if asked."""
        argv = [self.zfs] + list(args)
        attempt = 0
        while True:
            self.commands += 1
            self.history.append(argv)
            rc, out, err = self._run_command(argv)
            if rc == 0:
                return out
            if busy_retry and _BUSY.search(err or "") and attempt < self.retries:
                self.sleep(self.backoff(attempt))
                attempt += 1
                continue
            raise ZfsCommandError(argv, rc, out, err, attempt + 1)

    # -- reading

    def list_datasets(self, root):
        """{name: Dataset} of the filesystems and volumes at and under ``root``."""
        out = self.run(["list", "-H", "-o", LIST_PROPERTIES, "-t", "filesystem,volume", "-r", root])
        datasets = {}
        for line in out.splitlines():
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 5:
                raise ZfsError("cannot read this line of `zfs list -H -o %s`: %r" % (LIST_PROPERTIES, line))
            name, origin, kind, mountpoint, mounted = fields
            datasets[name] = Dataset(name, None if origin == "-" else origin, kind,
                                     None if mountpoint in ("-", "") else mountpoint, mounted == "yes")
        return datasets

    def list_snapshots(self, dataset, recursive=False):
        """Names of the snapshots of ``dataset`` (and of its descendants if ``recursive``)."""
        depth = ["-r"] if recursive else ["-d", "1"]
        out = self.run(["list", "-H", "-o", "name", "-t", "snapshot"] + depth + [dataset])
        return set(line.strip() for line in out.splitlines() if line.strip())

    # -- writing

    def snapshot(self, name, recursive=True):
        self.run(["snapshot"] + (["-r"] if recursive else []) + [name], busy_retry=True)

    def clone(self, origin, target, properties=None, parents=True):
        args = ["clone"] + (["-p"] if parents else []) + property_args(properties) + [origin, target]
        self.run(args)

    def unmount(self, name):
        """Unmount ``name``; one that is not mounted is fine."""
        try:
            self.run(["unmount", name], busy_retry=True)
        except ZfsCommandError as exc:
            if not _NOT_MOUNTED.search(exc.stderr or ""):
                raise

    def destroy(self, name, recursive=False):
        self.run(["destroy"] + (["-r"] if recursive else []) + [name], busy_retry=True)


# --------------------------------------------------------------------------- planning


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
            children.setdefault(_parent(name), []).append(name)
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
            for ancestor in _ancestors(name):
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
        below = sorted((name for name in datasets if name.startswith(source + "/")), key=lambda n: (_depth(n), n))
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
    items.sort(key=lambda item: _depth(item[0]))
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
        for ancestor in _ancestors(item.name):
            if ancestor in planned:
                break
            found = datasets.get(ancestor)
            if found is not None:
                if found.type != "filesystem":
                    raise ZfsCloneError("clone %s cannot be made: its parent %s is a %s, not a filesystem; choose "
                                        "clone names under a filesystem" % (item.name, ancestor, found.type))
                break
            parents[ancestor] = True
    plan.parents = sorted(parents, key=lambda n: (_depth(n), n))
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
    order = sorted(doomed, key=lambda n: (-_depth(n), n))
    plan.items.extend(Item(name, doomed[name], "destroy") for name in order)
    return plan


# --------------------------------------------------------------------------- running a batch


def _resolve_snapshot(snapshot, source, snapshot_name):
    if snapshot is not None:
        check_snapshot_name(snapshot)
        return snapshot
    check_dataset_name(source, "source")
    check_snapshot_component(snapshot_name)
    name = source + "@" + snapshot_name
    check_snapshot_name(name, "source@snapshot_name")
    return name


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
    snapshot = _resolve_snapshot(snapshot, source, snapshot_name)
    targets = expand_clones(clones)
    property_args(properties)
    if state not in ("present", "absent"):
        raise ZfsNameError("state must be present or absent, got %r" % (state,))
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
    for item in creating:
        try:
            cli.clone(item.origin, item.name, properties)
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
        for item in sorted(reversed(created), key=lambda i: -_depth(i.name)):
            found = now.get(item.name)
            if found is None:
                continue
            problem = _remove(cli, item.name, found.mounted)
            if problem:
                problems.append(problem)
            else:
                rolled_back.append(item.name)
        for name in sorted(new_parents, key=lambda n: -_depth(n)):
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
            if _parent(item.name) in doomed_set:
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
