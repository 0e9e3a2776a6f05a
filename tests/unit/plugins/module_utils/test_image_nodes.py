# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The imaging loop's pure logic: node checks, rerun rule, results, identity plan, per-node locks."""

import os

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import checks, identity, runlock


def node(name, n, **over):
    base = {"name": name, "mac": "52:54:00:00:00:%02x" % n, "address": "10.0.0.%d" % n, "bmc": "10.1.0.%d" % n,
            "bmc_port": 623, "bmc_user": "admin", "bmc_password": "pw"}
    base.update(over)
    return base


def test_good_nodes_have_no_problem():
    assert checks.node_problems([node("a", 1), node("b", 2)]) == []


def test_missing_fields_name_the_node():
    problems = checks.node_problems([node("a", 1, mac="", address=None), node("b", 2, bmc="")])
    assert "node a: no MAC (mac)" in problems
    assert "node a: no address (address or ansible_host)" in problems
    assert "node b: no BMC address (bmc)" in problems


def test_duplicates_name_both_nodes_and_the_value():
    problems = checks.node_problems([node("a", 1), node("b", 2, mac="52-54-00-00-00-01", address="10.0.0.1", bmc="10.1.0.1")])
    assert "nodes a and b: the same MAC 52:54:00:00:00:01" in problems
    assert "nodes a and b: the same address 10.0.0.1" in problems
    assert "nodes a and b: the same BMC 10.1.0.1:623" in problems


def test_same_bmc_address_other_port_is_fine_and_malformed_mac_is_named():
    assert checks.node_problems([node("a", 1, bmc="h"), node("b", 2, bmc="h", bmc_port=624)]) == []
    assert checks.node_problems([node("a", 1, mac="zz:zz")]) == ["node a: malformed MAC 'zz:zz'"]


def test_disk_problem():
    assert checks.disk_problem("a", "/g.img", 100, "/dev/vda", 100) is None
    msg = checks.disk_problem("a", "/g.img", 200, "/dev/vda", 100)
    assert "node a" in msg and "/g.img (200 bytes)" in msg and "/dev/vda (100 bytes)" in msg


def test_pending_skips_only_nodes_done_with_the_same_image():
    finished = {"a": {"ok": True, "image_digest": "d1"}, "b": {"ok": True, "image_digest": "d0"}, "c": {"ok": False, "image_digest": "d1"}}
    assert checks.pending(["a", "b", "c", "d"], finished, "d1") == (["b", "c", "d"], ["a"])
    assert checks.pending(["a"], finished, "d1", force=True) == (["a"], [])


def test_a_node_that_stopped_answering_is_failed_at_the_last_stage_it_began():
    states = {"n1": {"ok": True, "failed": False, "stage": "done", "reason": ""},
              "n2": {"ok": False, "failed": False, "stage": "preflight", "reason": "",
                     "started": {"entry": 1.0, "power": 2.0, "netboot": 3.0, "disk": 4.0, "ring": 5.0}},
              "n3": {"ok": False, "failed": False, "stage": "preflight", "reason": ""}}
    result = checks.results(["n1", "n2", "n3"], states)
    assert result["ok"] == ["n1"] and result["failed"] == ["n2", "n3"]
    assert result["nodes"]["n2"]["stage"] == "ring" and result["nodes"]["n2"]["failed"] is True
    assert result["nodes"]["n2"]["reason"] == "the node stopped answering during stage ring (unreachable); the other nodes went on"
    assert result["nodes"]["n3"]["stage"] == "preflight"


def test_results_and_table():
    out = checks.results(["a", "b", "c"], {"a": {"ok": True, "stage": "done", "hostname": "a"},
                                           "b": {"ok": False, "stage": "netboot", "reason": "no ready line"}}, ["z"])
    assert out["ok"] == ["a"] and out["failed"] == ["b", "c"] and out["skipped"] == ["z"]
    assert out["nodes"]["c"]["reason"] == "the play lost this node (no record)"
    lines = checks.table(out)
    assert any(line.startswith("b ") and "FAILED" in line and "netboot" in line and "no ready line" in line for line in lines)
    assert lines[-1] == "1 ok, 2 failed, 1 skipped"
    skipped = checks.results([], {"z": {"ok": True, "skipped": True, "stage": "done", "reason": "earlier run"}}, ["z"])
    assert checks.table(skipped)[1].split()[:2] == ["z", "skip"]


def test_hosts_text_replaces_or_inserts_the_127_0_1_1_line():
    assert identity.hosts_text("127.0.0.1 localhost\n127.0.1.1 golden\n::1 x\n", "n1") == "127.0.0.1 localhost\n127.0.1.1\tn1\n::1 x\n"
    assert identity.hosts_text("127.0.0.1 localhost\n", "n1.lab") == "127.0.0.1 localhost\n127.0.1.1\tn1.lab n1\n"
    assert identity.hosts_text(None, "n1") == "127.0.1.1\tn1\n"


def test_machine_id_is_32_hex_and_never_zero():
    values = iter([b"\0" * 16, b"\x01" * 16])
    assert identity.new_machine_id(lambda n: next(values)) == "01" * 16
    assert len(identity.new_machine_id()) == 32


def golden_files():
    return {"hostname": "golden\n", "machine_id": "a" * 32 + "\n", "hosts": "127.0.0.1 localhost\n127.0.1.1 golden\n",
            "marker": None, "host_keys": {"ed25519": "ssh-ed25519 AAAA", "ecdsa": "ecdsa-sha2-nistp256 BBBB"}}


def test_plan_for_a_fresh_copy_changes_everything():
    plan = identity.plan(golden_files(), "n1")
    assert plan["hostname"] == "n1" and plan["hosts"].endswith("127.0.1.1\tn1\n")
    assert plan["machine_id"] and plan["machine_id"] != "a" * 32
    assert plan["regenerate_keys"] == ["ed25519", "ecdsa"]
    assert len(plan["changes"]) == 4


def test_plan_is_empty_when_the_marker_matches():
    files = golden_files()
    files.update(hostname="n1\n", hosts="127.0.0.1 localhost\n127.0.1.1\tn1\n")
    files["marker"] = identity.marker("n1", "a" * 32, files["host_keys"])
    assert identity.plan(files, "n1")["changes"] == []
    # the same disk for another name, or keys changed behind the marker's back: a new identity
    assert identity.plan(files, "n2")["machine_id"]
    files["host_keys"] = {"ed25519": "ssh-ed25519 CCCC"}
    assert identity.plan(files, "n1")["regenerate_keys"] == ["ed25519"]


def test_plan_refuses_a_bad_hostname():
    with pytest.raises(ValueError, match="not a valid host name"):
        identity.plan(golden_files(), "bad_name")
    assert identity.hostname_problem("node-1.lab") is None


def test_conflicts_ignore_own_run_and_dead_holders():
    holders = {"a": {"run": "r1", "pid": 1}, "b": {"run": "r2", "pid": 2}, "c": {"run": "r2", "pid": 3}, "d": None}
    alive = {1: True, 2: True, 3: False}.get
    assert runlock.conflicts(["a", "b", "c", "d"], holders, "r1", alive=alive) == {"b": {"run": "r2", "pid": 2}}


def test_locks_refuse_another_live_run_and_release(tmp_path):
    lock_dir = str(tmp_path / "locks")
    taken, conflicts = runlock.acquire(lock_dir, ["a", "b"], "r1", os.getpid())
    assert taken == ["a", "b"] and conflicts == {}
    assert runlock.acquire(lock_dir, ["a", "b"], "r1", os.getpid()) == ([], {})
    taken, conflicts = runlock.acquire(lock_dir, ["b", "c"], "r2", os.getpid())
    assert taken == [] and conflicts["b"]["run"] == "r1"
    assert not os.path.exists(runlock.lock_path(lock_dir, "c"))
    assert runlock.acquire(lock_dir, ["c", "d"], "r2", os.getpid())[0] == ["c", "d"]
    assert runlock.release(lock_dir, ["a", "b", "c"], "r1") == ["a", "b"]


def test_a_dead_runs_lock_is_taken_over(tmp_path):
    lock_dir = str(tmp_path)
    runlock.acquire(lock_dir, ["a"], "old", 2 ** 22 + 12345)     # no such PID
    assert runlock.acquire(lock_dir, ["a"], "new", os.getpid())[0] == ["a"]
    assert runlock.read(runlock.lock_path(lock_dir, "a"))["run"] == "new"


def test_the_lock_names_ansible_playbooks_main_process_not_the_worker_it_forked_for_the_task():
    """module (400) <- sh (300) <- worker (200, a fork of ansible-playbook: same command line, gone after the task)
    <- ansible-playbook (100) <- bash (50): the lock must outlive the task, so it names 100."""
    playbook = ["/venv/bin/python", "/venv/bin/ansible-playbook", "-i", "inv", "site.yml"]
    tree = {400: (300, ["/venv/bin/python", "/root/.ansible/tmp/x/AnsiballZ_image_nodes_lock.py"]),
            300: (200, ["/bin/sh", "-c", "python AnsiballZ_image_nodes_lock.py"]),
            200: (100, playbook), 100: (50, playbook), 50: (1, ["bash"])}
    assert runlock.playbook_pid(400, proc=tree.get) == 100
    runner = dict(tree)
    runner[50] = (1, ["/usr/bin/python3", "/usr/bin/ansible-runner", "run", "/data"])
    assert runlock.playbook_pid(400, proc=runner.get) == 50      # AWX: the runner lives as long as the job
    alone = {400: (300, ["python", "AnsiballZ"]), 300: (1, ["sh"])}
    assert runlock.playbook_pid(400, proc=alone.get) == os.getppid()   # no ansible-playbook above: the parent


def test_apply_writes_the_identity_into_a_root_tree_and_a_second_plan_is_empty(tmp_path):
    """identity_disk.apply on a directory laid out as the golden system's root (real ssh-keygen, no mount)."""
    import shutil
    import subprocess
    from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import identity_disk
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is missing")
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("golden\n")
    (root / "etc" / "machine-id").write_text("a" * 32 + "\n")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 golden\n")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "etc/ssh/ssh_host_ed25519_key")], check=True)
    before = identity_disk.read_identity(str(root))
    plan = identity.plan(before, "node7")
    after = identity_disk.apply(str(root), plan, "node7")
    assert (root / "etc" / "hostname").read_text() == "node7\n"
    assert after["machine_id"].strip() == plan["machine_id"] != "a" * 32
    assert after["host_keys"]["ed25519"] != before["host_keys"]["ed25519"]
    assert "127.0.1.1\tnode7" in (root / "etc" / "hosts").read_text()
    assert oct((root / "etc" / "machine-id").stat().st_mode & 0o777) == "0o444"
    assert identity.plan(identity_disk.read_identity(str(root)), "node7")["changes"] == []
