# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The imaging loop on QEMU/TCG libvirt domains, each behind its own VirtualBMC, with blank disks (farm.yml: the
imaging system, the netboot server, then playbooks/image_nodes.yml). In the order they run, on the same machines:
1. four machines in one run network-boot the imaging system, get the golden disk through one ring, are
   personalised and boot from their disks: each disk holds the golden disk's boot partition byte for byte, each
   installed system its own host name, machine-id and SSH host keys (four distinct, none the golden's), the serial
   consoles show each booted its disk under its name, the boot entries end on local;
2. ORBIT's parallel imaging with faults, in one pair of runs at once on the four machines and a fifth: two groups,
   two golden images; a third run naming a machine the first is imaging is refused with that run named; a machine
   its BMC powers off in mid-ring fails at stage ring while the other three finish; a machine with a wrong MAC in
   the inventory fails at stage netboot; the reruns (again two at once) image only those two (the second, whose
   disk is smaller than the image, then fails at stage disk with nothing written); every machine ends holding its
   group's image."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab.golden import read_root_file, root_offset  # noqa: E402  pylint: disable=wrong-import-position,import-error
from lab.imaging_farm import ipmitool, ssh_argv  # noqa: E402  pylint: disable=wrong-import-position,import-error

HERE = os.path.dirname(os.path.abspath(__file__))


PLAYBOOK = os.path.join(HERE, "farm.yml")
SETUP_PLAYBOOK = os.path.join(HERE, "farm_setup.yml")
MEMORY_MIB = 320          # the imaging system unpacks ~77 MB into memory and runs the ring's receiver
DISK_MIB = 160            # the golden disk is 128 MiB
NODES = ("node1", "node2", "node3", "node4")
STAGE_TASKS = (("entry", "Stage entry"), ("power", "Stage power"), ("netboot", "Stage netboot"), ("disk", "Stage disk"),
               ("ring", "Stage ring"), ("verify", "Stage verify"), ("identity", "Stage identity"), ("local", "Stage local"),
               ("reboot", "Stage reboot"), ("disk_boot", "Stage disk_boot"))


def write_inventory(farm, key, image, workdir, nodes, extra=None, setup=True):
    net = farm.net
    subnets = [{"network": net.network, "gateway": net.server_ip, "dns": []}]
    profiles = {"imaging": {"type": "imaging", "label": "Imaging system", "kernel": "imaging/labfarm-imaging-vmlinuz",
                            "initrd": "imaging/labfarm-imaging-initrd.img", "append": "console=ttyS0,115200n8 quiet",
                            "server": net.controller_ip}}
    hosts = {}
    for node in nodes:
        hosts[node["name"]] = {
            "ansible_host": node["address"], "mac": node.get("inventory_mac", node["mac"]), "bmc": node["bmc"],
            "bmc_port": node["bmc_port"], "bmc_user": node["bmc_user"], "bmc_password": node["bmc_password"],
            "ansible_user": "root", "ansible_ssh_private_key_file": key.private,
            # keepalives: a machine that loses power mid-task leaves Ansible's persistent SSH connection waiting for
            # TCP to give up (15 minutes) unless the client probes it (docs/image_nodes.md says so for real farms)
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 "
                                       "-o ServerAliveInterval=5 -o ServerAliveCountMax=3",
            "ansible_python_interpreter": "/usr/bin/python3"}
    variables = {
        "farm": {"netns": net.srv_ns, "bridge": net.bridge, "server": net.server_ip, "dir": farm.workdir + "/etc",
                 "state_dir": farm.workdir + "/state", "tftp_root": farm.tftp_root, "subnets": subnets, "key": key.public,
                 "results": os.path.join(workdir, "results.json"), "setup": setup,
                 # the netboot server serves what the inventory says, as on a real site (a wrong MAC there too)
                 "hosts": [{"name": n["name"], "mac": n.get("inventory_mac", n["mac"]), "ip": n["address"], "boot": "local"}
                           for n in nodes]},
        "image_nodes_image": image, "image_nodes_disk": "/dev/vda", "image_nodes_state_dir": os.path.join(farm.workdir, "image_nodes"),
        "image_nodes_netboot_config": {"backend": "dnsmasq", "dest": farm.workdir + "/etc/dnsmasq.conf", "subnets": subnets,
                                       "tftp_root": farm.tftp_root, "profiles": profiles},
        "image_nodes_timeout_netboot": 300, "image_nodes_timeout_disk_boot": 420,
        "disk_ring_replay_buffer": 32, "disk_ring_timeout": 60, "disk_ring_poll_interval": 3, "disk_ring_state_dir": farm.ring_state_dir,
    }
    variables.update(extra or {})
    data = {"all": {"vars": variables,
                    "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                            "disk_ring_address": net.controller_ip}},
                    "children": {"image_nodes": {"hosts": hosts}}}}
    path = os.path.join(workdir, "inventory.json")
    with open(path, "w") as handle:
        json.dump(data, handle)
    return path


def start(ansible_env, inventory, log, playbook=PLAYBOOK):
    """ansible-playbook farm.yml in the background; finish() waits for it."""
    env = dict(ansible_env, ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    out = open(log, "w")
    proc = subprocess.Popen(["ansible-playbook", "-i", inventory, "-f", "10", playbook], env=env, stdout=out,
                            stderr=subprocess.STDOUT, text=True)
    proc.started, proc.out, proc.log = time.monotonic(), out, log
    return proc


def finish(proc, timeout=1800):
    try:
        proc.wait(timeout=max(1, timeout - (time.monotonic() - proc.started)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.out.close()
    with open(proc.log) as handle:
        return proc.returncode, handle.read(), time.monotonic() - proc.started


def play(ansible_env, inventory, log, playbook=PLAYBOOK):
    return finish(start(ansible_env, inventory, log, playbook))


def ssh(key, node, command):
    return subprocess.run(ssh_argv(key, node, command), capture_output=True, text=True, timeout=60, check=False)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("waited %d s for %s" % (timeout, what))


def stage_seconds(result):
    """Per stage, the seconds from its start to the next stage's start (the slowest node), from the times the role
    records per node (image_nodes_state.started)."""
    names = [name for name, dummy in STAGE_TASKS] + ["done"]
    out = {}
    for this, following in zip(names, names[1:]):
        spans = [n["started"][following] - n["started"][this] for n in result["nodes"].values()
                 if this in n.get("started", {}) and following in n.get("started", {})]
        if spans:
            out[this] = max(spans)
    return out


def stage_times(result):
    """stage_seconds as one line."""
    return ", ".join("%s %.1f s" % (stage, seconds) for stage, seconds in stage_seconds(result).items())


@pytest.mark.slow
def test_four_machines_imaged_personalised_and_booted_from_their_disks(farm, golden_disk, ansible_env, tmp_path):
    key, golden = golden_disk
    nodes = [farm.add_node(name, 11 + i, memory=MEMORY_MIB, disk_mib=DISK_MIB) for i, name in enumerate(NODES)]
    inventory = write_inventory(farm, key, golden["path"], str(tmp_path), nodes)
    rc, output, seconds = play(ansible_env, inventory, str(tmp_path / "run1.log"))
    serials = "\n".join("--- %s\n%s" % (n["name"], farm.serial(n["name"])[-1500:]) for n in nodes)
    assert rc == 0, "%s\n--- serials:\n%s" % (output[-12000:], serials)
    print("\n[image_nodes] one ansible-playbook run, 4 machines: %.1f s" % seconds)
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["ok"] == list(NODES) and result["failed"] == [], result
    print("[image_nodes] stages (slowest node): %s" % stage_times(result))

    # the ring wrote the golden disk's bytes: every node reports the source's digest
    digests = {result["nodes"][n]["digest"] for n in NODES}
    assert len(digests) == 1, result
    # each machine booted from its disk under its own name, with its own machine-id
    for node in nodes:
        line = re.findall(r"labfarm-golden: hostname (\S+) machine-id (\S+)", farm.serial(node["name"]))
        assert line and line[-1] == (node["name"], result["nodes"][node["name"]]["machine_id"]), farm.serial(node["name"])[-2000:]
        assert farm.boot_device(node["name"]) == "hd"
        entry = open(os.path.join(farm.tftp_root, "pxelinux.cfg", "01-" + node["mac"].replace(":", "-"))).read()
        assert "LOCALBOOT" in entry, entry
    identities = []
    for node in nodes:       # what each running system holds (its root file system is mounted: ask it, not the disk)
        proc = ssh(key, node, "cat /etc/hostname /etc/machine-id /etc/ssh/ssh_host_ed25519_key.pub; sync")
        lines = proc.stdout.split("\n")
        assert proc.returncode == 0 and lines[0] == node["name"], proc.stdout + proc.stderr
        assert lines[2].split()[1] == result["nodes"][node["name"]]["host_keys"]["ed25519"].split()[1]
        identities.append((lines[1], lines[2].split()[1]))
    for node in nodes:
        farm.destroy(node["name"])
    with open(golden["path"], "rb") as handle:
        golden_boot = handle.read(root_offset())
    for node in nodes:
        with open(node["disk"], "rb") as handle:
            assert handle.read(root_offset()) == golden_boot, "%s: MBR and boot partition differ from the golden disk" % node["name"]
    golden_id = (read_root_file(golden["path"], "/etc/machine-id").decode().strip(),
                 read_root_file(golden["path"], "/etc/ssh/ssh_host_ed25519_key.pub").decode().split()[1])
    assert len({i[0] for i in identities} | {golden_id[0]}) == 5, identities
    assert len({i[1] for i in identities} | {golden_id[1]}) == 5, identities


def power_off_in_mid_ring(farm, name, progress_file, proc, timeout=900):
    """Wait until the ring has written part of ``name``'s disk (the run's progress file on the source), then power
    the machine off through its BMC, as a failing node or an operator would. Returns the progress seen."""
    def in_mid_ring():
        if proc.poll() is not None:
            raise AssertionError("the run ended before %s was in mid-ring" % name)
        try:
            with open(progress_file) as handle:
                seen = json.load(handle)["nodes"].get(name)
        except (OSError, ValueError, KeyError):
            return None
        return seen if seen and 0 < seen["written"] < seen["total"] else None
    seen = wait_for(in_mid_ring, timeout, "the ring to reach %s" % name)
    proc = ipmitool(farm.nodes[name], "chassis", "power", "off")
    assert proc.returncode == 0, proc.stderr
    return seen


def start_runs(farm, key, ansible_env, tmp_path, runs, tag):
    """Start one ansible-playbook per run id at once ({run: (nodes, image, extra)}); {run: (process, workdir)}."""
    started = {}
    for run_id, (nodes, image, extra) in sorted(runs.items()):
        workdir = tmp_path / ("%s-%s" % (run_id, tag))
        workdir.mkdir()
        inventory = write_inventory(farm, key, image["path"], str(workdir), nodes, dict(extra, image_nodes_run_id=run_id), setup=False)
        started[run_id] = (start(ansible_env, inventory, str(workdir / "run.log")), workdir)
    return started


def finish_runs(started):
    """{run: (rc, result, output)} once every run has ended."""
    done = {}
    for run_id, (proc, workdir) in sorted(started.items()):
        rc, output, seconds = finish(proc)
        result = json.loads((workdir / "results.json").read_text()) if (workdir / "results.json").exists() else {}
        print("[image_nodes] %s: %.1f s, rc %d; stages: %s" % (run_id, seconds, rc, stage_times(result) if result else "-"))
        done[run_id] = (rc, result, output)
    return done


@pytest.mark.slow
def test_two_runs_at_once_with_two_images_a_machine_powered_off_in_mid_ring_a_wrong_mac_and_the_reruns(
        farm, golden_disk, golden_b, ansible_env, tmp_path):
    """ORBIT's parallel imaging, with the faults in the same runs (one pair of runs on four machines, not two: the
    suite's time). Run orbit-a images node1 and node2 with the golden disk "golden-b" while run orbit-b images node3,
    node4 and node5 with "golden", on one netboot server, BMC network and state directory:
    - a third run that names node2 while orbit-a holds it is refused with orbit-a named, touching nothing;
    - node2 is powered off through its BMC once the ring has written part of its disk (orbit-a's source is held to
      6 MiB/s, disk_ring_rate_limit, so the ring lasts): it fails at stage ring while node1, node3 and node4 finish;
    - node5, a new machine given a wrong MAC in the inventory, never boots the imaging entry: stage netboot.
    The reruns, again two at once, with node5's right MAC: each images only its failed node; node2 finishes, node5's
    64 MiB disk is smaller than the image, so it fails at stage disk with nothing written. In the end every machine
    holds its group's image under its own name, and a failed node's entry never pointed it at a half-written disk."""
    key, golden = golden_disk
    if len(farm.nodes) < 4:
        pytest.skip("needs the four machines of the first test")
    nodes = [dict(farm.nodes[name]) for name in NODES]
    small = farm.add_node("node5", 15, memory=MEMORY_MIB, disk_mib=64)      # the 128 MiB image does not fit
    wrong = dict(small, inventory_mac="52:54:00:ee:ee:05")
    # the netboot server serves what the site's inventory says (node5's wrong MAC too), set up before the runs
    rc, output, dummy = play(ansible_env, write_inventory(farm, key, golden["path"], str(tmp_path), nodes + [wrong]),
                             str(tmp_path / "setup.log"), playbook=SETUP_PLAYBOOK)
    assert rc == 0, output[-4000:]
    progress_file = os.path.join(farm.ring_state_dir, "image-orbit-a.progress.json")    # orbit-a's ring session
    if os.path.exists(progress_file):
        os.unlink(progress_file)
    runs = start_runs(farm, key, ansible_env, tmp_path, {
        "orbit-a": (nodes[:2], golden_b, {"image_nodes_force": True, "disk_ring_rate_limit": "6M", "disk_ring_timeout": 30}),
        "orbit-b": (nodes[2:] + [wrong], golden, {"image_nodes_force": True, "image_nodes_timeout_netboot": 150})}, "faults")

    lock = os.path.join(farm.workdir, "image_nodes", "locks", "node2.lock")
    wait_for(lambda: os.path.exists(lock) or runs["orbit-a"][0].poll() is not None, 300, "orbit-a to lock node2")
    third = tmp_path / "third"
    third.mkdir()
    inventory = write_inventory(farm, key, golden["path"], str(third), [nodes[1]],
                                {"image_nodes_run_id": "third", "image_nodes_force": True}, setup=False)
    rc, output, dummy = play(ansible_env, inventory, str(third / "run.log"))
    assert rc != 0 and "node node2 is being imaged by run orbit-a" in output, output[-4000:]
    assert "Boot entry to the imaging profile" not in output, output[-4000:]

    seen = power_off_in_mid_ring(farm, "node2", progress_file, runs["orbit-a"][0])
    print("\n[image_nodes] node2 powered off at %d of %d bytes" % (seen["written"], seen["total"]))
    done = finish_runs(runs)
    (rc_a, result_a, out_a), (rc_b, result_b, out_b) = done["orbit-a"], done["orbit-b"]
    assert rc_a != 0 and result_a["ok"] == ["node1"] and result_a["failed"] == ["node2"], (result_a, out_a[-6000:])
    assert rc_b != 0 and result_b["ok"] == ["node3", "node4"] and result_b["failed"] == ["node5"], (result_b, out_b[-6000:])
    # powered off, node2 no longer answers SSH: Ansible calls it UNREACHABLE (no rescue catches that), and the
    # result says where it was lost
    assert result_a["nodes"]["node2"]["stage"] == "ring" and re.search(r"node2 +FAILED +ring", out_a), result_a["nodes"]["node2"]
    assert result_b["nodes"]["node5"]["stage"] == "netboot" and re.search(r"node5 +FAILED +netboot", out_b), result_b["nodes"]["node5"]
    assert result_a["nodes"]["node1"]["digest"] != result_b["nodes"]["node3"]["digest"] == result_b["nodes"]["node4"]["digest"]
    entry = open(os.path.join(farm.tftp_root, "pxelinux.cfg", "01-" + nodes[1]["mac"].replace(":", "-"))).read()
    assert "LOCALBOOT" not in entry, entry      # left on the imaging entry: never booted from a half-written disk

    rc, output, dummy = play(ansible_env, write_inventory(farm, key, golden["path"], str(tmp_path), nodes + [small]),
                             str(tmp_path / "setup2.log"), playbook=SETUP_PLAYBOOK)     # node5's MAC put right
    assert rc == 0, output[-4000:]
    done = finish_runs(start_runs(farm, key, ansible_env, tmp_path, {
        "orbit-a": (nodes[:2], golden_b, {}), "orbit-b": (nodes[2:] + [small], golden, {})}, "rerun"))
    (rc_a, result_a, out_a), (rc_b, result_b, out_b) = done["orbit-a"], done["orbit-b"]
    assert rc_a == 0 and result_a["ok"] == ["node2"] and result_a["skipped"] == ["node1"], (result_a, out_a[-6000:])
    assert rc_b != 0 and result_b["failed"] == ["node5"] and result_b["skipped"] == ["node3", "node4"], (result_b, out_b[-6000:])
    assert result_b["nodes"]["node5"]["stage"] == "disk", result_b["nodes"]["node5"]
    assert ("node node5: the image %s (%d bytes) is larger than its disk /dev/vda (%d bytes); nothing was written"
            % (golden["path"], 128 * 1024 * 1024, 64 * 1024 * 1024)) in result_b["nodes"]["node5"]["reason"], result_b["nodes"]["node5"]
    with open(small["disk"], "rb") as handle:
        assert handle.read(1024 * 1024) == bytes(1024 * 1024), "node5's disk was written"
    for node, want in zip(nodes, ("golden-b", "golden-b", "golden", "golden")):
        proc = ssh(key, node, "cat /etc/labfarm-golden /etc/hostname")
        assert proc.returncode == 0 and proc.stdout.split() == [want, node["name"]], (node["name"], proc.stdout, proc.stderr)
    assert not os.listdir(os.path.join(farm.workdir, "image_nodes", "locks"))
