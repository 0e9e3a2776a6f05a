# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gns3_project_reset and gns3_project_info through ansible-playbook, on copies of the sample project."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "playbooks", "files", "sample_project")


@pytest.fixture
def projects(tmp_path):
    root = tmp_path / "projects"
    shutil.copytree(SAMPLE, str(root / "source"))
    for index in range(1, 5):
        shutil.copytree(SAMPLE, str(root / ("clone%d" % index)))
    return root


def batch(root, count=4):
    return [{"path": str(root / ("clone%d" % i)), "name": "Cexam_%02d" % i} for i in range(1, count + 1)]


def files(root):
    out = {}
    for base, _dirs, names in os.walk(str(root)):
        for name in names:
            with open(os.path.join(base, name), "rb") as handle:
                out[os.path.relpath(os.path.join(base, name), str(root))] = handle.read()
    return out


def test_check_mode_plans_and_writes_nothing(run_module, projects):
    before = files(projects)
    result = run_module("labfarm.massclone.gns3_project_reset",
                        {"projects_root": str(projects), "projects": batch(projects)}, check=True, diff=True)
    assert result["changed"] is True, result
    assert files(projects) == before
    assert [p["name"] for p in result["projects"]] == ["Cexam_01", "Cexam_02", "Cexam_03", "Cexam_04"]
    after = result["diff"]["after"][str(projects / "clone1")]
    assert after["name"] == "Cexam_01" and after["consoles"] == "9996-10000"
    assert any("VPCS" in w for w in result.get("warnings", []))


def test_reset_then_rerun_unchanged_and_info_reports_the_files(run_module, projects):
    args = {"projects_root": str(projects), "projects": batch(projects)}
    first = run_module("labfarm.massclone.gns3_project_reset", args)
    assert first["changed"] is True, first
    second = run_module("labfarm.massclone.gns3_project_reset", args)
    assert second["changed"] is False, second
    assert [p["project_id"] for p in second["projects"]] == [p["project_id"] for p in first["projects"]]

    info = run_module("labfarm.massclone.gns3_project_info", {"projects_root": str(projects), "names": "Cexam_[01-04],Cexam_09"})
    assert info["changed"] is False
    assert info["missing"] == ["Cexam_09"]
    assert [p["name"] for p in info["projects"]] == ["Cexam_01", "Cexam_02", "Cexam_03", "Cexam_04"]
    for described, reset in zip(info["projects"], first["projects"]):
        assert described["nodes"] == reset["nodes"]
        with open(described["file"]) as handle:
            data = json.load(handle)
        assert [n["console"] for n in data["topology"]["nodes"]] == [n["console"] for n in described["nodes"]]
    ports = [n["console"] for p in info["projects"] for n in p["nodes"]]
    assert len(ports) == len(set(ports)) == 20
    assert set(ports) <= set(info["used_console_ports"])
    regex = run_module("labfarm.massclone.gns3_project_info", {"projects_root": str(projects), "regex": "^Cexam_0[12]$"})
    assert [p["name"] for p in regex["projects"]] == ["Cexam_01", "Cexam_02"]


def test_corrupt_file_fails_cleanly_and_writes_nothing(run_module, projects):
    with open(str(projects / "clone3" / "lab.gns3"), "w") as handle:
        handle.write('{"type": "topology", "revision": 9, ')
    before = files(projects)
    result = run_module("labfarm.massclone.gns3_project_reset", {"projects_root": str(projects), "projects": batch(projects)})
    assert result["failed"] is True
    assert str(projects / "clone3" / "lab.gns3") in result["msg"] and "is not valid JSON" in result["msg"]
    assert "Traceback" not in result.get("module_stderr", "") + result["msg"]
    assert files(projects) == before


def test_exhausted_range_fails_with_counts(run_module, projects):
    result = run_module("labfarm.massclone.gns3_project_reset",
                        {"projects_root": str(projects), "projects": batch(projects), "console_port_range": "7000-7009"})
    assert result["failed"] is True
    assert "needs 20 new console ports and only 10 are free" in result["msg"]


def test_unknown_owner_is_refused(run_module, projects):
    result = run_module("labfarm.massclone.gns3_project_reset",
                        {"projects_root": str(projects), "projects": batch(projects, 1), "owner": "no-such-user-xyz"})
    assert result["failed"] is True and "owner 'no-such-user-xyz' does not exist" in result["msg"]


def test_owner_and_group_are_set(run_module, projects):
    result = run_module("labfarm.massclone.gns3_project_reset",
                        {"projects_root": str(projects), "projects": batch(projects, 1), "owner": "nobody", "group": "nogroup"})
    assert result["changed"] is True, result
    import grp
    import pwd
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    for base, dirs, names in os.walk(str(projects / "clone1")):
        for name in dirs + names:
            info = os.lstat(os.path.join(base, name))
            assert (info.st_uid, info.st_gid) == (uid, gid), os.path.join(base, name)
    assert os.stat(str(projects / "source" / "lab.gns3")).st_uid != uid
