# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks netboot.yml, ring_duplicate.yml and vm_farm.yml run with every input as a survey string (extra
vars from a JSON of strings, as AWX passes them): each role normalises its inputs once, the outcome is the
one the structured inputs give, and the result is in set_stats."""

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import alive, lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.libvirtd import PrivateLibvirtd, missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.netns import PXELINUX, lab_or_missing  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def netns_lab(tmp_path):
    lab = lab_or_missing(files=(PXELINUX,))
    yield lab
    lab.teardown()


def stop_pid_files(directory):
    """Stop the daemons the role started, by their PID files."""
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        if name.endswith(".pid"):
            with open(os.path.join(directory, name)) as handle:
                text = handle.read().strip()
            if text.isdigit() and alive(int(text)):
                os.kill(int(text), signal.SIGTERM)
                for dummy in range(50):
                    if not alive(int(text)):
                        break
                    time.sleep(0.1)


def netboot_inventory(lab, structured=False):
    """The server (localhost) and a group of nodes with mac/ip host variables; ``structured`` gives the hosts and
    subnets as a playbook user would (lists of mappings in the inventory) instead."""
    nodes = "".join("    node%d: {mac: '52:54:00:13:00:%02x', ip: %s}\n" % (i, i, lab.ip(10 + i)) for i in (1, 2))
    text = "netboot_servers:\n  hosts:\n    localhost:\n      ansible_connection: local\n" \
           "      ansible_python_interpreter: %s\nnodes:\n  hosts:\n%s" % (sys.executable, nodes)
    if structured:
        text += "all:\n  vars:\n" \
                "    netboot_server_subnets: [{network: '%s', gateway: '%s', dynamic_range: '%s-%s'}]\n" \
                "    netboot_server_hosts: [{name: node1, mac: '52:54:00:13:00:01', ip: '%s'},\n" \
                "                           {name: node2, mac: '52:54:00:13:00:02', ip: '%s'}]\n" % (
                    lab.network, lab.server_ip, lab.ip(200), lab.ip(220), lab.ip(11), lab.ip(12))
    return text


def netboot_vars(lab, work):
    return {
        "netboot_server_backend": "isc",
        "netboot_server_install": "false",
        "netboot_server_stop_packaged_services": "false",
        "netboot_server_backup": "false",
        "netboot_server_netns": lab.srv_ns,
        # two interfaces as a survey's text field gives them (the bridge serves, its veth port has no address)
        "netboot_server_interfaces": "%s,%s" % (lab.bridge, lab.veth_srv),
        "netboot_server_dir": os.path.join(work, "etc"),
        "netboot_server_state_dir": os.path.join(work, "state"),
        "netboot_server_tftp_root": os.path.join(work, "tftp"),
        "netboot_server_tftp_server": lab.server_ip,
    }


def test_netboot_isc_takes_its_interfaces_as_a_survey_string(run_job, netns_lab, tmp_path):
    """The defect: "eth1,eth2" passed the argument spec, then the isc backend's argv (a list + a string) crashed."""
    work = str(tmp_path / "nb")
    os.makedirs(work, mode=0o755)
    os.chmod(str(tmp_path), 0o755)
    try:
        proc, dummy = run_job("netboot.yml", netboot_inventory(netns_lab, structured=True), netboot_vars(netns_lab, work))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert netns_lab.dhcp_client("52:54:00:13:00:02") == netns_lab.ip(12)
    finally:
        stop_pid_files(os.path.join(work, "state"))


def test_netboot_every_input_a_survey_string_check_mode_first(run_job, netns_lab, tmp_path):
    """A fresh host: --check --diff runs and writes nothing; then the real run serves the group's hosts on the
    flat subnet, and the reservations are in set_stats."""
    work = str(tmp_path / "nb")
    os.makedirs(work, mode=0o755)
    os.chmod(str(tmp_path), 0o755)
    extra = netboot_vars(netns_lab, work)
    extra.update({
        "netboot_server_hosts_group": "nodes",
        "netboot_server_network": netns_lab.network,
        "netboot_server_gateway": netns_lab.server_ip,
        "netboot_server_dns": netns_lab.server_ip,
        "netboot_server_dynamic_range": "%s-%s" % (netns_lab.ip(200), netns_lab.ip(220)),
        "netboot_server_domain": "lab.test",
        "netboot_server_default_profile": "local",
        "netboot_server_loader": "pxelinux",
    })
    try:
        proc, stats = run_job("netboot.yml", netboot_inventory(netns_lab), extra, check=True, diff=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert os.listdir(work) == [], "check mode wrote %s" % os.listdir(work)
        proc, stats = run_job("netboot.yml", netboot_inventory(netns_lab), extra)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert netns_lab.dhcp_client("52:54:00:13:00:01") == netns_lab.ip(11)
        result = stats["labfarm_netboot"]
        assert [(h["name"], h["mac"], h["ip"]) for h in result["hosts"]] == [
            ("node1", "52:54:00:13:00:01", netns_lab.ip(11)), ("node2", "52:54:00:13:00:02", netns_lab.ip(12))]
        assert result["servers"][0]["backend"] == "isc" and result["servers"][0]["ok"] is True
        assert "node2" in proc.stdout and "52:54:00:13:00:02" in proc.stdout    # the table in the job output
    finally:
        stop_pid_files(os.path.join(work, "state"))


RING_INVENTORY = """
ring_receivers:
  hosts:
    sv-r1: {disk_ring_port: %(p1)d}
    sv-r2: {disk_ring_port: %(p2)d}
golden:
  hosts:
    sv-golden: {disk_ring_port: %(p0)d}
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: %(python)s
"""


def ring_setup(tmp_path):
    work = tmp_path / "ring"
    (work / "golden").mkdir(parents=True)
    for node in ("sv-r1", "sv-r2"):
        (work / node).mkdir()
    data = os.urandom(3 * 1024 * 1024 + 17)
    (work / "golden" / "disk.img").write_bytes(data)
    base = 17400 + (os.getpid() % 200) * 3
    inventory = RING_INVENTORY % {"p0": base, "p1": base + 1, "p2": base + 2, "python": sys.executable}
    return work, data, inventory


def ring_vars(work, **extra):
    values = {
        "disk_ring_source": "sv-golden",
        "disk_ring_address": "127.0.0.1",
        "disk_ring_session": "survey-ring",
        "disk_ring_state_dir": str(work / "state"),
        "disk_ring_poll_interval": "1",
        "disk_ring_timeout": "10",
        "disk_ring_wait_timeout": "60",
        "disk_ring_async_timeout": "600",
        "disk_ring_direct": "false",
        "disk_ring_sparse": "true",
        "disk_ring_allow_failures": "false",
        "disk_ring_chunk_size": "1048576",
        "disk_ring_rate_limit": "64M",
        # the dolly+ form; dest templated per host
        "disk_ring_items": "%s/golden/disk.img > %s/{{ inventory_hostname }}/disk.img" % (work, work),
    }
    values.update(extra)
    return values


def test_ring_resume_false_as_a_survey_string_forgets_the_resume_state(run_job, tmp_path):
    """The defect: disk_ring_resume "false" was truthy, so the session's resume state was silently kept."""
    work, data, inventory = ring_setup(tmp_path)
    stale = work / "state" / "survey-ring" / "stale-marker"
    stale.parent.mkdir(parents=True)
    stale.write_text("left by an earlier session")
    # the items structured, in the inventory (as a playbook user gives them): only the defect is under test
    inventory += "    disk_ring_items: [{name: disk, src: %s/golden/disk.img, dest: '%s/{{ inventory_hostname }}/disk.img'}]\n" % (
        work, work)
    extra = ring_vars(work, disk_ring_resume="false")
    del extra["disk_ring_items"]
    proc, dummy = run_job("ring_duplicate.yml", inventory, extra)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert not stale.exists()
    assert (work / "sv-r2" / "disk.img").read_bytes() == data


def test_ring_every_input_a_survey_string(run_job, tmp_path):
    work, data, inventory = ring_setup(tmp_path)
    proc, stats = run_job("ring_duplicate.yml", inventory, ring_vars(work), check=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert not (work / "sv-r1" / "disk.img").exists()
    assert stats["labfarm_disk_ring"]["check_mode"] is True and stats["labfarm_disk_ring"]["order"] == ["sv-r1", "sv-r2"]
    proc, stats = run_job("ring_duplicate.yml", inventory, ring_vars(work))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    for node in ("sv-r1", "sv-r2"):
        assert (work / node / "disk.img").read_bytes() == data
    result = stats["labfarm_disk_ring"]
    assert result["session"] == "survey-ring" and sorted(result["ok"]) == ["sv-r1", "sv-r2"] and result["failed"] == []
    assert [n["address"].rsplit(":", 1)[0] for n in result["nodes"]] == ["127.0.0.1"] * 2
    assert "sv-r1" in proc.stdout and "session survey-ring: 2 ok, 0 failed" in proc.stdout


def test_ring_rate_limits_that_cannot_work_are_refused_before_anything_starts(run_job, tmp_path):
    """A survey's rate limit that is not a size, or so low that a chunk looks like a dead link: named, nothing run."""
    work, dummy, inventory = ring_setup(tmp_path)
    for rate, message in (("fast", "rate_limit must be a number of bytes, optionally with a K, M, G or T suffix"),
                          ("1K", "rate_limit 1024 bytes/s sends one chunk of 1048576 bytes every 1024 s")):
        proc, dummy = run_job("ring_duplicate.yml", inventory, ring_vars(work, disk_ring_rate_limit=rate))
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and message in out, out[-3000:]
        assert not (work / "sv-r1" / "disk.img").exists() and not (work / "sv-r2" / "disk.img").exists()


@pytest.fixture
def hypervisor():
    """A private libvirtd in a network namespace with a bridge (10.97.n.1/24), and a backing file; all gone after."""
    reason = missing()
    if reason:
        lab_missing(reason)
    suffix = uuid.uuid4().hex[:4]
    ns, bridge, n = "lfsv%ss" % suffix, "lfsv%sbr" % suffix, random.randint(1, 254)
    work = tempfile.mkdtemp(prefix="lfsv-")
    os.chmod(work, 0o755)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    lv = None
    try:
        for argv in (["link", "set", "lo", "up"], ["link", "add", bridge, "type", "bridge"],
                     ["addr", "add", "10.97.%d.1/24" % n, "dev", bridge], ["link", "set", bridge, "up"]):
            subprocess.run(["ip", "-n", ns] + argv, check=True)
        backing = os.path.join(work, "base.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", backing, "64M"], check=True)
        lv = PrivateLibvirtd(os.path.join(work, "libvirtd"), netns=ns).start()
        yield {"ns": ns, "bridge": bridge, "n": n, "work": work, "backing": backing, "uri": lv.uri}
    finally:
        if lv is not None:
            lv.stop()
        stop_pid_files(os.path.join(work, "netboot", "state"))
        subprocess.run(["ip", "netns", "delete", ns], check=False)
        shutil.rmtree(work, ignore_errors=True)


def test_vm_farm_every_input_a_survey_string_then_its_nodes_reserved_by_the_netboot_job(run_job, hypervisor):
    """vm_farm with survey strings (memory and vCPUs flat beside a JSON template), check mode first; its
    set_stats, passed on as an AWX workflow does, gives the netboot job its reservations."""
    import libvirt  # pylint: disable=import-outside-toplevel
    lab = hypervisor
    inventory = "hypervisors:\n  hosts:\n    lv1:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n" % sys.executable
    extra = {
        "vm_farm_state": "present", "vm_farm_vms": "lfsv[1-2]", "vm_farm_backing_file": lab["backing"],
        "vm_farm_template": '{"domain_type": "qemu", "bridge": "%s"}' % lab["bridge"],
        "vm_farm_memory_mb": "48", "vm_farm_vcpus": "1", "vm_farm_uri": lab["uri"],
        "vm_farm_pool_dir": os.path.join(lab["work"], "pool"), "vm_farm_cpu_overcommit": "16",
        "vm_farm_reserve_memory_mb": "0", "vm_farm_update": "false", "vm_farm_start_rate": "0",
        "vm_farm_concurrency": "2", "vm_farm_mac_prefix": "52:54:00:97", "vm_farm_first_ip": "10.97.%d.101" % lab["n"],
        "vm_farm_distribution": "round_robin", "vm_farm_hypervisors": "lv1", "vm_farm_dhcp_subnets": "",
        "vm_farm_dhcp_interfaces": "",
    }
    proc, stats = run_job("vm_farm.yml", inventory, extra, check=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    conn = libvirt.open(lab["uri"])
    try:
        assert conn.listDefinedDomains() == []
        proc, stats = run_job("vm_farm.yml", inventory, extra)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert sorted(conn.listDefinedDomains()) == ["lfsv1", "lfsv2"]
        assert conn.lookupByName("lfsv1").maxMemory() == 48 * 1024
    finally:
        conn.close()
    farm = stats["labfarm_vm_farm"]
    assert [vm["name"] for vm in farm["vms"]] == ["lfsv1", "lfsv2"] and farm["ok"] == ["lv1"] and farm["failed"] == []
    nodes = stats["labfarm_nodes"]
    assert [(node["name"], node["ip"]) for node in nodes] == [("lfsv1", "10.97.%d.101" % lab["n"]), ("lfsv2", "10.97.%d.102" % lab["n"])]
    assert "lfsv2" in proc.stdout and nodes[1]["mac"] in proc.stdout      # the table in the job output

    nb = os.path.join(lab["work"], "netboot")
    netboot_inventory_text = "netboot_servers:\n  hosts:\n    localhost:\n      ansible_connection: local\n" \
        "      ansible_python_interpreter: %s\n" % sys.executable
    netboot_extra = {
        "netboot_server_install": "false", "netboot_server_netns": lab["ns"], "netboot_server_interfaces": lab["bridge"],
        "netboot_server_dir": nb + "/etc", "netboot_server_state_dir": nb + "/state", "netboot_server_tftp_root": nb + "/tftp",
        "netboot_server_network": "10.97.%d.0/24" % lab["n"], "netboot_server_gateway": "10.97.%d.1" % lab["n"],
        "netboot_server_hosts_from_job": "true",
    }
    proc, netboot_stats = run_job("netboot.yml", netboot_inventory_text, netboot_extra, artifacts={"labfarm_nodes": nodes})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    with open(os.path.join(nb, "etc", "dnsmasq.conf.hosts")) as handle:
        reservations = handle.read()
    assert all(node["mac"] in reservations and node["ip"] in reservations for node in nodes), reservations
    assert [host["name"] for host in netboot_stats["labfarm_netboot"]["hosts"]] == ["lfsv1", "lfsv2"]
