# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ZFS layer: names, command building, planning, busy retries and rollback.

ZfsCli._run_command is replaced by FakeZfs, a scripted stand-in that records every argv and answers
from a small table of datasets and snapshots, with failures injected per command.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.batch import run
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import Dataset, ZfsCli, ZfsCommandError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsCloneError, ZfsError, ZfsNameError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.names import (
    check_dataset_name, check_snapshot_name, common_root)
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.options import expand_clones, property_args
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.plan import plan_absent, plan_present

SNAP = "tank/projects/P@s1"


class FakeZfs:
    """Answers zfs argv from a table: {name: origin} for datasets, a set of snapshots.

    ``fail`` maps an argv tuple (without the zfs binary) to a list of (rc, stderr, effect) answers
    used one per call; effect "made" means the command made its dataset before failing (a clone
    that could not be mounted).
    """

    def __init__(self, datasets=None, snapshots=(), volumes=()):
        self.datasets = dict(datasets or {})
        self.mounted = set(self.datasets)
        self.volumes = set(volumes)
        self.snapshots = set(snapshots)
        self.calls = []
        self.fail = {}

    def __call__(self, argv):
        self.calls.append(list(argv))
        args = tuple(argv[1:])
        if self.fail.get(args):
            rc, err, effect = self.fail[args].pop(0)
            if effect == "made":
                self.do_clone(list(args[1:]))
                self.mounted.discard(args[-1])
            return rc, "", err
        handler = getattr(self, "do_" + args[0])
        return handler(list(args[1:]))

    def do_list(self, args):
        root = args[-1]
        if "snapshot" in args:
            if root not in self.datasets:
                return 1, "", "cannot open '%s': dataset does not exist\n" % root
            if "-r" in args:
                names = [s for s in self.snapshots if s.split("@")[0] == root or s.startswith(root + "/")]
            else:
                names = [s for s in self.snapshots if s.split("@")[0] == root]
            return 0, "".join(n + "\n" for n in sorted(names)), ""
        if root not in self.datasets:
            return 1, "", "cannot open '%s': dataset does not exist\n" % root
        lines = []
        for name in sorted(self.datasets):
            if name == root or name.startswith(root + "/"):
                volume = name in self.volumes
                lines.append("\t".join([name, self.datasets[name] or "-", "volume" if volume else "filesystem",
                                        "-" if volume else "/mnt/" + name, "-" if volume else
                                        ("yes" if name in self.mounted else "no")]))
        return 0, "".join(line + "\n" for line in lines), ""

    def do_snapshot(self, args):
        name = args[-1]
        dataset, snap = name.split("@")
        if name in self.snapshots:
            return 1, "", "cannot create snapshot '%s': dataset already exists\n" % name
        for child in self.datasets:
            if child == dataset or ("-r" in args and child.startswith(dataset + "/")):
                self.snapshots.add(child + "@" + snap)
        return 0, "", ""

    def do_clone(self, args):
        origin, target = args[-2], args[-1]
        if target in self.datasets:
            return 1, "", "cannot create '%s': dataset already exists\n" % target
        if origin not in self.snapshots:
            return 1, "", "cannot open '%s': dataset does not exist\n" % origin
        parent = target.rpartition("/")[0]
        while parent and parent not in self.datasets:
            if "-p" not in args:
                return 1, "", "cannot create '%s': parent does not exist\n" % target
            self.datasets[parent] = None
            self.mounted.add(parent)
            parent = parent.rpartition("/")[0]
        self.datasets[target] = origin
        self.mounted.add(target)
        return 0, "", ""

    def do_unmount(self, args):
        if args[-1] not in self.mounted:
            return 1, "", "cannot unmount '%s': not currently mounted\n" % args[-1]
        self.mounted.discard(args[-1])
        return 0, "", ""

    def do_destroy(self, args):
        name = args[-1]
        if "@" in name:
            dataset, snap = name.split("@")
            self.snapshots -= set(s for s in self.snapshots if s.endswith("@" + snap) and (
                s.split("@")[0] == dataset or s.startswith(dataset + "/")))
            return 0, "", ""
        below = [n for n in self.datasets if n.startswith(name + "/")]
        if below and "-r" not in args:
            return 1, "", "cannot destroy '%s': filesystem has children\n" % name
        for n in below + [name]:
            del self.datasets[n]
            self.mounted.discard(n)
        return 0, "", ""

    def mutations(self):
        return [call[1:] for call in self.calls if call[1] not in ("list",)]


def source_tree(children=()):
    datasets = {"tank": None, "tank/projects": None, "tank/projects/P": None}
    snapshots = {SNAP}
    for child in children:
        datasets["tank/projects/P/" + child] = None
        snapshots.add("tank/projects/P/%s@s1" % child)
    return datasets, snapshots


def make_cli(fake, retries=6, sleeps=None):
    cli = ZfsCli("zfs", retries=retries, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    cli._run_command = fake
    return cli


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["tank", "tank/a", "tank/projects/Cexam_01", "t/x.y:z-1_2", "tank/0start",
                                  "p/" + "a" * 253])
def test_valid_dataset_names(name):
    check_dataset_name(name)


@pytest.mark.parametrize("name, words", [
    ("", ["is empty"]),
    ("tank//a", ["empty component", "'//'"]),
    ("/tank/a", ["starts or ends with '/'", "not a mountpoint"]),
    ("tank/a/", ["starts or ends with '/'"]),
    ("tank/a@s", ["names a snapshot"]),
    ("tank/C 02", ["'tank/C 02'", "contains ' '", "letters, digits"]),
    ("tank/C*", ["contains '*'"]),
    ("tank/é", ["contains 'é'"]),
    ("tank/../x", ["component '..'"]),
    ("tank/./x", ["component '.'"]),
    ("1tank/a", ["pool name '1tank' must begin with a letter"]),
    ("p/" + "a" * 254, ["256 characters long", "limit of 255"]),
    (5, ["must be a string", "got int"]),
])
def test_invalid_dataset_names_name_the_value_and_the_fix(name, words):
    with pytest.raises(ZfsNameError) as err:
        check_dataset_name(name, "clone")
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("name, words", [
    ("tank/a", ["exactly one '@'"]),
    ("tank/a@b@c", ["exactly one '@'"]),
    ("tank/a@", ["snapshot name is empty"]),
    ("tank/a@b c", ["contains ' '"]),
    ("tank//a@b", ["empty component"]),
])
def test_invalid_snapshot_names(name, words):
    with pytest.raises(ZfsNameError) as err:
        check_snapshot_name(name)
    for word in words:
        assert word in str(err.value)
    check_snapshot_name("tank/a@clonesource_1")


def test_property_args_convert_booleans_and_numbers_and_keep_order():
    assert property_args({"canmount": False, "atime": True, "quota": 10, "com.example:tag": "x y"}) == [
        "-o", "canmount=off", "-o", "atime=on", "-o", "quota=10", "-o", "com.example:tag=x y"]
    assert property_args({}) == [] and property_args(None) == []


@pytest.mark.parametrize("props, words", [
    ({"Compression": "on"}, ["'Compression' is not a ZFS property name"]),
    ({"a=b": "on"}, ["'a=b' is not a ZFS property name"]),
    ({"quota": ["1G"]}, ["properties.quota", "got list"]),
    ({"comment": "a\nb"}, ["no newlines"]),
    (["a"], ["must be a mapping"]),
])
def test_bad_properties(props, words):
    with pytest.raises(ZfsNameError) as err:
        property_args(props)
    for word in words:
        assert word in str(err.value)


def test_expand_clones():
    assert expand_clones("tank/c/C[01-03]") == ["tank/c/C01", "tank/c/C02", "tank/c/C03"]
    assert expand_clones("tank/c/C[1-4],-tank/c/C2") == ["tank/c/C1", "tank/c/C3", "tank/c/C4"]
    # a list is taken literally (no range syntax), duplicates dropped
    assert expand_clones(["tank/c/b", "tank/c/a", "tank/c/b"]) == ["tank/c/b", "tank/c/a"]
    assert expand_clones([]) == [] and expand_clones(" ") == []


@pytest.mark.parametrize("state", ["present", "absent"])
def test_an_empty_batch_does_nothing_and_runs_no_command(state):
    fake = FakeZfs(*source_tree())
    result = run(make_cli(fake), [], snapshot=SNAP, state=state, create_snapshot=True)
    assert result["changed"] is False and result["msg"] == "clones is empty: nothing to do"
    assert result["commands"] == 0 and fake.calls == []
    with pytest.raises(ZfsNameError):
        run(make_cli(fake), [], snapshot="tank/projects/P")  # the snapshot is still checked


@pytest.mark.parametrize("clones, words", [
    ("tank/c/C[01-", ["clones: ", "invalid noderange 'tank/c/C[01-'", "Write a range such as pool/clones/C[01-40]"]),
    ("tank/c/C[05-130]", ["pad both ends"]),
    (["tank/a", 3], ["clones[1] is 3 (int): names are strings"]),
    (7, ["clones must be a range expression", "or a list of names", "got int"]),
    ({"a": 1}, ["got dict"]),
    ("tank/c/C[1-2]/x%y", ["clone 'tank/c/C1/x%y' contains '%'"]),
])
def test_expand_clones_errors(clones, words):
    with pytest.raises(ZfsNameError) as err:
        expand_clones(clones)
    for word in words:
        assert word in str(err.value)


def test_a_batch_error_is_the_common_result_error():
    error = ZfsCloneError("made 1 of 2", created=["tank/c/C1"])
    assert isinstance(error, ResultError) and isinstance(error, ZfsError)
    assert error.msg == str(error) == "made 1 of 2" and error.result == {"created": ["tank/c/C1"]}


def test_common_root():
    assert common_root(["tank/a/b/c", "tank/a/b/d", "tank/a/x"]) == "tank/a"
    assert common_root(["tank/a/bc", "tank/a/bd"]) == "tank/a"
    assert common_root(["tank/a"]) == "tank/a"
    assert common_root(["tank/a", "tank/a/b"]) == "tank/a"


# --------------------------------------------------------------------------- command building


def test_command_building():
    fake = FakeZfs(*source_tree(children=("a",)))
    cli = make_cli(fake)
    datasets = cli.list_datasets("tank")
    assert datasets["tank/projects/P"] == Dataset("tank/projects/P", None, "filesystem", "/mnt/tank/projects/P", True)
    assert cli.list_snapshots("tank/projects/P") == {SNAP}
    assert cli.list_snapshots("tank/projects/P", recursive=True) == {SNAP, "tank/projects/P/a@s1"}
    cli.clone(SNAP, "tank/c/C1", {"canmount": "noauto", "com.x:y": 1})
    cli.unmount("tank/c/C1")
    cli.unmount("tank/c/C1")  # not mounted any more: fine
    cli.destroy("tank/c/C1")
    cli.snapshot("tank/projects/P@s2")
    cli.destroy("tank/c", recursive=True)
    assert fake.calls == [
        ["zfs", "list", "-H", "-o", "name,origin,type,mountpoint,mounted", "-t", "filesystem,volume", "-r", "tank"],
        ["zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", "tank/projects/P"],
        ["zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", "tank/projects/P"],
        ["zfs", "clone", "-p", "-o", "canmount=noauto", "-o", "com.x:y=1", SNAP, "tank/c/C1"],
        ["zfs", "unmount", "tank/c/C1"],
        ["zfs", "unmount", "tank/c/C1"],
        ["zfs", "destroy", "tank/c/C1"],
        ["zfs", "snapshot", "-r", "tank/projects/P@s2"],
        ["zfs", "destroy", "-r", "tank/c"],
    ]
    assert cli.commands == 9


def test_a_missing_zfs_binary_is_a_clear_error():
    cli = ZfsCli("/nonexistent/bin/zfs")
    rc, out, err = cli._run_command(["/nonexistent/bin/zfs", "list"])
    assert rc == 127 and out == "" and "cannot run /nonexistent/bin/zfs" in err
    with pytest.raises(ZfsCloneError) as exc:
        run(cli, "tank/c/C1", snapshot=SNAP)
    assert "cannot list the datasets under tank" in exc.value.msg and "/nonexistent/bin/zfs" in exc.value.msg


def test_listing_output_that_cannot_be_read_is_an_error():
    cli = make_cli(lambda argv: (0, "tank\t-\n", ""))
    with pytest.raises(ZfsError) as err:
        cli.list_datasets("tank")
    assert "cannot read this line" in str(err.value)


# --------------------------------------------------------------------------- busy retries


def always_busy(argv):
    return 1, "", "cannot destroy '%s': dataset is busy\n" % argv[-1]


def test_an_always_busy_dataset_gives_up_after_retries_with_a_clear_error():
    sleeps = []
    cli = make_cli(always_busy, retries=6, sleeps=sleeps)
    with pytest.raises(ZfsCommandError) as err:
        cli.destroy("tank/c/C1")
    assert cli.commands == 7  # the first try and 6 retries
    assert sleeps == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert err.value.busy and err.value.attempts == 7
    assert str(err.value) == ("`zfs destroy tank/c/C1` failed (rc=1, still busy after 7 attempts): "
                              "cannot destroy 'tank/c/C1': dataset is busy")


def test_busy_then_done_is_retried_and_no_retries_means_one_try():
    answers = [(1, "", "cannot unmount 'x': Device or resource busy"), (1, "", "dataset is busy"), (0, "", "")]
    sleeps = []
    cli = make_cli(lambda argv: answers.pop(0), sleeps=sleeps)
    cli.unmount("tank/c/C1")
    assert cli.commands == 3 and sleeps == [0.2, 0.4]
    cli = make_cli(always_busy, retries=0)
    with pytest.raises(ZfsCommandError):
        cli.destroy("tank/c/C1")
    assert cli.commands == 1


def test_other_errors_and_clones_are_not_retried():
    cli = make_cli(lambda argv: (1, "", "cannot destroy 'x': permission denied"))
    with pytest.raises(ZfsCommandError):
        cli.destroy("x")
    assert cli.commands == 1
    cli = make_cli(always_busy)
    with pytest.raises(ZfsCommandError):
        cli.clone(SNAP, "tank/c/C1")
    assert cli.commands == 1


@pytest.mark.parametrize("retries", [-1, 21, True, "3", 2.5])
def test_retries_are_bounded(retries):
    with pytest.raises(ZfsNameError) as err:
        ZfsCli("zfs", retries=retries)
    assert "retries must be a whole number from 0 to 20" in str(err.value)


# --------------------------------------------------------------------------- planning


def listing(datasets, volumes=()):
    return dict((name, Dataset(name, origin, "volume" if name in volumes else "filesystem", "/mnt/" + name, True))
                for name, origin in datasets.items())


def test_plan_present_sorts_out_create_existing_and_parents():
    datasets, snapshots = source_tree()
    datasets.update({"tank/c": None, "tank/c/C2": SNAP})
    plan = plan_present(SNAP, ["tank/c/C1", "tank/c/C2", "tank/d/e/C3"], listing(datasets), snapshots)
    assert [(i.name, i.action) for i in plan.items] == [
        ("tank/c/C1", "create"), ("tank/c/C2", "existing"), ("tank/d/e/C3", "create")]
    assert plan.parents == ["tank/d", "tank/d/e"]
    assert plan.root == "tank" and plan.changed and not plan.create_snapshot


def test_nested_clones_are_made_parents_first():
    datasets, snapshots = source_tree()
    plan = plan_present(SNAP, ["tank/c/C1/inner", "tank/c/C1"], listing(datasets), snapshots)
    assert [i.name for i in plan.items] == ["tank/c/C1", "tank/c/C1/inner"]
    assert plan.parents == ["tank/c"]


def test_conflicts_name_each_dataset_and_its_origin_before_anything_runs():
    datasets, snapshots = source_tree()
    datasets.update({"tank/c": None, "tank/c/C2": None, "tank/c/C3": "tank/other@x"})
    with pytest.raises(ZfsCloneError) as err:
        plan_present(SNAP, ["tank/c/C1", "tank/c/C2", "tank/c/C3"], listing(datasets), snapshots)
    assert "tank/c/C2 (exists and is not a clone)" in err.value.msg
    assert "tank/c/C3 (a clone of tank/other@x)" in err.value.msg
    assert "Nothing was changed" in err.value.msg
    assert len(err.value.result["conflicts"]) == 2


@pytest.mark.parametrize("targets, recursive, words", [
    (["tank/projects/P"], False, ["clone tank/projects/P is the source dataset or inside it"]),
    (["tank/projects/P/x"], False, ["inside it", "outside the source's tree"]),
    (["other/c/C1"], False, ["not in pool tank", "name the clones tank/..."]),
    (["tank/c/C1", "tank/c/C1/x"], True, ["clone tank/c/C1/x is inside clone tank/c/C1", "list only the top"]),
])
def test_targets_that_cannot_be_clones(targets, recursive, words):
    datasets, snapshots = source_tree()
    with pytest.raises(ZfsNameError) as err:
        plan_present(SNAP, targets, listing(datasets), snapshots, recursive=recursive)
    for word in words:
        assert word in str(err.value)


def test_a_volume_parent_is_refused_and_so_is_a_shared_mountpoint():
    datasets, snapshots = source_tree()
    datasets["tank/vol"] = None
    with pytest.raises(ZfsCloneError) as err:
        plan_present(SNAP, ["tank/vol/C1"], listing(datasets, volumes=("tank/vol",)), snapshots)
    assert "its parent tank/vol is a volume, not a filesystem" in err.value.msg
    with pytest.raises(ZfsNameError) as err:
        plan_present(SNAP, ["tank/c/C1", "tank/c/C2"], listing(datasets), snapshots, properties={"mountpoint": "/x"})
    assert "properties.mountpoint '/x' would give all 2 clones the same mountpoint" in str(err.value)
    plan_present(SNAP, ["tank/c/C1"], listing(datasets), snapshots, properties={"mountpoint": "/x"})
    plan_present(SNAP, ["tank/c/C1", "tank/c/C2"], listing(datasets), snapshots, properties={"mountpoint": "none"})


def test_missing_source_or_snapshot():
    datasets, snapshots = source_tree()
    with pytest.raises(ZfsCloneError) as err:
        plan_present("tank/projects/Q@s1", ["tank/c/C1"], listing(datasets), snapshots)
    assert "the source dataset tank/projects/Q of snapshot tank/projects/Q@s1 does not exist" in err.value.msg
    with pytest.raises(ZfsCloneError) as err:
        plan_present("tank/projects/P@s9", ["tank/c/C1"], listing(datasets), snapshots)
    assert "snapshot tank/projects/P@s9 does not exist" in err.value.msg and "create_snapshot: true" in err.value.msg
    plan = plan_present("tank/projects/P@s9", ["tank/c/C1"], listing(datasets), snapshots, create_snapshot=True)
    assert plan.create_snapshot and plan.changed


def test_recursive_plan_maps_each_child_to_its_snapshot_and_warns_about_newer_children():
    datasets, snapshots = source_tree(children=("a", "a/deep", "b"))
    datasets["tank/projects/P/new"] = None  # made after the snapshot
    plan = plan_present(SNAP, ["tank/c/C1"], listing(datasets), snapshots, recursive=True)
    assert [(i.name, i.origin) for i in plan.items] == [
        ("tank/c/C1", SNAP),
        ("tank/c/C1/a", "tank/projects/P/a@s1"),
        ("tank/c/C1/b", "tank/projects/P/b@s1"),
        ("tank/c/C1/a/deep", "tank/projects/P/a/deep@s1"),
    ]
    assert plan.warnings == ["tank/projects/P/new has no snapshot @s1 (made after the snapshot?): it is not cloned"]
    # a snapshot still to be made covers every child
    plan = plan_present("tank/projects/P@s2", ["tank/c/C1"], listing(datasets), snapshots, recursive=True,
                        create_snapshot=True)
    assert "tank/c/C1/new" in [i.name for i in plan.items]


def test_plan_absent_destroys_deepest_first_and_only_clones_of_the_snapshot():
    datasets, snapshots = source_tree(children=("a",))
    datasets.update({"tank/c": None, "tank/c/C1": SNAP, "tank/c/C1/a": "tank/projects/P/a@s1", "tank/c/C2": SNAP})
    plan = plan_absent(SNAP, ["tank/c/C1", "tank/c/C2", "tank/c/C3"], listing(datasets), recursive=True)
    assert [(i.name, i.action) for i in plan.items] == [
        ("tank/c/C3", "absent"), ("tank/c/C1/a", "destroy"), ("tank/c/C1", "destroy"), ("tank/c/C2", "destroy")]


@pytest.mark.parametrize("extra, targets, recursive, words", [
    ({"tank/c/X": "tank/other@x"}, ["tank/c/X"], False, ["tank/c/X (a clone of tank/other@x), not a clone of " + SNAP]),
    ({"tank/c/X": None}, ["tank/c/X"], False, ["tank/c/X (exists and is not a clone)"]),
    ({"tank/c/C1": SNAP, "tank/c/C1/mine": None}, ["tank/c/C1"], False,
     ["tank/c/C1/mine (exists and is not a clone) is inside clone tank/c/C1 and is not part of this batch"]),
    ({"tank/c/C1": SNAP, "tank/c/C1/a": "tank/projects/P/a@s1"}, ["tank/c/C1"], False,
     ["use recursive: true"]),
    ({"tank/c/C1": SNAP, "tank/c/C1/mine": None}, ["tank/c/C1"], True,
     ["tank/c/C1/mine (exists and is not a clone) is inside clone tank/c/C1 but is not a clone of "
      "tank/projects/P/mine@s1"]),
    ({}, ["tank/projects/P"], False, ["is the source dataset"]),
])
def test_plan_absent_refuses_what_is_not_its_own(extra, targets, recursive, words):
    datasets = source_tree(children=("a",))[0]
    datasets["tank/c"] = None
    datasets.update(extra)
    with pytest.raises((ZfsCloneError, ZfsNameError)) as err:
        plan_absent(SNAP, targets, listing(datasets), recursive=recursive)
    for word in words:
        assert word in str(err.value)


# --------------------------------------------------------------------------- whole batches


def test_a_batch_runs_few_commands_and_a_rerun_runs_two():
    fake = FakeZfs(*source_tree())
    cli = make_cli(fake)
    result = run(cli, "tank/c/C[1-3]", snapshot=SNAP, properties={"canmount": "noauto"})
    assert result["changed"] and result["created"] == ["tank/c/C1", "tank/c/C2", "tank/c/C3"]
    assert result["parents_created"] == ["tank/c"]
    assert result["commands"] == 6
    assert [c[1] for c in fake.calls] == ["list", "list", "clone", "clone", "clone", "list"]
    assert fake.calls[2] == ["zfs", "clone", "-p", "-o", "canmount=noauto", SNAP, "tank/c/C1"]
    assert fake.calls[0][-1] == "tank"  # the common ancestor of the source and the clones
    assert result["clones"][0] == {"name": "tank/c/C1", "origin": SNAP, "state": "created", "mountpoint": "/mnt/tank/c/C1"}
    assert result["diff"] == {"before": {"clones": []}, "after": {"clones": ["tank/c/C1", "tank/c/C2", "tank/c/C3"]}}

    cli = make_cli(fake)
    again = run(cli, "tank/c/C[1-3]", snapshot=SNAP)
    assert not again["changed"] and again["existing"] == ["tank/c/C1", "tank/c/C2", "tank/c/C3"]
    assert again["commands"] == 2


def test_the_listing_is_rooted_at_the_deepest_common_ancestor():
    datasets, snapshots = source_tree()
    fake = FakeZfs(datasets, snapshots)
    run(make_cli(fake), ["tank/projects/C1", "tank/projects/C2"], snapshot=SNAP)
    assert fake.calls[0][-1] == "tank/projects"


def test_check_mode_runs_only_the_listings():
    fake = FakeZfs(*source_tree())
    result = run(make_cli(fake), "tank/c/C[1-3]", source="tank/projects/P", snapshot_name="new",
                 create_snapshot=True, check_mode=True)
    assert result["changed"] and result["snapshot_created"] and result["created"] == ["tank/c/C1", "tank/c/C2", "tank/c/C3"]
    assert "would create snapshot tank/projects/P@new" in result["msg"]
    assert fake.mutations() == []
    assert result["clones"][0]["mountpoint"] is None


def test_create_snapshot_is_recursive_and_reused():
    fake = FakeZfs(*source_tree(children=("a",)))
    result = run(make_cli(fake), ["tank/c/C1"], source="tank/projects/P", snapshot_name="new", create_snapshot=True)
    assert result["snapshot_created"] and ["snapshot", "-r", "tank/projects/P@new"] in fake.mutations()
    assert "tank/projects/P/a@new" in fake.snapshots
    again = run(make_cli(fake), ["tank/c/C1"], source="tank/projects/P", snapshot_name="new", create_snapshot=True)
    assert not again["changed"] and not again["snapshot_created"]


def test_a_failure_mid_batch_rolls_back_deepest_first_and_the_last_made_first():
    fake = FakeZfs(*source_tree())
    fake.fail[("clone", "-p", SNAP, "tank/c/C9/x")] = [(1, "cannot mount '/mnt/tank/c/C9/x': directory is not empty\n", "made")]
    cli = make_cli(fake)
    with pytest.raises(ZfsCloneError) as err:
        run(cli, ["tank/c/C1", "tank/c/C1/inner", "tank/c/C2", "tank/c/C9/x", "tank/c/C9/y"], snapshot=SNAP)
    res = err.value.result
    assert res["failed"] == "tank/c/C9/x" and "directory is not empty" in res["stderr"]
    # parents first: C1, C2, then C1/inner; C9/x fails (made, not mounted); then the half-made one goes,
    # the clones deepest first (the last made first), and the parents `zfs clone -p` made
    assert fake.mutations() == [
        ["clone", "-p", SNAP, "tank/c/C1"], ["clone", "-p", SNAP, "tank/c/C2"],
        ["clone", SNAP, "tank/c/C1/inner"], ["clone", "-p", SNAP, "tank/c/C9/x"],
        ["destroy", "tank/c/C9/x"],
        ["unmount", "tank/c/C1/inner"], ["destroy", "tank/c/C1/inner"],
        ["unmount", "tank/c/C2"], ["destroy", "tank/c/C2"],
        ["unmount", "tank/c/C1"], ["destroy", "tank/c/C1"],
        ["unmount", "tank/c/C9"], ["destroy", "tank/c/C9"],
        ["unmount", "tank/c"], ["destroy", "tank/c"]]
    assert res["rolled_back"] == ["tank/c/C1/inner", "tank/c/C2", "tank/c/C1", "tank/c/C9", "tank/c"]
    assert res["created"] == []
    assert sorted(fake.datasets) == ["tank", "tank/projects", "tank/projects/P"]
    assert "creating clone tank/c/C9/x from %s failed: cannot mount" % SNAP in err.value.msg
    assert "made but not mounted and was destroyed" in err.value.msg
    assert "Rolled back: destroyed the 3 clones this call had created." in err.value.msg
    states = dict((c["name"], c["state"]) for c in res["clones"])
    assert states == {"tank/c/C1": "rolled_back", "tank/c/C1/inner": "rolled_back", "tank/c/C2": "rolled_back",
                      "tank/c/C9/x": "failed", "tank/c/C9/y": "not_created"}


def test_rollback_also_removes_a_snapshot_the_call_created():
    fake = FakeZfs(*source_tree())
    fake.fail[("clone", "-p", "tank/projects/P@new", "tank/c/C2")] = [(1, "out of space", None)]
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake), "tank/c/C[1-2]", source="tank/projects/P", snapshot_name="new", create_snapshot=True)
    assert err.value.result["rolled_back"][-1] == "tank/projects/P@new"
    assert fake.snapshots == {SNAP}
    assert "and the snapshot tank/projects/P@new" in err.value.msg


def test_without_rollback_the_made_clones_are_reported_and_kept():
    fake = FakeZfs(*source_tree())
    fake.fail[("clone", "-p", SNAP, "tank/c/C3")] = [(1, "cannot mount: directory is not empty", "made")]
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake), "tank/c/C[1-4]", snapshot=SNAP, rollback=False)
    res = err.value.result
    assert res["created"] == ["tank/c/C1", "tank/c/C2"] and res["rolled_back"] == []
    assert "these 2 clones were created and exist: tank/c/C1, tank/c/C2" in err.value.msg
    assert sorted(n for n in fake.datasets if n.startswith("tank/c/")) == ["tank/c/C1", "tank/c/C2"]


def test_a_rollback_that_cannot_destroy_says_what_is_left():
    fake = FakeZfs(*source_tree())
    fake.fail[("clone", "-p", SNAP, "tank/c/C2")] = [(1, "boom", None)]
    fake.fail[("destroy", "tank/c/C1")] = [(1, "cannot destroy 'tank/c/C1': dataset is busy", None)] * 3
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake, retries=2), "tank/c/C[1-2]", snapshot=SNAP)
    assert "Could not clean up: tank/c/C1:" in err.value.msg and "still busy after 3 attempts" in err.value.msg
    assert err.value.result["created"] == ["tank/c/C1"]


def test_absent_unmounts_deepest_first_then_destroys_the_tops():
    datasets, snapshots = source_tree(children=("a",))
    datasets.update({"tank/c": None, "tank/c/C1": SNAP, "tank/c/C1/a": "tank/projects/P/a@s1", "tank/c/C2": SNAP})
    fake = FakeZfs(datasets, snapshots)
    result = run(make_cli(fake), "tank/c/C[1-3]", snapshot=SNAP, state="absent", recursive=True)
    assert fake.mutations() == [
        ["unmount", "tank/c/C1/a"], ["unmount", "tank/c/C1"], ["unmount", "tank/c/C2"],
        ["destroy", "-r", "tank/c/C1"], ["destroy", "-r", "tank/c/C2"]]
    assert result["destroyed"] == ["tank/c/C1/a", "tank/c/C1", "tank/c/C2"]
    assert result["commands"] == 6 and result["changed"]
    assert SNAP in fake.snapshots and "tank/projects/P" in fake.datasets
    again = run(make_cli(fake), "tank/c/C[1-3]", snapshot=SNAP, state="absent", recursive=True)
    assert not again["changed"] and again["commands"] == 1


def test_absent_with_a_missing_source_lists_the_pool():
    fake = FakeZfs({"tank": None})
    result = run(make_cli(fake), ["tank/gone/C1"], snapshot="tank/gone/P@s1", state="absent")
    assert not result["changed"] and [c[-1] for c in fake.calls] == ["tank/gone", "tank"]
    assert result["clones"] == [{"name": "tank/gone/C1", "origin": "tank/gone/P@s1", "state": "absent", "mountpoint": None}]


def test_a_missing_pool_is_named():
    fake = FakeZfs({})
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake), ["tank/c/C1"], snapshot=SNAP)
    assert "pool tank does not exist or is not imported" in err.value.msg


def test_absent_failure_reports_what_was_destroyed():
    datasets, snapshots = source_tree()
    datasets.update({"tank/c": None, "tank/c/C1": SNAP, "tank/c/C2": SNAP})
    fake = FakeZfs(datasets, snapshots)
    fake.fail[("destroy", "-r", "tank/c/C2")] = [(1, "cannot destroy: has dependent clones", None)]
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake), "tank/c/C[1-2]", snapshot=SNAP, state="absent")
    assert err.value.result["destroyed"] == ["tank/c/C1"] and err.value.result["remaining"] == ["tank/c/C2"]
    assert "has dependent clones" in err.value.msg


def test_a_snapshot_made_meanwhile_is_reused_and_a_failed_one_changes_nothing():
    datasets, snapshots = source_tree()
    fake = FakeZfs(datasets, snapshots | {"tank/projects/P@new"})
    # the listing does not show it yet; by the time `zfs snapshot` runs, another job has made it
    fake.fail[("list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", "tank/projects/P")] = [(0, "", None)]
    fake.fail[("snapshot", "-r", "tank/projects/P@new")] = [
        (1, "cannot create snapshot 'tank/projects/P@new': dataset already exists", None)]
    result = run(make_cli(fake), ["tank/c/C1"], source="tank/projects/P", snapshot_name="new", create_snapshot=True)
    assert result["snapshot_created"] is False and result["created"] == ["tank/c/C1"]
    assert result["warnings"] == ["snapshot tank/projects/P@new appeared while this call ran; it was reused"]

    fake = FakeZfs(*source_tree())
    fake.fail[("snapshot", "-r", "tank/projects/P@new")] = [(1, "cannot create snapshot: out of space", None)]
    with pytest.raises(ZfsCloneError) as err:
        run(make_cli(fake), ["tank/c/C1"], source="tank/projects/P", snapshot_name="new", create_snapshot=True)
    assert "creating snapshot tank/projects/P@new failed" in err.value.msg and "Nothing was changed" in err.value.msg
    assert [c[0] for c in fake.mutations()] == ["snapshot"]


# --------------------------------------------------------------------------- runners

def test_a_given_runner_runs_every_command():
    seen = []
    cli = ZfsCli("/sbin/zfs", runner=lambda argv: seen.append(argv) or (0, "out", ""))
    assert cli.run(["list", "-H"]) == "out"
    assert seen == [["/sbin/zfs", "list", "-H"]]


def test_the_default_runner_runs_a_real_process_in_the_c_locale(tmp_path):
    # /usr/bin/env as "zfs": the output is the environment the command got
    cli = ZfsCli("/usr/bin/env")
    environment = dict(line.split("=", 1) for line in cli.run([]).splitlines() if "=" in line)
    assert environment["LC_ALL"] == "C" and environment["LANG"] == "C"
