# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole imaging loop on four machines in one ansible-playbook run (farm.yml: the imaging system, the netboot
server, then playbooks/image_nodes.yml): four QEMU/TCG libvirt domains with blank disks, each behind its own
VirtualBMC, network-boot the imaging system, get the golden disk through one ring, are personalised, and boot from
their disks. Then: each disk holds the golden disk's boot partition byte for byte, each installed system its own host
name, machine-id and SSH host keys (four distinct, none the golden's), the serial consoles show each machine booted
its disk under its name, the boot entries end on local, and a rerun images nothing."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab.golden import read_root_file, root_offset  # noqa: E402  pylint: disable=wrong-import-position,import-error

HERE = os.path.dirname(os.path.abspath(__file__))


PLAYBOOK = os.path.join(HERE, "farm.yml")
MEMORY_MIB = 320          # the imaging system unpacks ~77 MB into memory and runs the ring's receiver
DISK_MIB = 160            # the golden disk is 128 MiB
NODES = ("node1", "node2", "node3", "node4")
STAGE_TASKS = (("entry", "Stage entry"), ("power", "Stage power"), ("netboot", "Stage netboot"), ("disk", "Stage disk"),
               ("ring", "Stage ring"), ("verify", "Stage verify"), ("identity", "Stage identity"), ("local", "Stage local"),
               ("reboot", "Stage reboot"), ("disk_boot", "Stage disk_boot"))


def write_inventory(farm, key, image, workdir, nodes, extra=None):
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
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5",
            "ansible_python_interpreter": "/usr/bin/python3"}
    variables = {
        "farm": {"netns": net.srv_ns, "bridge": net.bridge, "server": net.server_ip, "dir": farm.workdir + "/etc",
                 "state_dir": farm.workdir + "/state", "tftp_root": farm.tftp_root, "subnets": subnets, "key": key.public,
                 "results": os.path.join(workdir, "results.json"),
                 # the netboot server serves what the inventory says, as on a real site (a wrong MAC there too)
                 "hosts": [{"name": n["name"], "mac": n.get("inventory_mac", n["mac"]), "ip": n["address"], "boot": "local"}
                           for n in nodes]},
        "image_nodes_image": image, "image_nodes_disk": "/dev/vda", "image_nodes_state_dir": os.path.join(farm.workdir, "image_nodes"),
        "image_nodes_netboot_config": {"backend": "dnsmasq", "dest": farm.workdir + "/etc/dnsmasq.conf", "subnets": subnets,
                                       "tftp_root": farm.tftp_root, "profiles": profiles},
        "image_nodes_timeout_netboot": 300, "image_nodes_timeout_disk_boot": 420,
        "disk_ring_replay_buffer": 32, "disk_ring_timeout": 60, "disk_ring_poll_interval": 3, "disk_ring_state_dir": "/run/labfarm-ring",
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


def play(ansible_env, inventory, log):
    started = time.monotonic()
    env = dict(ansible_env, ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    with open(log, "w") as out:
        proc = subprocess.run(["ansible-playbook", "-i", inventory, "-f", "10", PLAYBOOK], env=env, stdout=out,
                              stderr=subprocess.STDOUT, text=True, timeout=1800, check=False)
    with open(log) as handle:
        return proc.returncode, handle.read(), time.monotonic() - started


def stage_times(result):
    """Per stage, the seconds from its start to the next stage's start (the slowest node), from the times the role
    records per node (image_nodes_state.started)."""
    names = [name for name, dummy in STAGE_TASKS] + ["done"]
    out = []
    for this, following in zip(names, names[1:]):
        spans = [n["started"][following] - n["started"][this] for n in result["nodes"].values()
                 if this in n.get("started", {}) and following in n.get("started", {})]
        if spans:
            out.append("%s %.1f s" % (this, max(spans)))
    return ", ".join(out)


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
        proc = subprocess.run(["ssh", "-i", key.private, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                               "-o", "BatchMode=yes", "root@" + node["address"],
                               "cat /etc/hostname /etc/machine-id /etc/ssh/ssh_host_ed25519_key.pub; sync"],
                              capture_output=True, text=True, timeout=60, check=False)
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


@pytest.mark.slow
def test_a_wrong_mac_fails_at_netboot_while_another_finishes_and_the_rerun_images_only_it(farm, golden_disk, ansible_env, tmp_path):
    """After the first test, every node holds a marker; node3's and node4's are removed, so this run images those two
    (node1 and node2 are skipped: imaged by an earlier run). node4 is given a wrong MAC in the inventory (and so in the
    netboot server): it never boots the imaging entry and fails at stage netboot; node5, a new machine whose disk is
    smaller than the image, fails at stage disk with nothing written; node3 finishes. The rerun with the right MAC
    (and without node5) images node4 alone."""
    key, golden = golden_disk
    if len(farm.nodes) < 4:
        pytest.skip("needs the four imaged machines of the first test")
    done = os.path.join(farm.workdir, "image_nodes", "done")
    for name in ("node3", "node4"):
        os.unlink(os.path.join(done, name + ".json"))
    nodes = [dict(farm.nodes[name]) for name in NODES]
    nodes[3]["inventory_mac"] = "52:54:00:ee:ee:04"
    small = farm.add_node("node5", 15, memory=MEMORY_MIB, disk_mib=64)      # the 128 MiB image does not fit
    extra = {"image_nodes_timeout_netboot": 150}
    inventory = write_inventory(farm, key, golden["path"], str(tmp_path), nodes + [small], extra)
    rc, output, seconds = play(ansible_env, inventory, str(tmp_path / "run2.log"))
    assert rc != 0, output[-6000:]
    result = json.loads((tmp_path / "results.json").read_text())
    print("\n[image_nodes] wrong MAC run: %.1f s; stages (slowest node): %s" % (seconds, stage_times(result)))
    assert result["skipped"] == ["node1", "node2"] and result["ok"] == ["node3"] and result["failed"] == ["node4", "node5"], result
    assert result["nodes"]["node4"]["stage"] == "netboot", result["nodes"]["node4"]
    assert re.search(r"node4 +FAILED +netboot", output), output[-6000:]
    assert result["nodes"]["node5"]["stage"] == "disk", result["nodes"]["node5"]
    assert ("node node5: the image %s (%d bytes) is larger than its disk /dev/vda (%d bytes); nothing was written"
            % (golden["path"], 128 * 1024 * 1024, 64 * 1024 * 1024)) in result["nodes"]["node5"]["reason"], result["nodes"]["node5"]
    with open(small["disk"], "rb") as handle:
        assert handle.read(1024 * 1024) == bytes(1024 * 1024), "node5's disk was written"

    nodes[3].pop("inventory_mac")
    inventory = write_inventory(farm, key, golden["path"], str(tmp_path), nodes)
    rc, output, seconds = play(ansible_env, inventory, str(tmp_path / "run3.log"))
    assert rc == 0, output[-8000:]
    result = json.loads((tmp_path / "results.json").read_text())
    print("[image_nodes] rerun: %.1f s; stages: %s" % (seconds, stage_times(result)))
    assert result["ok"] == ["node4"] and result["skipped"] == ["node1", "node2", "node3"] and result["failed"] == [], result
