# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gns3_project_reset's clone option: plan, clone and reset in one call, all or nothing.

ZfsCli._run_command is the one thing patched: a stand-in zfs that keeps its datasets in a dict and does to
the files what zfs would (a clone is a copy of the snapshot's directory at its mountpoint, destroy removes
it). The snapshot's content is its own copy, so a test can make it differ from the live source. The real
zfs (zfs-fuse) runs the same calls in tests/integration/zfs/test_mass_clone_role.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import ZfsCli
from ansible_collections.labfarm.massclone.plugins.modules import gns3_project_reset

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures", "gns3"))
POOL = "tank"
PROJECTS = "tank/projects"
SOURCE = "tank/projects/src"
SNAP = SOURCE + "@s1"


class StandInZfs:
    """Datasets under tank/projects, each mounted at <root>/<last component>; one snapshot of src."""

    def __init__(self, root, snapshot_dir):
        self.root = str(root)
        self.snapshot_dir = snapshot_dir          # the files the snapshot holds
        self.datasets = {POOL: "-", PROJECTS: "-", SOURCE: "-"}   # name -> origin
        self.snapshots = [SNAP]
        self.calls = []
        self.fail_clone = None

    def mountpoint(self, name):
        return self.root if name == PROJECTS else os.path.join(self.root, name.split("/")[-1])

    def __call__(self, cli, argv):
        args = argv[1:]
        self.calls.append(args)
        if args[0] == "list" and "snapshot" in args:
            return 0, "".join(s + "\n" for s in self.snapshots), ""
        if args[0] == "list":
            rows = ["%s\t%s\tfilesystem\t%s\tyes\n" % (name, origin, "/" + name if name == POOL else self.mountpoint(name))
                    for name, origin in sorted(self.datasets.items())]
            return 0, "".join(rows), ""
        if args[0] == "clone":
            target = args[-1]
            if target == self.fail_clone:
                return 1, "", "cannot create '%s': out of space\n" % target
            shutil.copytree(self.snapshot_dir, self.mountpoint(target))
            self.datasets[target] = args[-2]
            return 0, "", ""
        if args[0] == "unmount":
            return 0, "", ""
        if args[0] == "destroy":
            name = args[-1]
            if "@" in name:
                self.snapshots.remove(name)
            else:
                shutil.rmtree(self.mountpoint(name))
                del self.datasets[name]
            return 0, "", ""
        return 1, "", "unexpected zfs call %r\n" % (args,)

    def made(self):
        return [args[-1] for args in self.calls if args[0] == "clone"]


@pytest.fixture
def farm(tmp_path, monkeypatch):
    """A projects root holding the 3.x lab project as src, the snapshot's copy of it, and the stand-in zfs."""
    root = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects", "lab_v3.0.6"), str(root / "src"))
    snapshot_dir = str(tmp_path / "snapshot")
    shutil.copytree(str(root / "src"), snapshot_dir)
    zfs = StandInZfs(root, snapshot_dir)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/sbin/zfs")

    def run_command(cli, argv):   # ZfsCli's method: the stand-in answers for every ZfsCli
        return zfs(cli, argv)

    monkeypatch.setattr(ZfsCli, "_run_command", run_command)
    return root, zfs


def clone_args(root, count=3, **extra):
    args = {"projects_root": str(root), "plan_from": str(root / "src"), "clone": {"snapshot": SNAP},
            "projects": [{"path": str(root / ("c%d" % i)), "name": "Cexam_%02d" % i, "dataset": "%s/c%d" % (PROJECTS, i)}
                         for i in range(1, count + 1)]}
    args.update(extra)
    return args


def farm_files(root):
    """Every file under the root with its content: what 'the farm as it was' means (the farm lock's file,
    which says who held it last, aside)."""
    found = {}
    for directory, dummy, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            if name == ".labfarm-farm.lock":
                continue
            with open(path, "rb") as handle:
                found[os.path.relpath(path, str(root))] = handle.read()
    return found


def test_one_call_clones_and_resets_and_a_rerun_changes_nothing(farm, run_module):
    root, zfs = farm
    result = run_module(gns3_project_reset, clone_args(root))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["clone"]["created"] == ["tank/projects/c1", "tank/projects/c2", "tank/projects/c3"]
    assert result["clone"]["snapshot"] == SNAP and result["clone"]["snapshot_created"] is False
    assert sorted(result["durations"]) == ["clone", "plan", "reset"] and all(t >= 0 for t in result["durations"].values())
    assert [p["name"] for p in result["projects"]] == ["Cexam_01", "Cexam_02", "Cexam_03"]
    for index, project in enumerate(result["projects"], 1):
        with open(str(root / ("c%d" % index) / "lab.gns3")) as handle:
            written = json.load(handle)
        assert written["name"] == project["name"] and written["project_id"] == project["project_id"]
    ports = [n["console"] for p in result["projects"] for n in p["nodes"] if n["console"] is not None]
    assert len(ports) == len(set(ports)) > 0
    # the lock taken, then one listing, the snapshot listing, one clone per dataset, one listing at the end
    assert [c[0] for c in zfs.calls] == ["list", "list", "clone", "clone", "clone", "list"]

    again = run_module(gns3_project_reset, clone_args(root))
    assert again["changed"] is False and again["clone"]["created"] == []
    assert again["clone"]["existing"] == result["clone"]["created"]
    assert [p["console"] for p in again["projects"][0]["nodes"]] == [p["console"] for p in result["projects"][0]["nodes"]]


def test_check_mode_plans_the_batch_and_makes_nothing(farm, run_module):
    root, zfs = farm
    before = farm_files(root)
    result = run_module(gns3_project_reset, clone_args(root, _ansible_check_mode=True))
    assert result["changed"] is True and result["clone"]["created"] == ["tank/projects/c1", "tank/projects/c2",
                                                                        "tank/projects/c3"]
    assert farm_files(root) == before and zfs.made() == []
    assert all(p["nodes"] for p in result["projects"])


def test_an_exhausted_range_is_refused_before_any_dataset_is_made(farm, run_module):
    root, zfs = farm
    before = farm_files(root)
    result = run_module(gns3_project_reset, clone_args(root, count=4, console_port_range="9995-10000"))
    assert result["failed"] and "console_port_range 9995-10000 is exhausted" in result["msg"]
    assert zfs.made() == [] and farm_files(root) == before


def test_a_clone_failing_mid_batch_is_rolled_back(farm, run_module):
    root, zfs = farm
    zfs.fail_clone = "tank/projects/c2"
    result = run_module(gns3_project_reset, clone_args(root))
    assert result["failed"] and "clone: creating clone tank/projects/c2" in result["msg"] and "out of space" in result["msg"]
    assert "Rolled back" in result["msg"] and result["clone"]["created"] == []
    assert sorted(os.listdir(str(root))) == [".labfarm-farm.lock", "src"]


def test_a_reset_failing_after_the_clones_destroys_them_and_says_so(farm, run_module):
    """The snapshot was taken when the source's file was broken (the live file has been mended since): the
    plan from the live file passes, the clones hold the broken file, and their reset fails."""
    root, zfs = farm
    with open(os.path.join(zfs.snapshot_dir, "lab.gns3"), "w") as handle:
        handle.write('{"type": "topology", "revision": 10, ')
    before = farm_files(root)
    result = run_module(gns3_project_reset, clone_args(root, count=2))
    assert result["failed"] and "lab.gns3 is not valid JSON" in result["msg"]
    assert "this call destroyed the datasets it had made (tank/projects/c1, tank/projects/c2)" in result["msg"]
    assert result["clone"]["created"] == [] and result["clone"]["snapshot_created"] is False
    assert farm_files(root) == before
    assert sorted(os.listdir(str(root))) == [".labfarm-farm.lock", "src"]   # the empty mountpoints too


def test_a_snapshot_this_call_took_goes_with_its_clones(farm, run_module, monkeypatch):
    root, zfs = farm
    zfs.snapshots = []
    with open(os.path.join(zfs.snapshot_dir, "lab.gns3"), "w") as handle:
        handle.write("not json")

    def snapshot_too(cli, argv):   # `zfs snapshot -r` takes the snapshot the stand-in then lists
        if argv[1] == "snapshot":
            zfs.calls.append(argv[1:])
            zfs.snapshots.append(argv[-1])
            return 0, "", ""
        return zfs(cli, argv)

    monkeypatch.setattr(ZfsCli, "_run_command", snapshot_too)
    result = run_module(gns3_project_reset, clone_args(root, count=1, clone={"snapshot": SNAP, "create_snapshot": True}))
    assert result["failed"] and "and the snapshot %s" % SNAP in result["msg"]
    assert zfs.snapshots == [] and ["destroy", "-r", SNAP] in zfs.calls


@pytest.mark.parametrize("change, words", [
    ({"clone": {"snapshot": "tank/projects/src"}}, "clone.snapshot 'tank/projects/src' is not a snapshot"),
    ({"plan_from": None}, "clone needs plan_from"),
    ({"projects": [{"path": "/x/c1", "name": "Cexam_01"}]}, "projects[0] (Cexam_01) has no dataset"),
    ({"clone": {"snapshot": SNAP, "properties": {"bad name": "x"}}}, "clone: "),
])
def test_bad_clone_inputs_are_refused_before_anything(farm, run_module, change, words):
    root, zfs = farm
    args = clone_args(root)
    args.update(change)
    if args["plan_from"] is None:
        del args["plan_from"]
    result = run_module(gns3_project_reset, args)
    assert result["failed"] and words in result["msg"], result["msg"]
    assert zfs.calls == [] and sorted(os.listdir(str(root))) == ["src"]


def test_an_unexpected_error_after_the_clones_still_destroys_them(farm, run_module, monkeypatch):
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3 import reset

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    root, zfs = farm
    monkeypatch.setattr(reset, "apply_reset", broken)
    result = run_module(gns3_project_reset, clone_args(root, count=2))
    assert result["failed"] and "resetting the clones failed: MemoryError('out of memory')" in result["msg"]
    assert "this call destroyed the datasets it had made" in result["msg"]
    assert sorted(os.listdir(str(root))) == [".labfarm-farm.lock", "src"]


def test_a_write_failing_on_a_rerun_that_made_no_dataset_says_so(farm, run_module, monkeypatch):
    """Every clone exists already and the rerun must rewrite them (another console range); the write fails: the
    error says no dataset was made, and the clones stay."""
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3 import apply

    def refuse(plan, owner_uid=None, owner_gid=None):
        raise OSError(28, "No space left on device")

    root, zfs = farm
    assert not run_module(gns3_project_reset, clone_args(root, count=2)).get("failed")
    monkeypatch.setattr(apply, "stage_plan", refuse)
    result = run_module(gns3_project_reset, clone_args(root, count=2, console_port_range="6000-7000"))
    assert result["failed"] and "No space left on device" in result["msg"]
    assert "no dataset had been made: nothing was changed" in result["msg"]
    assert result["clone"]["created"] == [] and sorted(os.listdir(str(root))) == [".labfarm-farm.lock", "c1", "c2", "src"]


# clone.source: the call finds the source by its name and derives each clone's id, directory and dataset.

LAB_ID = "7aab081c-090d-45bf-b3c2-d81f2145175e"   # the fixture's project_id


def source_args(root, names=("Cexam_01", "Cexam_02"), **clone):
    options = {"source": "lab", "projects_dataset": PROJECTS, "source_dataset": SOURCE, "snapshot_name": "s1"}
    options.update(clone)
    return {"projects_root": str(root), "projects": [{"name": name} for name in names], "clone": options}


def test_clone_source_finds_the_source_and_derives_ids_paths_and_datasets(farm, run_module):
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import derive_project_id

    root, zfs = farm
    result = run_module(gns3_project_reset, source_args(root))
    assert not result.get("failed"), result.get("msg")
    assert result["source"] == {"name": "lab", "project_id": LAB_ID, "path": str(root / "src"), "snapshot": SNAP}
    ids = [derive_project_id(LAB_ID, name) for name in ("Cexam_01", "Cexam_02")]
    assert result["clone"]["created"] == ["%s/%s" % (PROJECTS, project_id) for project_id in ids]
    assert [(p["name"], p["project_id"], p["path"]) for p in result["projects"]] == [
        ("Cexam_01", ids[0], str(root / ids[0])), ("Cexam_02", ids[1], str(root / ids[1]))]
    with open(str(root / ids[1] / "lab.gns3")) as handle:
        assert json.load(handle)["name"] == "Cexam_02"
    again = run_module(gns3_project_reset, source_args(root))
    assert again["changed"] is False and again["clone"]["existing"] == result["clone"]["created"]
    assert again["source"] == result["source"]   # the clones, same name and project file, are not taken for it


def test_clone_source_derives_the_snapshot_from_the_projects_dataset(farm, run_module):
    root, zfs = farm
    args = dict(source_args(root), _ansible_check_mode=True)
    del args["clone"]["source_dataset"]
    result = run_module(gns3_project_reset, args)
    assert result["failed"] and "%s/%s@s1" % (PROJECTS, LAB_ID) in result["msg"]   # no such dataset here: refused
    assert zfs.made() == [] and sorted(os.listdir(str(root))) == ["src"]


def test_clone_source_picks_the_one_in_the_directory_named_after_its_id(farm, run_module):
    """Another run's clones not reset yet are byte copies of the source (same name and project_id)."""
    root, zfs = farm
    os.rename(str(root / "src"), str(root / LAB_ID))
    shutil.copytree(str(root / LAB_ID), str(root / "0f9d7c4e-1111-5222-8333-444455556666"))
    result = run_module(gns3_project_reset, dict(source_args(root), _ansible_check_mode=True))
    assert not result.get("failed"), result.get("msg")
    assert result["source"]["path"] == str(root / LAB_ID)


@pytest.mark.parametrize("layout, words", [
    ({"src": "lab"}, "clone.source 'nope': no project under projects_root"),
    ({"a": "lab", "b": "lab"}, "clone.source 'lab' matches 2 projects under projects_root"),
])
def test_a_missing_or_ambiguous_source_is_refused_before_anything(farm, run_module, layout, words):
    root, zfs = farm
    if "a" in layout:
        shutil.copytree(str(root / "src"), str(root / "a"))
        os.rename(str(root / "src"), str(root / "b"))
    args = source_args(root)
    if "src" in layout:
        args["clone"]["source"] = "nope"
    result = run_module(gns3_project_reset, args)
    assert result["failed"] and words in result["msg"], result["msg"]
    assert zfs.calls == [] and ".labfarm-farm.lock" not in os.listdir(str(root))


@pytest.mark.parametrize("change, words", [
    ({"projects_dataset": None}, "clone.source needs clone.projects_dataset"),
    ({"snapshot_name": "a@b"}, "clone.snapshot_name 'a@b' is not a snapshot name"),
])
def test_bad_clone_source_inputs_are_refused_before_anything(farm, run_module, change, words):
    root, zfs = farm
    result = run_module(gns3_project_reset, source_args(root, **change))
    assert result["failed"] and words in result["msg"], result["msg"]
    assert zfs.calls == []


def test_a_project_without_path_needs_clone_source(farm, run_module):
    root, zfs = farm
    args = clone_args(root)
    del args["projects"][1]["path"]
    result = run_module(gns3_project_reset, args)
    assert result["failed"] and "projects[1] (Cexam_02) has no path" in result["msg"]
    assert zfs.calls == []


def test_clone_source_with_no_clones_reports_the_source_and_makes_nothing(farm, run_module):
    """A server whose share of the set is empty still checks that it holds the source."""
    root, zfs = farm
    result = run_module(gns3_project_reset, source_args(root, names=(), create_snapshot=True))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["projects"] == [] and result["source"]["project_id"] == LAB_ID
    assert result["clone"]["created"] == [] and result["clone"]["snapshot_created"] is False
    assert [c[0] for c in zfs.calls] == []
