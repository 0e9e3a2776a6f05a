# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gns3_project_info and gns3_project_reset's own glue, on the projects real GNS3 servers wrote
(tests/fixtures/gns3): options, the one farm scan, warnings, errors that carry the result.

The reset itself is tested in tests/unit/plugins/module_utils/test_gns3_project.py and, through
ansible-playbook, in tests/integration/test_gns3_project_modules.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

import pytest

from ansible_collections.labfarm.massclone.plugins.modules import gns3_project_info, gns3_project_reset

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures", "gns3"))


@pytest.fixture
def root(tmp_path):
    """A projects root: the 3.x lab project as src and two copies, clone1 and clone2."""
    projects = tmp_path / "projects"
    for name in ("src", "clone1", "clone2"):
        shutil.copytree(os.path.join(FIXTURES, "projects", "lab_v3.0.6"), str(projects / name))
    return projects


def reset_args(root, count=2, **extra):
    args = {"projects_root": str(root),
            "projects": [{"path": str(root / ("clone%d" % i)), "name": "Cexam_%02d" % i} for i in range(1, count + 1)]}
    args.update(extra)
    return args


def test_info_selects_by_range_and_reports_what_is_used(root, run_module):
    run_module(gns3_project_reset, reset_args(root))
    result = run_module(gns3_project_info, {"projects_root": str(root), "names": "Cexam_[01-03]"})
    assert result["changed"] is False
    assert [p["name"] for p in result["projects"]] == ["Cexam_01", "Cexam_02"]
    assert result["missing"] == ["Cexam_03"]
    assert result["unreadable"] == []
    ports = [n["console"] for p in result["projects"] for n in p["nodes"] if n["console"] is not None]
    assert len(ports) == len(set(ports)) == 8 and set(ports) <= set(result["used_console_ports"])
    assert all(p["summary"]["consoles"] for p in result["projects"])


def test_info_names_a_list_taken_literally_and_a_regex(root, run_module):
    result = run_module(gns3_project_info, {"projects_root": str(root), "names": ["lab", "lab", "x[1-2]"]})
    assert [p["path"] for p in result["projects"]] == [str(root / n) for n in ("clone1", "clone2", "src")]
    assert result["missing"] == ["x[1-2]"]
    assert run_module(gns3_project_info, {"projects_root": str(root), "names": []})["projects"] == []
    result = run_module(gns3_project_info, {"projects_root": str(root), "regex": "^la"})
    assert len(result["projects"]) == 3


@pytest.mark.parametrize("args, words", [
    ({"names": "Cexam_[01-"}, ["names: ", "Write a range such as Cexam_[01-40]"]),
    ({"names": ["a", 3]}, ["names[1] is 3 (int)"]),
    ({"names": {"a": 1}}, ["names must be a range expression", "got dict"]),
    ({"regex": "("}, ["regex '(' is not a valid regular expression"]),
    ({"projects_root": "/nonexistent/labfarm"}, ["projects_root /nonexistent/labfarm is not a directory"]),
])
def test_info_bad_options_fail_cleanly(root, run_module, args, words):
    result = run_module(gns3_project_info, dict({"projects_root": str(root)}, **args))
    assert result["failed"]
    for word in words:
        assert word in result["msg"]


def test_info_and_reset_scan_the_root_alike(root, run_module):
    """One farm scan: a hidden ._lab.gns3 is no project for either module, a corrupt lab.gns3 is one for both."""
    with open(str(root / "src" / "._lab.gns3"), "wb") as handle:
        handle.write(b"\x00\x05\x16\x07")
    assert run_module(gns3_project_info, {"projects_root": str(root)})["unreadable"] == []
    assert run_module(gns3_project_reset, reset_args(root))["changed"] is True
    os.makedirs(str(root / "broken"))
    with open(str(root / "broken" / "b.gns3"), "w") as handle:
        handle.write("{")
    info = run_module(gns3_project_info, {"projects_root": str(root)})
    assert [u["path"] for u in info["unreadable"]] == [str(root / "broken" / "b.gns3")]
    assert "is not valid JSON" in json.dumps(info["warnings"])
    reset = run_module(gns3_project_reset, reset_args(root))
    assert reset["failed"] and "broken/b.gns3 is not valid JSON" in reset["msg"] and "repair it or move it out" in reset["msg"]


def test_reset_check_mode_diff_and_warnings(root, run_module):
    before = open(str(root / "clone1" / "lab.gns3")).read()
    result = run_module(gns3_project_reset, reset_args(root, _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] is True
    assert open(str(root / "clone1" / "lab.gns3")).read() == before
    assert result["diff"]["after"][str(root / "clone1")]["name"] == "Cexam_01"
    assert "VPCS" in json.dumps(result["warnings"])
    assert "diff" not in run_module(gns3_project_reset, reset_args(root, _ansible_check_mode=True))


def test_reset_unknown_owner_is_refused_before_anything(root, run_module):
    result = run_module(gns3_project_reset, reset_args(root, owner="no-such-user-labfarm"))
    assert result["failed"] and "owner 'no-such-user-labfarm' does not exist on this host" in result["msg"]


def test_reset_write_failure_carries_the_result(root, run_module, monkeypatch):
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3 import apply

    def refuse(plan, owner_uid=None, owner_gid=None):
        if plan.request.name == "Cexam_02":
            raise OSError(28, "No space left on device")
        return real_stage(plan, owner_uid, owner_gid)

    real_stage = apply.stage_plan
    monkeypatch.setattr(apply, "stage_plan", refuse)
    result = run_module(gns3_project_reset, reset_args(root))
    assert result["failed"] and result["changed"] is True
    assert "No space left on device" in result["msg"] and "Projects finished: %s" % (root / "clone1") in result["msg"]
    assert [p["name"] for p in result["projects"]] == ["Cexam_01", "Cexam_02"]
    assert "diff" not in result


def test_a_failed_replacement_leaves_no_temporary_and_the_rerun_finishes(root, run_module, monkeypatch):
    """The batch writes every new file first, then replaces them: a replacement that fails leaves the old file
    and no temporary beside it, names the project, and a rerun converges."""
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3 import apply

    def refuse(pending):
        if any("clone2" in path for dummy, path in pending):
            raise OSError(5, "Input/output error")
        real_commit(pending)

    real_commit = apply._commit
    monkeypatch.setattr(apply, "_commit", refuse)
    result = run_module(gns3_project_reset, reset_args(root))
    assert result["failed"] and "%s: [Errno 5] Input/output error" % (root / "clone2") in result["msg"]
    assert not [name for name in os.listdir(str(root / "clone2")) if name.endswith(".tmp")]
    monkeypatch.setattr(apply, "_commit", real_commit)
    again = run_module(gns3_project_reset, reset_args(root))
    assert not again.get("failed") and again["changed"] is True
    assert run_module(gns3_project_reset, reset_args(root))["changed"] is False


# --- issue 12: the batch decided before its copies exist, and the farm lock's option ------------------

def test_plan_from_decides_clones_that_do_not_exist_yet_as_their_copies_will_be(tmp_path, run_module):
    projects = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects", "lab_v3.0.6"), str(projects / "src"))
    planned = run_module(gns3_project_reset, reset_args(projects, plan_from=str(projects / "src"), _ansible_check_mode=True))
    assert planned["changed"] is True and not planned.get("failed"), planned.get("msg")
    assert sorted(os.listdir(str(projects))) == ["src"]   # check mode: nothing made, not even the lock file
    for name in ("clone1", "clone2"):
        shutil.copytree(str(projects / "src"), str(projects / name))
    done = run_module(gns3_project_reset, reset_args(projects, plan_from=str(projects / "src")))
    assert done["changed"] is True
    assert [(p["path"], p["project_id"], p["name"], p["nodes"]) for p in planned["projects"]] == \
        [(p["path"], p["project_id"], p["name"], p["nodes"]) for p in done["projects"]]


def test_plan_from_is_only_for_check_mode(tmp_path, run_module):
    projects = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects", "lab_v3.0.6"), str(projects / "src"))
    result = run_module(gns3_project_reset, reset_args(projects, plan_from=str(projects / "src")))
    assert result["failed"] is True and "project path %s does not exist" % (projects / "clone1") in result["msg"]
    assert sorted(os.listdir(str(projects))) == [".labfarm-farm.lock", "src"]


def test_a_bad_lock_timeout_is_refused_before_anything_is_read(root, run_module):
    result = run_module(gns3_project_reset, reset_args(root, lock_timeout=-1))
    assert result["failed"] is True and "lock_timeout must be a whole number from 0 to 86400" in result["msg"]
    assert not os.path.exists(str(root / ".labfarm-farm.lock"))


# --- issue 12 section 3: remote computes, and numeric ownership -------------------------------------

def test_reset_numeric_owner_and_group_need_no_such_user_on_this_host(root, run_module):
    """The storage host that runs the reset need not have the servers' gns3 user: a uid and gid are taken
    as they are (as YAML's unquoted numbers too)."""
    import grp
    import pwd
    uid, gid = 54321, 54322
    with pytest.raises(KeyError):
        pwd.getpwuid(uid)
    with pytest.raises(KeyError):
        grp.getgrgid(gid)
    result = run_module(gns3_project_reset, reset_args(root, owner=str(uid), group=gid))
    assert result["changed"] is True and not result.get("failed"), result.get("msg")
    for name in ("clone1", "clone2"):
        for base, dirs, names in os.walk(str(root / name)):
            for entry in [""] + dirs + names:
                info = os.lstat(os.path.join(base, entry) if entry else base)
                assert (info.st_uid, info.st_gid) == (uid, gid), os.path.join(base, entry)
    assert run_module(gns3_project_reset, reset_args(root, owner=str(uid), group=str(gid)))["changed"] is False


# GNS3 3.x (these projects) keys computes by UUID
C1, C2 = "5e1c4b47-2a57-4ae8-9f2b-0000000000c1", "5e1c4b47-2a57-4ae8-9f2b-0000000000c2"


def test_reset_places_nodes_on_computes_through_the_module(root, run_module):
    computes = [{"id": C1, "host": "10.0.0.11", "capacity": 5, "console_port_range": "30000-30099"},
                {"id": C2, "host": "10.0.0.12", "port": 3443, "protocol": "https", "name": "second",
                 "node_types": ["vpcs", "qemu"]}]
    args = reset_args(root, computes=computes, compute_placement={"per": "clone", "policy": "concentrated"})
    result = run_module(gns3_project_reset, args)
    assert not result.get("failed"), result.get("msg")
    assert [(c["id"], c["name"], c["projects"], c["nodes"], c["capacity"]) for c in result["computes"]] == \
        [(C1, C1, 1, 5, 5), (C2, "second", 1, 5, None)]
    first, second = result["projects"]
    assert set(n["compute_id"] for n in first["nodes"]) == {C1} and first["summary"]["computes"] == {C1: 5}
    assert all(30000 <= n["console"] <= 30099 for n in first["nodes"] if n["console"])
    assert set(n["compute_id"] for n in second["nodes"]) == {C2}
    with open(str(root / "clone2" / "lab.gns3")) as handle:
        assert json.load(handle)["topology"]["computes"] == [
            {"compute_id": C2, "host": "10.0.0.12", "name": "second", "port": 3443, "protocol": "https"}]
    assert run_module(gns3_project_reset, args)["changed"] is False
    info = run_module(gns3_project_info, {"projects_root": str(root)})
    by_compute = info["used_console_ports_by_compute"]
    assert sorted(by_compute) == sorted(["local", C1, C2])
    assert by_compute[C1] == sorted(n["console"] for n in first["nodes"] if n["console"])
    assert sorted(port for ports in by_compute.values() for port in ports) == sorted(info["used_console_ports"])


@pytest.mark.parametrize("computes, placement, words", [
    ([{"id": C1, "host": "h", "node_types": ["vpcs"]}], None,
     ["the 5 nodes of Cexam_01 (qemu, vpcs) cannot run on any compute of computes (%s runs vpcs)" % C1]),
    ([{"id": C1, "host": "h", "capacity": 7}], None, ["have no room for the batch: it places 10 nodes"]),
    ([{"id": "c1"}], None, ["computes[0] (c1) has no host"]),
    ([{"id": C1, "host": "h"}], {"from": ["local"], "policy": "best"}, ["value of policy must be one of"]),
])
def test_reset_compute_refusals_write_nothing(root, run_module, computes, placement, words):
    before = open(str(root / "clone1" / "lab.gns3")).read()
    args = reset_args(root, computes=computes)
    if placement:
        args["compute_placement"] = placement
    result = run_module(gns3_project_reset, args)
    assert result["failed"]
    for word in words:
        assert word in result["msg"]
    assert open(str(root / "clone1" / "lab.gns3")).read() == before


@pytest.mark.parametrize("check_mode", [True, False])
def test_return_nodes_false_leaves_the_nodes_out_and_keeps_the_verdict(root, run_module, check_mode):
    full = run_module(gns3_project_reset, reset_args(root, _ansible_check_mode=True))
    lean = run_module(gns3_project_reset, reset_args(root, return_nodes=False, _ansible_check_mode=check_mode))
    assert lean["changed"] is True
    assert all("nodes" not in project for project in lean["projects"])
    for mine, theirs in zip(lean["projects"], full["projects"]):
        theirs.pop("nodes")
        assert mine == theirs   # ids, names, summaries: the same plan
    if not check_mode:   # written all the same
        assert json.load(open(str(root / "clone1" / "lab.gns3")))["name"] == "Cexam_01"
