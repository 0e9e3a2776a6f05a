# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mass_clone role on a GNS3 controller with two remote computes (GNS3's own farm, issue 12 section 3):
playbooks/mass_clone.yml with mass_clone_computes and mass_clone_compute_placement given as survey strings
(JSON) clones a VPCS lab on the controller's zfs-fuse projects dataset; after the role's reload, the controller's
API reports every node of every clone on the compute the summary names, with the summary's console; a rerun
changes nothing and absent leaves only the source.

Ports (tests/lab/gns3.py servers on 127.0.0.1): API 13190-13192, consoles and UDP within 24000-24999
(below the ephemeral range 32768+, which other sockets on 127.0.0.1 take)."""

import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from conftest import ROOT, destroy_pool, start_all, stop_all, zfs_and_gns3_or_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.gns3 import GNS3Server  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(ROOT, "playbooks", "mass_clone.yml")
VERSION = "2.2"
CLONES = 10
PORT, BASE = 13190, 24000
IDS = ["7f0c3a9e-0b1d-4c55-9a43-0000000019%02d" % index for index in (1, 2)]


def _server(workdir, port, base, **extra):
    # 40 consoles, then 40 UDP ports (a link's tunnel ends)
    return GNS3Server(VERSION, workdir, port=port, console_range=(base, base + 39), udp_range=(base + 40, base + 79), **extra)


@pytest.fixture(scope="module")
def controller_farm(tmp_path_factory):
    """A 2.2 controller whose projects_path is a zfs-fuse dataset holding the source lab in its own dataset,
    and two remote computes registered on it."""
    zfs = zfs_and_gns3_or_missing([VERSION], "lfhc")
    work = tmp_path_factory.mktemp("computes-role")
    pool = zfs.create_pool("lfhc%d" % os.getpid(), work / "zfs")
    servers = []
    try:
        dataset = pool.create(pool.path("projects"))
        root = pool.mountpoint_of(dataset)
        controller = _server(str(work / "controller"), PORT, BASE, projects_path=root)
        computes = [_server(str(work / ("compute%d" % index)), PORT + index, BASE + 250 * index) for index in (1, 2)]
        servers = [controller] + computes
        start_all(servers)
        for compute_id, compute in zip(IDS, computes):
            controller.add_compute(compute, compute_id, name="compute-%d" % compute.port)
        source = controller.build_project("lab", vpcs=("PC1", "PC2", "PC3"), link_pairs=[("PC1", "PC2")])
        # GNS3's layout on ZFS: the source in a dataset of its own, named after its project id
        staging = os.path.join(str(work), "source")
        shutil.move(source["path"], staging)
        pool.create(dataset + "/" + source["project_id"])
        shutil.copytree(staging, source["path"], dirs_exist_ok=True)
        yield {"pool": pool, "dataset": dataset, "root": root, "controller": controller, "computes": computes,
               "source": source, "work": work}
    finally:
        stop_all(servers)
        destroy_pool(pool)
        zfs.stop_daemon()


def play(run, farm, tmp_path, **extra):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("gns3_servers:\n  hosts:\n    controller:\n      ansible_connection: local\n"
                         "      mass_clone_projects_root: %s\n      mass_clone_projects_dataset: %s\n"
                         % (farm["root"], farm["dataset"]))
    computes = [{"id": compute_id, "host": compute.host, "port": compute.port, "name": "compute-%d" % compute.port,
                 "capacity": 20, "node_types": ["vpcs"], "console_port_range": "%d-%d" % compute.console_range}
                for compute_id, compute in zip(IDS, farm["computes"])]
    survey = dict({"mass_clone_names": "Ccmp_[01-%02d]" % CLONES, "mass_clone_source": "lab",
                   "mass_clone_gns3_url": farm["controller"].url, "mass_clone_summary_dir": str(tmp_path),
                   "mass_clone_console_port_range": "%d-%d" % farm["controller"].console_range,
                   "mass_clone_computes": json.dumps(computes),
                   "mass_clone_compute_placement": '{"per": "clone", "policy": "even"}'}, **extra)
    extra_vars = tmp_path / "extra.json"
    extra_vars.write_text(json.dumps(survey))
    return run("ansible-playbook", "-i", str(inventory), "-e", "@%s" % extra_vars, PLAYBOOK)


def test_clones_of_the_role_run_on_the_remote_computes_it_names(run, controller_farm, tmp_path):
    farm = controller_farm
    controller = farm["controller"]
    marks = [server.log_size() for server in [controller] + farm["computes"]]
    result = play(run, farm, tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    with open(str(tmp_path / "lab-clones.json")) as handle:
        clones = json.load(handle)["clones"]
    assert [clone["name"] for clone in clones] == ["Ccmp_%02d" % index for index in range(1, CLONES + 1)]
    hosts = dict((compute_id, compute.host) for compute_id, compute in zip(IDS, farm["computes"]))
    per_compute = {}
    for clone in clones:
        used = set(node["compute_id"] for node in clone["nodes"])
        assert len(used) == 1 and used <= set(IDS), (clone["name"], used)    # per clone: one compute each
        compute_id = used.pop()
        per_compute[compute_id] = per_compute.get(compute_id, 0) + 1
        for node in clone["nodes"]:
            assert node["console_address"] == "%s:%d" % (hosts[node["compute_id"]], node["console"])
    assert per_compute == dict((compute_id, CLONES // 2) for compute_id in IDS)
    assert "Nodes per compute: " in result.stdout

    listed = dict((project["name"], project) for project in controller.projects())
    for clone in clones:
        assert listed[clone["name"]]["project_id"] == clone["project_id"]
        controller.open_project(clone["project_id"])
        try:
            reported = dict((node["node_id"], (node["compute_id"], node["console"])) for node in controller.nodes(clone["project_id"]))
        finally:
            controller.close_project(clone["project_id"])
        assert reported == dict((node["node_id"], (node["compute_id"], node["console"])) for node in clone["nodes"]), clone["name"]
    for server, mark in zip([controller] + farm["computes"], marks):
        assert not server.log_errors(since=mark), "GNS3 on port %d logged errors:\n%s" % (server.port, "\n".join(server.log_errors(since=mark)))

    again = play(run, farm, tmp_path)
    assert again.returncode == 0 and "changed=0" in again.stdout.split("PLAY RECAP")[-1], again.stdout[-6000:]
    gone = play(run, farm, tmp_path, mass_clone_state="absent")
    assert gone.returncode == 0, gone.stdout[-8000:] + gone.stderr[-3000:]
    assert farm["pool"].zfs("list", "-H", "-o", "name", "-r", farm["dataset"]).split() == \
        [farm["dataset"], farm["dataset"] + "/" + farm["source"]["project_id"]]
