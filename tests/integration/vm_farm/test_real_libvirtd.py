# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt_farm against a real libvirtd and QEMU/TCG, started here in a network namespace of its own
(``lfvm<hex>s``) with private configuration, sockets and state (tests/lab/libvirtd.py).

* 20 tiny VMs (32 MiB, TCG) on overlays of one backing file: defined and running; a rerun changes
  nothing; absent removes every domain and overlay the module made, and leaves the backing file, a
  domain and a file the module did not make.
* A farm VM boots from the network and gets its reserved address from the netboot_server role's
  dnsmasq, running in the same namespace on the bridge the VM is on.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from lab import lab_missing  # pylint: disable=import-error
from lab.libvirtd import PrivateLibvirtd, missing  # pylint: disable=import-error

MODULE = "labfarm.massclone.libvirt_farm"
NVMS = 20


def sh(*argv):
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def real_lab():
    """A namespace with a bridge (10.97.n.1/24), a private libvirtd in it, a backing file; all gone after."""
    reason = missing()
    if reason:
        lab_missing(reason)
    suffix = uuid.uuid4().hex[:4]
    ns, bridge, n = "lfvm%ss" % suffix, "lfvm%sbr" % suffix, random.randint(1, 254)
    work = tempfile.mkdtemp(prefix="lfvm-")
    os.chmod(work, 0o755)     # dnsmasq drops to nobody and reads its files under here
    sh("ip", "netns", "add", ns)
    lv = None
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        sh("ip", "-n", ns, "addr", "add", "10.97.%d.1/24" % n, "dev", bridge)
        sh("ip", "-n", ns, "link", "set", bridge, "up")
        backing = os.path.join(work, "images", "base.qcow2")
        os.makedirs(os.path.dirname(backing))
        sh("qemu-img", "create", "-q", "-f", "qcow2", backing, "64M")
        lv = PrivateLibvirtd(os.path.join(work, "libvirtd"), netns=ns).start()
        yield {"ns": ns, "bridge": bridge, "n": n, "work": work, "backing": backing, "lv": lv,
               "pool": os.path.join(work, "pool")}
    finally:
        if lv is not None:
            lv.stop()
        pid_file = os.path.join(work, "netboot", "state", "dnsmasq.pid")
        if os.path.exists(pid_file):
            try:
                with open(pid_file) as handle:
                    os.kill(int(handle.read().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def farm_args(lab, vms, **extra):
    args = {"vms": vms, "backing_file": lab["backing"],
            "template": {"memory_mb": 32, "vcpus": 1, "domain_type": "qemu"},
            "hypervisors": [{"name": "lv1", "uri": lab["lv"].uri, "pool_dir": lab["pool"]}],
            "state": "running", "concurrency": 2, "mac_prefix": "52:54:00:97", "cpu_overcommit": 16}
    args.update(extra)
    return args


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def qemu_pids():
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64 .*-name guest=lfvmr"], capture_output=True, text=True,
                         check=False).stdout
    return set(out.split())


@pytest.mark.slow
def test_twenty_vms_run_rerun_changes_nothing_absent_removes_only_what_it_made(real_lab, run_tasks):
    import libvirt  # pylint: disable=import-outside-toplevel
    lab = real_lab
    conn = libvirt.open(lab["lv"].uri)
    try:
        os.makedirs(lab["pool"], exist_ok=True)
        keep_file = os.path.join(lab["pool"], "lfvm-not-ours.qcow2")
        sh("qemu-img", "create", "-q", "-f", "qcow2", keep_file, "16M")
        conn.defineXML("<domain type='qemu'><name>lfvm-keep</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                       "<os><type arch='x86_64'>hvm</type></os></domain>")
        backing_sum = sha256(lab["backing"])

        start = time.monotonic()
        first, second = run_tasks(MODULE, [farm_args(lab, "lfvmr[01-%02d]" % NVMS)] * 2)
        seconds = time.monotonic() - start
        assert not first.get("failed"), first.get("msg")
        assert first["changed"] and len(first["created"]) == NVMS and len(first["started"]) == NVMS
        assert not second.get("failed") and not second["changed"], second.get("msg") or second["created"]
        assert set(vm["action"] for vm in second["vms"]) == {"unchanged"}
        names = ["lfvmr%02d" % i for i in range(1, NVMS + 1)]
        for vm in first["vms"]:
            dom = conn.lookupByName(vm["name"])
            assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, vm
            info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", vm["overlay"]],
                                             capture_output=True, text=True, check=True).stdout)
            assert info["format"] == "qcow2" and info["backing-filename"] == lab["backing"], info
        assert len(qemu_pids()) == NVMS
        print("20 VMs defined and started, then the rerun, in one ansible-playbook: %.1f s" % seconds)

        gone = run_tasks(MODULE, [farm_args(lab, "lfvmr[01-%02d]" % NVMS, state="absent")])[0]
        assert not gone.get("failed"), gone.get("msg")
        assert gone["changed"] and sorted(gone["removed"]) == names
        left = sorted(d.name() for d in conn.listAllDomains())
        assert left == ["lfvm-keep"]
        assert sorted(os.listdir(lab["pool"])) == ["lfvm-not-ours.qcow2"]
        assert sha256(lab["backing"]) == backing_sum
        deadline = time.monotonic() + 10
        while qemu_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not qemu_pids()
        conn.lookupByName("lfvm-keep").undefine()
    finally:
        conn.close()


@pytest.mark.slow
def test_a_farm_vm_pxe_boots_and_gets_its_reserved_address_from_netboot_server(real_lab, ansible_env, tmp_path):
    if not os.path.exists("/usr/lib/PXELINUX/pxelinux.0"):
        lab_missing("pxelinux is not installed (Debian pxelinux, syslinux-common)")
    lab = real_lab
    nb = os.path.join(lab["work"], "netboot")
    first_ip = "10.97.%d.101" % lab["n"]
    farm = farm_args(lab, "lfvmp[1-2]", state="present", first_ip=first_ip,
                     template={"memory_mb": 64, "vcpus": 1, "domain_type": "qemu", "bridge": lab["bridge"],
                               "boot": ["network"]})
    playbook = [{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "Define the farm", MODULE: farm, "register": "farm"},
            {"name": "Serve their reservations", "ansible.builtin.include_role": {"name": "labfarm.massclone.netboot_server"},
             "vars": {
                 "netboot_server_install": False, "netboot_server_netns": lab["ns"],
                 "netboot_server_interfaces": [lab["bridge"]],
                 "netboot_server_dir": nb + "/etc", "netboot_server_state_dir": nb + "/state",
                 "netboot_server_tftp_root": nb + "/tftp",
                 "netboot_server_subnets": [{"network": "10.97.%d.0/24" % lab["n"], "gateway": "10.97.%d.1" % lab["n"]}],
                 "netboot_server_hosts": "{{ farm.vms | map('dict2items') | map('selectattr', 'key', 'in', "
                                         "['name', 'mac', 'ip']) | map('items2dict') | list }}"}},
            {"name": "Start the farm", MODULE: dict(farm, state="running"), "register": "started"},
            {"name": "Keep the results", "ansible.builtin.copy": {
                "content": "{{ {'farm': farm, 'started': started} | to_json }}", "dest": str(tmp_path / "out.json")}},
        ]}]
    (tmp_path / "pxe.yml").write_text(json.dumps(playbook))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "pxe.yml")],
                          env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = json.loads((tmp_path / "out.json").read_text())
    vm = out["farm"]["vms"][0]
    assert vm["ip"] == first_ip and vm["mac"].startswith("52:54:00:97:")
    assert out["started"]["started"] == ["lfvmp1", "lfvmp2"]
    log_path = os.path.join(nb, "state", "dnsmasq.log")
    pattern = r"DHCPACK\(%s\) %s %s" % (re.escape(lab["bridge"]), re.escape(first_ip), re.escape(vm["mac"]))
    deadline, text = time.monotonic() + 90, ""
    while time.monotonic() < deadline:
        if os.path.exists(log_path):
            with open(log_path, errors="replace") as handle:
                text = handle.read()
            if re.search(pattern, text):
                break
        time.sleep(0.5)
    assert re.search(pattern, text), "dnsmasq's log lacks %s:\n%s" % (pattern, text[-3000:])
    with open(os.path.join(nb, "etc", "dnsmasq.conf.hosts")) as handle:     # both VMs are reserved
        hosts = handle.read()
    second = out["farm"]["vms"][1]
    assert second["mac"] in hosts and "10.97.%d.102" % lab["n"] in hosts, hosts


@pytest.mark.slow
def test_a_refused_domain_rolls_back_every_overlay_and_domain_of_the_call(real_lab, run_tasks):
    """Definitions run in parallel worker threads here (own connections): the rollback still finds all."""
    import libvirt  # pylint: disable=import-outside-toplevel
    lab = real_lab
    pool = lab["pool"] + "-rollback"
    bad = farm_args(lab, "lfvmx[1-6]", state="running", concurrency=3,
                    template={"memory_mb": 32, "vcpus": 1, "domain_type": "qemu",
                              "extra_xml": "<devices><disk type='file' device='disk'><source file='/nonexistent'/>"
                                           "<target dev='vda' bus='virtio'/></disk></devices>"})
    bad["hypervisors"] = [dict(bad["hypervisors"][0], pool_dir=pool)]
    result = run_tasks(MODULE, [bad])[0]
    assert result.get("failed") and "refused the domain" in result["msg"] and "rolled back" in result["msg"], result
    conn = libvirt.open(lab["lv"].uri)
    try:
        assert not [d.name() for d in conn.listAllDomains() if d.name().startswith("lfvmx")]
    finally:
        conn.close()
    assert os.listdir(pool) == []
