# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gns3_project_reset and gns3_project_info through ansible-playbook, on copies of the sample project."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

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
    """Every file under root with its content, but the farm lock (made by the first run that writes, and kept)."""
    out = {}
    for base, _dirs, names in os.walk(str(root)):
        for name in names:
            if name == ".labfarm-farm.lock":
                continue
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


# --- two runs at the same moment (issue 12, section 1) ---------------------------------------------

# Started by the race tests: imports Ansible first, then waits at the barrier (a file appearing), then
# runs the module file as Ansible would run it (its args JSON as argv[1]).
BARRIER_RUNNER = r"""
import os, runpy, sys, time
import ansible.module_utils.basic  # noqa: F401  (imported before the barrier: both start the module at once)
module, args, go = sys.argv[1:4]
while not os.path.exists(go):
    time.sleep(0.001)
sys.argv = [module, args]
runpy.run_path(module, run_name="__main__")
"""
RESET_MODULE = os.path.join(ROOT, "plugins", "modules", "gns3_project_reset.py")


def rich_source(root):
    """The sample project plus an IOU and a dynamips node, so application_id and dynamips_id count too."""
    shutil.copytree(SAMPLE, str(root / "source"))
    path = str(root / "source" / "lab.gns3")
    with open(path) as handle:
        data = json.load(handle)
    data["topology"]["nodes"].extend([
        {"node_id": "0c7d2d2e-1111-4d7e-9a3c-000000000001", "name": "IOU1", "node_type": "iou", "compute_id": "local",
         "console": 5101, "console_type": "telnet", "x": 0, "y": 0, "z": 1,
         "properties": {"application_id": 1, "path": "i86bi.bin", "ethernet_adapters": 2}},
        {"node_id": "0c7d2d2e-1111-4d7e-9a3c-000000000002", "name": "R1", "node_type": "dynamips", "compute_id": "local",
         "console": 5102, "console_type": "telnet", "x": 0, "y": 0, "z": 1,
         "properties": {"platform": "c7200", "dynamips_id": 1, "mac_addr": "ca01.1234.0000", "aux": 5103}}])
    with open(path, "w") as handle:
        json.dump(data, handle)


def start_resets(tmp_path, collections_path, batches, extra=None):
    """One module process per batch, all released together; [(returncode, result)] once they end."""
    go = tmp_path / "go"
    if go.exists():
        go.unlink()
    env = dict(os.environ, PYTHONPATH=collections_path)
    procs = []
    for index, args in enumerate(batches):
        args_file = tmp_path / ("args%d.json" % index)
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, **(extra or {}))}))
        procs.append(subprocess.Popen([sys.executable, "-c", BARRIER_RUNNER, RESET_MODULE, str(args_file), str(go)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    time.sleep(1.5)   # both have imported Ansible and wait at the barrier
    go.write_text("go")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        try:
            results.append((proc.returncode, json.loads(out)))
        except ValueError:
            results.append((proc.returncode, {"failed": True, "msg": out + err}))
    return results


def duplicates(values):
    return sorted(value for value, count in collections.Counter(values).items() if count > 1)


def farm_values(root):
    """Every console port, adapter MAC, dynamips_id and application_id of every project under root."""
    ports, macs, dyn_ids, app_ids = [], [], [], []
    for entry in sorted(os.listdir(str(root))):
        path = os.path.join(str(root), entry, "lab.gns3")
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            nodes = json.load(handle)["topology"]["nodes"]
        for node in nodes:
            props = node.get("properties") or {}
            ports.extend(port for port in (node.get("console"), props.get("aux")) if isinstance(port, int))
            if props.get("mac_address"):
                macs.append(props["mac_address"])
            if props.get("mac_addr"):
                macs.append(props["mac_addr"])
            if node["node_type"] == "dynamips":
                dyn_ids.append(props["dynamips_id"])
            if node["node_type"] == "iou":
                app_ids.append(props["application_id"])
    return ports, macs, dyn_ids, app_ids


def test_two_module_runs_released_together_never_collide(tmp_path, collections_path):
    """Two gns3_project_reset processes on one projects root, released together, 3 rounds of 2 x 30 clones:
    both succeed, and no console port, MAC, dynamips_id or application_id is held twice."""
    root = tmp_path / "projects"
    rich_source(root)
    for round_number in range(3):
        batches = []
        for run_number in range(2):
            requests = []
            for index in range(30):
                name = "R%d_%d_%02d" % (round_number, run_number, index)
                shutil.copytree(str(root / "source"), str(root / name))
                requests.append({"path": str(root / name), "name": name})
            batches.append({"projects_root": str(root), "projects": requests})
        results = start_resets(tmp_path, collections_path, batches)
        for returncode, result in results:
            assert returncode == 0 and not result.get("failed"), result.get("msg")
        ports, macs, dyn_ids, app_ids = farm_values(root)
        assert len(ports) == 8 * (1 + 60 * (round_number + 1))   # 5 + IOU + dynamips console and aux
        assert duplicates(ports) == [] and duplicates(macs) == [], (round_number, len(duplicates(ports)))
        assert duplicates(dyn_ids) == [] and duplicates(app_ids) == []


LOCK_HOLDER = r"""
import sys
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm_lock import farm_lock
with farm_lock(sys.argv[1], 5):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_held_farm_lock_makes_a_run_wait_or_fail_naming_the_holder(tmp_path, projects, collections_path):
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(projects)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=collections_path))
    try:
        assert holder.stdout.readline().strip() == "held"
        before = files(projects)
        [(returncode, result)] = start_resets(tmp_path, collections_path, [
            {"projects_root": str(projects), "projects": batch(projects), "lock_timeout": 1}])
        assert returncode != 0 and result["failed"] is True
        msg = result["msg"]
        assert "another gns3_project_reset is working on projects_root %s, and nothing was written" % projects in msg
        assert "pid %d on host %s (gns3_project_reset) since 20" % (holder.pid, socket.gethostname()) in msg
        assert "lock_timeout=1" in msg
        assert files(projects) == before

        # the same run with time to wait: it waits for the holder, then succeeds
        # (start_resets releases the module 1.5 s after it starts it; the holder lets go 1 s later)
        threading.Timer(2.5, holder.stdin.close).start()
        started = time.time()
        [(returncode, result)] = start_resets(tmp_path, collections_path, [
            {"projects_root": str(projects), "projects": batch(projects), "lock_timeout": 60}])
        assert returncode == 0 and result["changed"] is True, result.get("msg")
        assert 2.4 < time.time() - started < 30
    finally:
        holder.kill()
        holder.wait(10)
