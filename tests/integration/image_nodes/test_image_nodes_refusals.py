# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/image_nodes.yml refuses bad input before any machine is touched, each message naming the node and the
value: nodes without a MAC, address or BMC, two nodes sharing one, a golden image that does not exist, and a node
another run is imaging at that moment (its lock names that run, and lives as long as the run). The nodes' addresses are TEST-NET-1 (never
reached: the refusals come first, and the netboot server's parameters point to a directory of the test)."""

import json
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "image_nodes.yml")


def node(n, **over):
    base = {"mac": "52:54:00:00:10:%02x" % n, "ansible_host": "192.0.2.%d" % n, "bmc": "127.0.0.1", "bmc_port": 16260 + n,
            "bmc_user": "admin", "bmc_password": "s3cr3t-pw"}
    base.update(over)
    return base


def inventory(tmp_path, nodes, image, **extra):
    variables = {
        "image_nodes_image": image, "image_nodes_state_dir": str(tmp_path / "state"), "image_nodes_bmc_check": False,
        "image_nodes_netboot_config": {"backend": "dnsmasq", "dest": str(tmp_path / "netboot" / "dnsmasq.conf"),
                                       "subnets": [{"network": "192.0.2.0/24"}], "tftp_root": str(tmp_path / "tftp"),
                                       "profiles": {"imaging": {"type": "imaging", "kernel": "i/vmlinuz", "initrd": "i/initrd.img",
                                                                "server": "192.0.2.254"}}},
    }
    variables.update(extra)
    data = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}, "vars": variables,
                    "children": {"image_nodes": {"hosts": nodes}}}}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(data))
    return str(path)


def golden(tmp_path):
    path = tmp_path / "golden.img"
    path.write_bytes(b"\0" * 4096)
    return str(path)


def play(run, inv):
    proc = run("ansible-playbook", "-i", inv, PLAYBOOK)
    return proc, proc.stdout + proc.stderr


def test_nodes_without_mac_address_or_bmc_and_shared_values_are_refused(run, tmp_path):
    nodes = {"n1": node(1), "n2": node(2, mac="52-54-00-00-10-01"), "n3": node(3, ansible_host="192.0.2.1"),
             "n4": node(4, bmc=""), "n5": node(5, mac=""), "n6": node(6, bmc_port=16261)}
    proc, out = play(run, inventory(tmp_path, nodes, golden(tmp_path)))
    assert proc.returncode != 0
    for text in ("nodes n1 and n2: the same MAC 52:54:00:00:10:01", "nodes n1 and n3: the same address 192.0.2.1",
                 "node n4: no BMC address (bmc)", "node n5: no MAC (mac)", "nodes n1 and n6: the same BMC 127.0.0.1:16261"):
        assert text in out, out[-4000:]
    assert "Boot entry" not in out and not (tmp_path / "tftp").exists()
    assert "s3cr3t-pw" not in out   # the BMC password is never printed


def test_a_golden_image_that_does_not_exist_is_refused(run, tmp_path):
    proc, out = play(run, inventory(tmp_path, {"n1": node(1), "n2": node(2)}, str(tmp_path / "missing.img")))
    assert proc.returncode != 0
    assert "the golden image %s does not exist on localhost" % (tmp_path / "missing.img") in out, out[-4000:]
    assert "Boot entry" not in out


def test_a_node_another_run_is_imaging_refuses_the_run_naming_it(run, tmp_path):
    locks = tmp_path / "state" / "locks"
    locks.mkdir(parents=True)
    other = {"run": "other-run-42", "pid": os.getpid(), "since": "2026-11-30T16:00:00+0000", "nodes": ["n2", "n9"]}
    (locks / "n2.lock").write_text(json.dumps(other))
    proc, out = play(run, inventory(tmp_path, {"n1": node(1), "n2": node(2)}, golden(tmp_path)))
    assert proc.returncode != 0
    assert "node n2 is being imaged by run other-run-42 (pid %d" % os.getpid() in out, out[-4000:]
    assert "Boot entry" not in out and not (locks / "n1.lock").exists()


def test_two_runs_on_disjoint_groups_both_proceed_past_the_locks(ansible_env, tmp_path):
    """Two runs at once on n1,n2 and n3,n4 with one state directory: neither is refused; both go on to touch their
    machines (here they stop at stage entry: the test's netboot server has no configuration) and release their
    locks."""
    import subprocess  # pylint: disable=import-outside-toplevel
    image = golden(tmp_path)
    procs = []
    for group, numbers in (("a", (1, 2)), ("b", (3, 4))):
        work = tmp_path / group
        work.mkdir()
        inv = inventory(work, {"n%d" % n: node(n) for n in numbers}, image, image_nodes_state_dir=str(tmp_path / "state"))
        procs.append(subprocess.Popen(["ansible-playbook", "-i", inv, PLAYBOOK], env=ansible_env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    for out, numbers in zip(outputs, ((1, 2), (3, 4))):
        assert "being imaged by" not in out, out[-4000:]
        for n in numbers:
            assert "image_nodes: n%d failed at stage entry" % n in out, out[-4000:]
    assert os.listdir(str(tmp_path / "state" / "locks")) == []


LOCK_AND_WAIT = """
- name: Take node n1's lock as image_nodes does, then go on with the run (a long stage)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Take the lock
      labfarm.massclone.image_nodes_lock:
        nodes: [n1]
        run: "{{ run_id }}"
        lock_dir: "{{ lock_dir }}"
    - name: A long stage
      ansible.builtin.wait_for:
        path: "{{ release }}"
        timeout: 120
"""


def test_a_lock_lives_as_long_as_its_run_not_as_the_task_that_took_it(ansible_env, tmp_path):
    """The lock records the PID of ansible-playbook itself: the worker process ansible-playbook forks for the lock's
    task exits with the task, and a lock naming it looked stale at once, so a second run took the node over while
    the first was still imaging it (seen with two real runs). Here a second run is refused for as long as the first
    runs, and takes the node once the first has ended without releasing it (killed)."""
    import subprocess  # pylint: disable=import-outside-toplevel
    playbook = tmp_path / "lock.yml"
    playbook.write_text(LOCK_AND_WAIT)
    release, locks = tmp_path / "release", tmp_path / "locks"

    def lock(run_id, wait):
        return ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook), "-e", json.dumps(
            {"run_id": run_id, "lock_dir": str(locks), "release": str(release) if wait else "/"})]
    first = subprocess.Popen(lock("first", True), env=ansible_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (locks / "n1.lock").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)      # the lock's task is over: its worker process is gone
        second = subprocess.run(lock("second", False), env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
        out = second.stdout + second.stderr
        assert second.returncode != 0 and "node n1 is being imaged by run first (pid %d" % first.pid in out, out[-3000:]
    finally:
        first.kill()
        first.communicate()
    third = subprocess.run(lock("third", False), env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert third.returncode == 0, third.stdout[-3000:]
    assert json.loads((locks / "n1.lock").read_text())["run"] == "third"
