# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The imaging system (role imaging_system, module imaging_build) against the real things: apt and Debian's
packages, QEMU TCG booting the kernel and initramfs, sshd in it, Ansible's modules run in it over SSH; and the
golden disk booting from its own disk."""

import hashlib
import json
import os
import subprocess

import pytest

from imaging_lab import BOOT_TIMEOUT, MAC, NODE, report
from lab import lab_missing
from lab.golden import Qemu, free_port, read_root_file

pytestmark = pytest.mark.slow


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_role_builds_once_then_finds_the_build_in_its_cache(imaging_build, imaging_role):
    again, seconds, stdout = imaging_role()
    assert again["build"]["changed"] is False
    assert again["key"] == imaging_build["key"] and again["build_dir"] == imaging_build["build_dir"]
    assert "imaging system unchanged (cached)" in stdout and "initrd %d bytes" % again["build"]["initrd_size"] in stdout
    assert "changed=0" in stdout.split("PLAY RECAP")[1]
    report("role run 2 (warm): unchanged in %.1f s (module %.1f s)" % (seconds, again["build"]["seconds"]))
    # the copies where a boot server would serve them
    assert again["kernel"].endswith("/tftp/labfarm-imaging-vmlinuz") and sha256(again["kernel"]) == sha256(again["build"]["kernel"])
    assert sha256(again["initrd"]) == sha256(again["build"]["initrd"])
    cache = os.environ.get("LABFARM_CACHE") or os.path.expanduser("~/.cache/labfarm")
    assert again["build_dir"].startswith(os.path.join(os.path.abspath(cache), "imaging") + os.sep)


def test_same_inputs_give_the_same_bytes(imaging_build, run_module, ssh_key):
    """A forced rebuild of the same inputs writes byte-identical kernel and initramfs."""
    before = sha256(imaging_build["build"]["initrd"])
    rebuilt = run_module("labfarm.massclone.imaging_build", {"authorized_keys": [ssh_key.public], "force": True}, timeout=900)
    assert rebuilt["changed"] is True and not rebuilt.get("failed"), rebuilt
    assert rebuilt["dir"] == imaging_build["build_dir"]
    assert sha256(rebuilt["initrd"]) == before
    assert sha256(rebuilt["kernel"]) == sha256(imaging_build["build"]["kernel"])
    report("forced rebuild (debs cached) in %.1f s: same SHA256 %s" % (rebuilt["seconds"], before[:16]))


def test_bad_inputs_are_named(run_module):
    result = run_module("labfarm.massclone.imaging_build", {"authorized_keys": ["not a key"], "extra_packages": ["no-such-package-lf"]})
    assert result["failed"] and "not an OpenSSH public key" in result["msg"]
    result = run_module("labfarm.massclone.imaging_build", {
        "authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyKeyKey x"], "extra_packages": ["no-such-package-lf"]}, check=True)
    assert result["failed"] and "no-such-package-lf" in result["msg"]


KEEP = ("{{ {'hostname': ansible_hostname, 'mac': ansible_default_ipv4.macaddress, 'devices': ansible_devices.keys() | list,"
        " 'sfdisk': sfdisk.stdout, 'fs': fs.stdout, 'hello': hello.content | b64decode, 'params': params.content | b64decode} | to_json }}")
PARTITION = "printf 'label: gpt\\nsize=16M\\n' | sfdisk -q /dev/vda && mkfs.ext4 -q /dev/vda1 && blkid -o value -s TYPE /dev/vda1"


def test_boots_and_runs_ansible_modules_over_ssh(imaging_vm, imaging_build, ansible_env, tmp_path, ssh_key):
    assert imaging_vm.ready_line == "labfarm-imaging: ready %s 10.0.2.15" % NODE
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {NODE: {
        "ansible_host": "127.0.0.1", "ansible_port": imaging_vm.port, "ansible_user": "root",
        "ansible_python_interpreter": "/usr/bin/python3", "ansible_ssh_private_key_file": ssh_key.private}}}}))
    result = tmp_path / "facts.json"
    playbook = tmp_path / "probe.yml"
    playbook.write_text(json.dumps([{"hosts": NODE, "gather_facts": False, "tasks": [
        {"name": "facts", "ansible.builtin.setup": {"gather_subset": ["min", "hardware", "network"]}},
        {"name": "the imaging tools", "ansible.builtin.command": "sfdisk --version", "register": "sfdisk", "changed_when": False},
        {"name": "partition the scratch disk", "register": "fs", "ansible.builtin.shell": PARTITION},
        {"name": "a file over SFTP", "ansible.builtin.copy": {"content": "hello\n", "dest": "/tmp/hello", "mode": "0644"}},
        {"name": "read it back", "ansible.builtin.slurp": {"src": "/tmp/hello"}, "register": "hello"},
        {"name": "what /init saved", "ansible.builtin.slurp": {"src": "/run/labfarm/params"}, "register": "params"},
        {"name": "keep", "delegate_to": "localhost", "ansible.builtin.copy": {"dest": str(result), "mode": "0644", "content": KEEP}},
    ]}]))
    env = dict(ansible_env, ANSIBLE_HOST_KEY_CHECKING="False")
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    facts = json.loads(result.read_text())
    assert facts["hostname"] == NODE and facts["mac"] == MAC
    assert "vda" in facts["devices"]
    assert facts["sfdisk"].startswith("sfdisk from util-linux") and facts["fs"] == "ext4"
    assert facts["hello"] == "hello\n"
    assert "hostname=%s" % NODE in facts["params"] and "controller=10.0.2.2" in facts["params"]
    report("imaging system: kernel %d bytes + initrd %d bytes; ready %.1f s after QEMU started; Ansible setup/command/"
           "shell/copy/slurp ran on it" % (imaging_build["build"]["kernel_size"], imaging_build["build"]["initrd_size"],
                                           imaging_vm.seconds))


RING = {"session": "imaging-xxh3", "key": "imaging-xxh3-session-key"}


def test_ring_receiver_in_the_imaging_system_checks_xxh3_chunks(imaging_vm, ansible_env, tmp_path, ssh_key):
    """python3-xxhash is in the imaging system: xxhash imports there, and a ring from the controller with checksum
    auto (xxh3 when the source has xxhash, as the controller's venv does) into the booted node's receiver runs with
    xxh3 chunks, each checked by the node (a receiver without xxhash refuses such a session). The ring's port
    reaches the node through an SSH forward (QEMU's user network forwards only SSH) of the same port number, so that
    the address the receiver reports is the one in the source's chain."""
    try:
        import xxhash
    except ImportError:
        lab_missing("the controller's python has no xxhash (pip install -r requirements-dev.txt)")
    probe = imaging_vm.ssh(ssh_key.private, "python3 -c 'import xxhash; print(xxhash.xxh3_64_hexdigest(b\"labfarm\"))'")
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.strip() == xxhash.xxh3_64_hexdigest(b"labfarm")

    source = tmp_path / "image.raw"
    source.write_bytes(os.urandom(3 << 20) + bytes(2 << 20) + os.urandom(3 << 20))
    port = free_port()
    forward = subprocess.Popen(imaging_vm.ssh_argv(ssh_key.private)[:-1] + [
        "-N", "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:%d:127.0.0.1:%d" % (port, port), "root@127.0.0.1"])
    try:
        inventory = tmp_path / "ring-inventory.json"
        inventory.write_text(json.dumps({"all": {"hosts": {
            NODE: {"ansible_host": "127.0.0.1", "ansible_port": imaging_vm.port, "ansible_user": "root",
                   "ansible_python_interpreter": "/usr/bin/python3", "ansible_ssh_private_key_file": ssh_key.private},
            "localhost": {"ansible_connection": "local"}}}}))
        sent, received = tmp_path / "sent.json", tmp_path / "received.json"
        receive = dict(RING, mode="receive", listen="127.0.0.1:%d" % port, wait_timeout=120,
                       items=[{"name": "disk", "dest": "/tmp/ring.img"}])
        send = dict(RING, mode="send", checksum="auto", chain=["127.0.0.1:%d" % port],
                    items=[{"name": "disk", "src": str(source)}])
        playbook = tmp_path / "ring.yml"
        playbook.write_text(json.dumps([
            {"hosts": NODE, "gather_facts": False, "tasks": [
                {"name": "receiver", "labfarm.massclone.ring_copy": receive, "async": 300, "poll": 0, "register": "receiver"},
                {"name": "listening", "ansible.builtin.wait_for": {"host": "127.0.0.1", "port": port, "timeout": 60}}]},
            {"hosts": "localhost", "gather_facts": False, "tasks": [
                {"name": "source", "labfarm.massclone.ring_copy": send, "register": "source"},
                {"name": "keep", "ansible.builtin.copy": {"content": "{{ source | to_json }}", "dest": str(sent), "mode": "0644"}}]},
            {"hosts": NODE, "gather_facts": False, "tasks": [
                {"name": "receiver's end", "ansible.builtin.async_status": {"jid": "{{ receiver.ansible_job_id }}"},
                 "register": "job", "until": "job.finished", "retries": 120, "delay": 1},
                {"name": "keep", "delegate_to": "localhost", "ansible.builtin.copy": {
                    "content": "{{ job | to_json }}", "dest": str(received), "mode": "0644"}}]},
        ]))
        env = dict(ansible_env, ANSIBLE_HOST_KEY_CHECKING="False")
        proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook)], env=env, capture_output=True,
                              text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    finally:
        forward.terminate()
        forward.wait(timeout=30)
    source_result, receiver_result = json.loads(sent.read_text()), json.loads(received.read_text())
    assert source_result["checksum"] == "xxh3"
    assert source_result["failed_nodes"] == [] and source_result["nodes"][0]["ok"], source_result["nodes"]
    assert receiver_result["items"]["disk"]["ok"] and receiver_result["error"] is None
    assert receiver_result["items"]["disk"]["digest"] == source_result["digests"]["disk"]
    written = imaging_vm.ssh(ssh_key.private, "sha256sum /tmp/ring.img")
    assert written.stdout.split()[0] == sha256(str(source))
    report("ring into the imaging system: %d bytes with xxh3 chunk checksums checked by the node's receiver in %.1f s"
           % (source_result["bytes"], source_result["seconds"]))


def test_golden_disk_boots_with_its_identity_and_answers_ssh(golden, tmp_path, ssh_key):
    assert 64 <= golden["size"] // (1024 * 1024) <= 256
    disk = str(tmp_path / "golden-copy.img")
    subprocess.run(["cp", "--sparse=always", golden["path"], disk], check=True)
    layout = json.loads(subprocess.run(["sfdisk", "-J", disk], capture_output=True, text=True, check=True).stdout)
    parts = layout["partitiontable"]["partitions"]
    assert [p["type"] for p in parts] == ["c", "83"] and parts[0].get("bootable")
    assert read_root_file(disk, "/etc/hostname") == b"golden\n"
    assert read_root_file(disk, "/etc/machine-id") == golden["machine_id"].encode() + b"\n"
    host_key = read_root_file(disk, "/etc/ssh/ssh_host_ed25519_key.pub").split()[1].decode()
    vm = Qemu(str(tmp_path), disk=disk, memory=256, mac="52:54:00:4c:46:02").start()
    try:
        line = vm.wait_for("labfarm-golden: hostname", timeout=BOOT_TIMEOUT)
        assert line == "labfarm-golden: hostname golden machine-id %s" % golden["machine_id"]
        vm.wait_for("labfarm-golden: ready golden", timeout=60)
        report("golden disk boot (QEMU TCG, 256 MiB, syslinux -> kernel -> ext4 root): ready %.1f s after start" % vm.seconds)
        proc = vm.ssh(ssh_key.private, "cat /etc/hostname /etc/machine-id && python3 -c 'print(6*7)'")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["golden", golden["machine_id"], "42"]
        scan = subprocess.run(["ssh-keyscan", "-t", "ed25519", "-p", str(vm.port), "127.0.0.1"], capture_output=True,
                              text=True, timeout=60, check=False)
        assert host_key in scan.stdout
    finally:
        vm.stop()
