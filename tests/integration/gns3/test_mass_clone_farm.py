# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole mass clone job against real components: playbooks/mass_clone.yml makes 20 clones of a
VPCS+qemu project on a zfs-fuse pool that is the projects_path of a real GNS3 server (2.2.61 and
3.0.6), the server reloads, and all 20 clones are opened at the same time beside the source.

GNS3 silently reassigns conflicting console ports and accepts duplicate MACs (both versions), so a load
that succeeds proves little: the test compares what the API reports with what each file holds and
with the role's summary, checks that every port and MAC is unique, and that the server logged no
error. Then a rerun changes nothing and state=absent removes the clones and nothing else.
"""

import csv
import json
import os
import shutil
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab.gns3 import GNS3Server, missing_reason  # noqa: E402  pylint: disable=wrong-import-position
from lab.zfs import ZfsLab  # noqa: E402  pylint: disable=wrong-import-position
from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "playbooks", "files", "sample_project")
CLONES = 20
# Ports of these servers, apart from the session servers of test_gns3_server.py.
FARM = {
    "2.2": {"port": 13082, "console_range": (26000, 26999), "udp_range": (22000, 22999)},
    "3.0": {"port": 13083, "console_range": (27000, 27999), "udp_range": (23000, 23999)},
}


@pytest.fixture(scope="module")
def zfs_daemon():
    lab = ZfsLab()
    if lab.missing_tools():
        lab_missing("zfs-fuse is not installed")
    lab.ensure_daemon()
    yield lab
    lab.stop_daemon()


@pytest.fixture(params=sorted(FARM), ids=["gns3-%s" % v for v in sorted(FARM)])
def farm(request, tmp_path, zfs_daemon):
    """A pool whose projects dataset is the projects_path of a fresh GNS3 server, holding the source."""
    version = request.param
    reason = missing_reason(version)
    if reason:
        lab_missing(reason)
    settings = FARM[version]
    pool = zfs_daemon.create_pool("lffarm%s" % uuid.uuid4().hex[:6], tmp_path / "zfs", size="512M")
    projects_dataset = pool.create(pool.path("gns3/projects"))
    projects_root = os.path.join(pool.mountpoint, "gns3", "projects")

    # The source: the sample project as this server would have saved it, consoles in its range.
    with open(os.path.join(SAMPLE, "lab.gns3")) as handle:
        source = json.load(handle)
    pool.create(projects_dataset + "/" + source["project_id"])
    source_dir = os.path.join(projects_root, source["project_id"])
    shutil.copytree(SAMPLE, source_dir, dirs_exist_ok=True)
    for index, node in enumerate(source["topology"]["nodes"]):
        node["console"] = settings["console_range"][0] + index
    with open(os.path.join(source_dir, "lab.gns3"), "w") as handle:
        json.dump(source, handle, indent=4, sort_keys=True)

    server = GNS3Server(version, tmp_path / "gns3", projects_path=projects_root, **settings)
    server.start()
    try:
        yield {"version": version, "server": server, "pool": pool, "dataset": projects_dataset,
               "root": projects_root, "source": source, "source_dir": source_dir, "work": tmp_path}
    finally:
        server.stop()
        for _attempt in range(5):
            if zfs_daemon.pools() and pool.name not in zfs_daemon.pools():
                break
            if os.system("zpool destroy -f %s >/dev/null 2>&1" % pool.name) == 0:
                break


def play(run, farm, *extra):
    server = farm["server"]
    inventory = farm["work"] / "inventory.json"
    variables = {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.abspath(sys.executable),
        "mass_clone_names": "Cexam_[01-%02d]" % CLONES,
        "mass_clone_source": "lab",
        "mass_clone_projects_root": farm["root"],
        "mass_clone_projects_dataset": farm["dataset"],
        "mass_clone_console_port_range": "%d-%d" % server.console_range,
        "mass_clone_summary_dir": str(farm["work"]),
        "mass_clone_gns3_url": server.url,
    }
    if server.major >= 3:
        variables.update(mass_clone_gns3_username=server.username, mass_clone_gns3_password=server.password)
    inventory.write_text(json.dumps({"gns3_servers": {"hosts": {"localhost": variables}}}))
    return run("ansible-playbook", "-i", str(inventory), os.path.join(ROOT, "playbooks", "mass_clone.yml"), *extra)


def recap_changed(output):
    line = [row for row in output.splitlines() if row.startswith("localhost") and "changed=" in row][-1]
    return int(line.split("changed=")[1].split()[0])


def file_nodes(path):
    with open(path) as handle:
        data = json.load(handle)
    return data["project_id"], dict((node["node_id"], node) for node in data["topology"]["nodes"])


def test_twenty_clones_open_beside_the_source_with_the_ports_and_macs_in_their_files(run, farm):
    server = farm["server"]
    mark = server.log_size()
    source_file = os.path.join(farm["source_dir"], "lab.gns3")
    server.api("POST", "/projects/load", {"path": source_file})

    result = play(run, farm)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "%d clones of 'lab'" % CLONES in result.stdout

    with open(str(farm["work"] / "lab-clones.json")) as handle:
        summary = json.load(handle)
    clones = summary["clones"]
    assert [clone["name"] for clone in clones] == ["Cexam_%02d" % i for i in range(1, CLONES + 1)]
    with open(str(farm["work"] / "lab-clones.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == CLONES * len(farm["source"]["topology"]["nodes"])

    # Every clone is a ZFS clone of the source's snapshot, in the dataset named after its project_id.
    origins = dict(line.split("\t") for line in farm["pool"].zfs("list", "-H", "-o", "name,origin", "-r", farm["dataset"]).splitlines())
    for clone in clones:
        assert origins[farm["dataset"] + "/" + clone["project_id"]] == \
            "%s/%s@clonesource" % (farm["dataset"], farm["source"]["project_id"])

    # The server lists them after the reload; open all 20 at the same time, beside the open source.
    listed = dict((p["name"], p) for p in server.projects())
    assert set("Cexam_%02d" % i for i in range(1, CLONES + 1)) <= set(listed)
    assert listed["lab"]["project_id"] == farm["source"]["project_id"]
    for clone in clones:
        server.open_project(clone["project_id"])
    statuses = dict((p["name"], p["status"]) for p in server.projects())
    assert all(statuses["Cexam_%02d" % i] == "opened" for i in range(1, CLONES + 1))
    assert statuses["lab"] == "opened"

    ports, macs = [], []
    for project_id, path in [(farm["source"]["project_id"], source_file)] + \
            [(clone["project_id"], os.path.join(clone["path"], "lab.gns3")) for clone in clones]:
        file_id, in_file = file_nodes(path)
        assert file_id == project_id
        api_nodes = server.nodes(project_id)
        assert sorted(node["node_id"] for node in api_nodes) == sorted(in_file)
        for node in api_nodes:
            written = in_file[node["node_id"]]
            # exactly the console written in the file (GNS3 would silently replace a conflicting one)
            assert node["console"] == written["console"], (path, node["name"])
            ports.append(node["console"])
            if node["node_type"] == "qemu":
                assert node["properties"]["mac_address"] == written["properties"]["mac_address"]
                for port in node["ports"]:
                    macs.append(port["mac_address"])
    assert len(ports) == len(set(ports)) == (CLONES + 1) * len(farm["source"]["topology"]["nodes"])
    assert all(server.console_range[0] <= port <= server.console_range[1] for port in ports)
    assert len(macs) == len(set(macs)) == (CLONES + 1) * 2   # one qemu node with 2 adapters per project

    # The summary says what the API says.
    for clone in clones:
        api = dict((node["node_id"], node) for node in server.nodes(clone["project_id"]))
        for node in clone["nodes"]:
            assert api[node["node_id"]]["console"] == node["console"]
            if node["node_type"] == "qemu":
                assert [a["mac_address"] for a in node["adapters"]] == \
                    [port["mac_address"] for port in api[node["node_id"]]["ports"]]

    errors = server.log_errors(since=mark)
    assert not errors, "GNS3 %s logged errors:\n%s" % (server.version, "\n".join(errors))

    # A rerun with every clone open changes nothing.
    again = play(run, farm)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap_changed(again.stdout) == 0, again.stdout[-4000:]

    # state=absent: the clones go, from the pool and from the server; the source stays.
    gone = play(run, farm, "-e", "mass_clone_state=absent")
    assert gone.returncode == 0, gone.stdout[-6000:] + gone.stderr[-3000:]
    left = farm["pool"].zfs("list", "-H", "-o", "name", "-r", farm["dataset"]).split()
    assert left == [farm["dataset"], farm["dataset"] + "/" + farm["source"]["project_id"]]
    # the farm lock file stays (a dot-file GNS3 does not read; never a stale lock)
    assert sorted(os.listdir(farm["root"])) == [".labfarm-farm.lock", farm["source"]["project_id"]]
    names = [p["name"] for p in server.projects()]
    assert "lab" in names and not [name for name in names if name.startswith("Cexam_")]
    assert not os.path.exists(str(farm["work"] / "lab-clones.json"))
    errors = server.log_errors(since=mark)
    assert not errors, "GNS3 %s logged errors:\n%s" % (server.version, "\n".join(errors))
