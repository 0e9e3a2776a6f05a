# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every playbook of the collection as an AWX job: ansible-runner, a private data dir, survey answers as strings,
the collection installed from its tarball (conftest.py). Each job must end ``successful``, publish its result in
the ``artifact_data`` of its stats event, and write nothing inside the installed collection; the VM farm job's
artifacts feed the netboot job as an AWX workflow passes them."""

import json
import os
import shutil
import sys
import uuid

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS)

from lab.zfs import session_lab  # noqa: E402  pylint: disable=wrong-import-position
# the survey tests' lab set-ups (a private libvirtd in a namespace with a bridge; the ring's nodes and inputs)
from integration.survey.test_survey_playbooks import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    hypervisor, netboot_vars, netns_lab, ring_setup, ring_vars, stop_pid_files)

# The playbooks under playbooks/ and the test that runs each as a job: a new playbook needs a job here.
JOBS = {
    "demo_placement.yml": "test_demo_placement_job",
    "mass_clone.yml": "test_mass_clone_job_with_survey_strings",
    "netboot.yml": "test_mass_clone_then_clone_addresses_then_netboot_as_a_workflow",
    "image_nodes.yml": "test_image_nodes_job_refuses_a_bad_inventory_before_touching_a_machine",
    "ring_duplicate.yml": "test_ring_duplicate_job",
    "vm_farm.yml": "test_vm_farm_job_then_netboot_job_as_a_workflow",
}


def test_every_playbook_of_the_collection_runs_as_a_job(installed_collection):
    dummy, collection = installed_collection
    shipped = sorted(name for name in os.listdir(os.path.join(collection, "playbooks")) if name.endswith(".yml"))
    assert shipped == sorted(JOBS), "a playbook without a runner job here (or a job for a playbook gone)"
    assert all(callable(globals()[test]) for test in JOBS.values())


def successful(job):
    assert job.status == "successful" and job.rc == "0", job.explain()
    assert job.stats is not None, "no playbook_on_stats event\n" + job.explain()
    return job.stats


def test_vm_farm_job_then_netboot_job_as_a_workflow(runner_job, hypervisor):  # noqa: F811  pylint: disable=redefined-outer-name
    """Node 1, the VM farm job, publishes labfarm_nodes; node 2, the netboot job, gets node 1's artifacts as
    extra variables (AWX's workflow hand-over) beside its own survey strings and reserves each VM's address."""
    import libvirt  # pylint: disable=import-outside-toplevel
    lab = hypervisor
    farm = successful(runner_job("vm_farm.yml", "hypervisors:\n  hosts:\n    lv1:\n      ansible_connection: local\n", {
        "vm_farm_state": "present", "vm_farm_vms": "lfawx[1-2]", "vm_farm_backing_file": lab["backing"],
        "vm_farm_template": '{"domain_type": "qemu", "bridge": "%s"}' % lab["bridge"],
        "vm_farm_memory_mb": "48", "vm_farm_vcpus": "1", "vm_farm_uri": lab["uri"],
        "vm_farm_pool_dir": os.path.join(lab["work"], "pool"), "vm_farm_cpu_overcommit": "16",
        "vm_farm_reserve_memory_mb": "0", "vm_farm_update": "false", "vm_farm_start_rate": "0",
        "vm_farm_mac_prefix": "52:54:00:98", "vm_farm_first_ip": "10.97.%d.101" % lab["n"],
        "vm_farm_hypervisors": "lv1",
    }))
    conn = libvirt.open(lab["uri"])
    try:
        assert sorted(conn.listDefinedDomains()) == ["lfawx1", "lfawx2"]
    finally:
        conn.close()
    assert [vm["name"] for vm in farm["labfarm_vm_farm"]["vms"]] == ["lfawx1", "lfawx2"]
    assert farm["labfarm_vm_farm"]["ok"] == ["lv1"] and farm["labfarm_vm_farm"]["failed"] == []
    nodes = farm["labfarm_nodes"]
    assert [(n["name"], n["ip"]) for n in nodes] == [("lfawx1", "10.97.%d.101" % lab["n"]), ("lfawx2", "10.97.%d.102" % lab["n"])]

    nb = os.path.join(lab["work"], "netboot")
    try:
        job = runner_job("netboot.yml", "netboot_servers:\n  hosts:\n    localhost:\n      ansible_connection: local\n", {
            "netboot_server_install": "false", "netboot_server_netns": lab["ns"], "netboot_server_interfaces": lab["bridge"],
            "netboot_server_dir": nb + "/etc", "netboot_server_state_dir": nb + "/state", "netboot_server_tftp_root": nb + "/tftp",
            "netboot_server_network": "10.97.%d.0/24" % lab["n"], "netboot_server_gateway": "10.97.%d.1" % lab["n"],
            "netboot_server_hosts_from_job": "true",
        }, artifacts={"labfarm_nodes": nodes})
        result = successful(job)["labfarm_netboot"]
        with open(os.path.join(nb, "etc", "dnsmasq.conf.hosts")) as handle:
            reservations = handle.read()
        assert all(n["mac"] in reservations and n["ip"] in reservations for n in nodes), reservations
        assert [(h["name"], h["mac"], h["ip"]) for h in result["hosts"]] == [(n["name"], n["mac"], n["ip"]) for n in nodes]
        assert result["ok"] == ["localhost"] and result["failed"] == [] and result["servers"][0]["backend"] == "dnsmasq"
    finally:
        stop_pid_files(os.path.join(nb, "state"))


def test_ring_duplicate_job(runner_job, tmp_path):
    work, data, inventory = ring_setup(tmp_path)
    inventory = inventory.replace("    ansible_python_interpreter: %s\n" % sys.executable, "")
    result = successful(runner_job("ring_duplicate.yml", inventory, ring_vars(work, disk_ring_resume="false")))
    for node in ("sv-r1", "sv-r2"):
        assert (work / node / "disk.img").read_bytes() == data
    ring = result["labfarm_disk_ring"]
    assert ring["session"] == "survey-ring" and sorted(ring["ok"]) == ["sv-r1", "sv-r2"] and ring["failed"] == []
    assert ring["source"] == "sv-golden" and [n["node"] for n in ring["nodes"]] == ring["order"]


@pytest.fixture(scope="module")
def zfs_lab():
    lab = session_lab("lfawx")
    yield lab
    lab.stop_daemon()


@pytest.fixture
def gns3_server(zfs_lab, tmp_path):
    """A "GNS3 server" without GNS3 (no url: the role clones and resets on ZFS only): a zfs-fuse pool whose projects
    dataset holds the sample project of playbooks/files/sample_project."""
    sample = os.path.join(os.path.dirname(TESTS), "playbooks", "files", "sample_project")
    with open(os.path.join(sample, "lab.gns3")) as handle:
        source_id = json.load(handle)["project_id"]
    pool = zfs_lab.create_pool("lfawx%d_%s" % (os.getpid(), uuid.uuid4().hex[:6]), tmp_path / "pool")
    try:
        dataset = pool.create(pool.path("gns3/projects"))
        pool.create(dataset + "/" + source_id)
        root = os.path.join(pool.mountpoint, "gns3", "projects")
        shutil.copytree(sample, os.path.join(root, source_id), dirs_exist_ok=True)
        yield {"pool": pool, "dataset": dataset, "root": root}
    finally:
        pool.destroy_waiting(180)


def mass_clone_inventory(server):
    return "gns3_servers:\n  hosts:\n    gns3-a:\n      ansible_connection: local\n" \
           "      mass_clone_projects_root: %s\n      mass_clone_projects_dataset: %s\n" % (server["root"], server["dataset"])


def test_mass_clone_job_with_survey_strings(runner_job, gns3_server):
    """The survey's answers as strings (booleans, numbers, comma-separated lists, a JSON mapping) and the
    servers' projects root and dataset as host variables of the inventory, as AWX gives them."""
    job = runner_job("mass_clone.yml", mass_clone_inventory(gns3_server), {
        "mass_clone_names": "Cawx_[01-03]", "mass_clone_source": "lab", "mass_clone_state": "present",
        "mass_clone_start": "false", "mass_clone_reload": "false", "mass_clone_lock_timeout": "60",
        "mass_clone_placement_policy": "even", "mass_clone_mac_prefix": "02:4c:47",
        "mass_clone_start_rate": "2.0", "mass_clone_start_concurrency": "4", "mass_clone_gns3_validate_certs": "true",
        "mass_clone_console_port_range": "5000-10000", "mass_clone_snapshots": "drop",
        "mass_clone_used_console_ports": "5000,5001", "mass_clone_used_macs": "02:4c:47:00:00:09,02:4c:47:00:00:0a",
        "mass_clone_zfs_properties": '{"quota": "1G"}',
    })
    published = successful(job)["labfarm_mass_clone"]
    assert published["state"] == "present" and published["source"] == "lab"
    assert [c["name"] for c in published["clones"]] == ["Cawx_01", "Cawx_02", "Cawx_03"]
    assert all(c["server"] == "gns3-a" and c["project_id"] and c["path"].startswith(gns3_server["root"]) for c in published["clones"])
    macs = [node["mac_address"] for c in published["clones"] for node in c["nodes"] if node["mac_address"]]
    assert len(macs) == 3 and all(mac.startswith("02:4c:47:00:") for mac in macs), macs
    quotas = gns3_server["pool"].zfs("get", "-H", "-o", "value", "quota", gns3_server["dataset"] + "/" + published["clones"][0]["project_id"])
    assert quotas.split() == ["1G"]


def test_demo_placement_job(runner_job, installed_collection, tmp_path):
    """The placement demo in an execution environment: its table in the job output and its placement in
    set_stats; no file anywhere unless labfarm_demo_dir is given (then there, and only there)."""
    dummy, collection = installed_collection
    inventory = os.path.join(collection, "playbooks", "inventory", "exam.noderange.yml")
    placement = successful(runner_job("demo_placement.yml", inventory, {}))["labfarm_placement"]
    assert placement["policy"] == "weighted" and len(placement["clones"]) == 500
    assert [s["server"] for s in placement["servers"]] == ["gns3-1", "gns3-2", "gns3-3", "gns3-4"]
    assert sum(s["clones"] for s in placement["servers"]) == 500
    assert placement["clones"][0] == {"name": "Cexam_001", "server": "gns3-1", "ip": "10.40.0.10", "mac": "02:42:0a:00:00:00"}
    demo = tmp_path / "demo"
    job = runner_job("demo_placement.yml", inventory, {"labfarm_demo_dir": str(demo)})
    assert successful(job)["labfarm_placement"] == placement
    assert "500 clones Cexam_[001-500] on 4 GNS3 servers" in job.stdout
    assert sorted(os.listdir(str(demo))) == ["clones.csv", "placement.txt"]


def test_mass_clone_job_with_empty_survey_answers(runner_job, gns3_server):
    """Optional survey questions left empty send '': each means "not given" (no ZFS property, no port or MAC
    taken elsewhere, the default servers)."""
    job = runner_job("mass_clone.yml", mass_clone_inventory(gns3_server), {
        "mass_clone_names": "Cawx_[01-02]", "mass_clone_source": "lab", "mass_clone_state": "present",
        "mass_clone_start": "false", "mass_clone_reload": "false",
        "mass_clone_zfs_properties": "", "mass_clone_used_console_ports": "", "mass_clone_used_macs": "",
        "mass_clone_servers": "", "mass_clone_computes": "", "mass_clone_compute_placement": "", "mass_clone_clone_needs": "",
        "mass_clone_gns3_ca_path": "", "mass_clone_gns3_client_cert": "", "mass_clone_gns3_client_key": "",
        "mass_clone_nodes_network": "", "mass_clone_summary_dir": "",
    })
    assert [c["name"] for c in successful(job)["labfarm_mass_clone"]["clones"]] == ["Cawx_01", "Cawx_02"]


def documented_playbook(marker):
    """The YAML block that follows ``<!-- marker -->`` in docs/awx.md: the test runs what the page shows."""
    with open(os.path.join(os.path.dirname(TESTS), "docs", "awx.md")) as handle:
        text = handle.read()
    block = text.split("<!-- %s -->\n```yaml\n" % marker, 1)[1]
    return block.split("```", 1)[0]


def test_mass_clone_then_clone_addresses_then_netboot_as_a_workflow(  # pylint: disable=redefined-outer-name
        runner_job, gns3_server, netns_lab, tmp_path):  # noqa: F811
    """docs/awx.md's workflow: the mass clone job's labfarm_mass_clone, the clone addresses job (the page's playbook)
    makes labfarm_nodes of it, the netboot job reserves them: a DHCP client with a clone node's MAC gets its address.
    Each job gets the artifacts of the jobs before it, as AWX passes them along a workflow."""
    lab = netns_lab
    artifacts = successful(runner_job("mass_clone.yml", mass_clone_inventory(gns3_server), {
        "mass_clone_names": "Cawx_[01-02]", "mass_clone_source": "lab", "mass_clone_start": "false", "mass_clone_reload": "false",
    }))
    artifacts.update(successful(runner_job("clone_addresses.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n",
                                           {"clone_first_ip": lab.ip(21)}, artifacts=artifacts,
                                           project=documented_playbook("clone-addresses-playbook"))))
    nodes = artifacts["labfarm_nodes"]
    assert [(n["name"], n["ip"]) for n in nodes] == [("Cawx-01-R1", lab.ip(21)), ("Cawx-02-R1", lab.ip(22))]
    macs = [node["mac_address"] for clone in artifacts["labfarm_mass_clone"]["clones"] for node in clone["nodes"] if node["mac_address"]]
    assert [n["mac"] for n in nodes] == macs

    work = str(tmp_path / "nb")
    os.makedirs(work, mode=0o755)
    os.chmod(str(tmp_path), 0o755)
    survey = netboot_vars(lab, work)
    survey.update({"netboot_server_network": lab.network, "netboot_server_gateway": lab.server_ip,
                   "netboot_server_hosts_from_job": "true"})
    try:
        result = successful(runner_job("netboot.yml", "netboot_servers:\n  hosts:\n    localhost:\n      ansible_connection: local\n",
                                       survey, artifacts=artifacts))["labfarm_netboot"]
        assert [(h["name"], h["mac"], h["ip"]) for h in result["hosts"]] == [(n["name"], n["mac"], n["ip"]) for n in nodes]
        assert result["ok"] == ["localhost"] and result["failed"] == []
        assert lab.dhcp_client(nodes[1]["mac"]) == lab.ip(22)
    finally:
        stop_pid_files(os.path.join(work, "state"))


IMAGE_NODES_INVENTORY = """all:
  hosts:
    localhost:
      ansible_connection: local
image_nodes:
  hosts:
    node01: {ansible_host: 192.0.2.11, mac: "52:54:00:00:20:01", bmc: 127.0.0.1, bmc_port: 16291}
    node02: {ansible_host: 192.0.2.12, mac: "52-54-00-00-20-01", bmc: 127.0.0.1, bmc_port: 16292}
    node03: {ansible_host: 192.0.2.13, bmc: 127.0.0.1, bmc_port: 16293}
  vars:
    bmc_user: admin
    bmc_password: awx-secret
"""


def test_image_nodes_job_refuses_a_bad_inventory_before_touching_a_machine(runner_job, tmp_path):
    """The imaging job as AWX runs it (its survey answers as strings, the netboot settings as a JSON answer) on an
    inventory with two nodes sharing a MAC and one without: the job fails in its preflight, naming each node and
    value, before any boot entry is written or any BMC is asked; the BMC password is not in the output.
    (The whole loop on four booting machines is tests/integration/image_nodes.)"""
    netboot = {"backend": "dnsmasq", "dest": str(tmp_path / "netboot" / "dnsmasq.conf"),
               "subnets": [{"network": "192.0.2.0/24"}],
               "profiles": {"imaging": {"type": "imaging", "kernel": "i/vmlinuz", "initrd": "i/initrd.img",
                                        "server": "192.0.2.254"}}}
    job = runner_job("image_nodes.yml", IMAGE_NODES_INVENTORY, {
        "image_nodes_image": str(tmp_path / "missing-golden.img"), "image_nodes_state_dir": str(tmp_path / "state"),
        "image_nodes_netboot_config": json.dumps(netboot), "image_nodes_bmc_check": "true", "image_nodes_force": "false"})
    assert job.status == "failed", job.explain()
    assert "nodes node01 and node02: the same MAC 52:54:00:00:20:01" in job.stdout, job.explain()
    assert "node node03: no MAC (mac)" in job.stdout, job.explain()
    assert "awx-secret" not in job.stdout
    assert not (tmp_path / "netboot").exists()
