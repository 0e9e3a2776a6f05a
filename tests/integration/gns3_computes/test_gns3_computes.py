# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GNS3's own farm (issue 12, section 3): a GNS3 2.2 controller and a 3.0 controller, each with two remote
computes (other gns3server processes on 127.0.0.1), 20 clones of a VPCS lab reset by gns3_project_reset through
ansible-playbook with ``computes``; after the controller reloads, its API reports every node of every clone on
the compute the reset planned, with the console port the file says, and no server logs an error.

The computes' console ranges hold 40 ports each: the 60 consoles of the batch fit only because ports are unique
per compute. Ports (tests/lab/gns3.py servers): API 13150-13155, consoles and UDP within 30000-31999."""

import json
import os
import shutil
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.gns3 import GNS3Server, missing_reason  # noqa: E402  pylint: disable=wrong-import-position

RESET = "labfarm.massclone.gns3_project_reset"
CLONES = 20
# version: (API port, console base) of the controller; its computes take the next two ports and bases + 250, + 500
LAYOUT = {"2.2": (13150, 30000), "3.0": (13153, 31000)}


def _server(version, workdir, port, base, **extra):
    # 40 consoles, then 40 UDP ports (a link's tunnel ends), far below the kernel's ephemeral range
    return GNS3Server(version, workdir, port=port, console_range=(base, base + 39), udp_range=(base + 40, base + 79),
                      **extra)


class Farm:
    """One controller and its two remote computes, of one version."""

    def __init__(self, version, workdir):
        port, base = LAYOUT[version]
        password = "labfarm-compute" if version == "3.0" else None
        self.version = version
        self.controller = _server(version, os.path.join(workdir, "controller"), port, base)
        self.computes = [_server(version, os.path.join(workdir, "compute%d" % index), port + index, base + 250 * index,
                                 compute_password=password) for index in (1, 2)]
        # GNS3 3.x keys computes by UUID; 2.2 takes any string, the same ids serve both
        self.ids = ["7f0c3a9e-0b1d-4c55-9a43-00000000%s0%d" % (version.replace(".", ""), index) for index in (1, 2)]

    @property
    def servers(self):
        return [self.controller] + self.computes


def _each(action, servers):
    """``action(server)`` for every server at once (starting or stopping one takes seconds)."""
    threads = [threading.Thread(target=action, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture(scope="module")
def farms(tmp_path_factory):
    """Both farms, their six servers started at once (a 3.0 server takes ~8 s to make its database)."""
    for version in LAYOUT:
        reason = missing_reason(version)
        if reason:
            lab_missing(reason)
    farms = dict((version, Farm(version, str(tmp_path_factory.mktemp("computes-%s" % version)))) for version in LAYOUT)
    servers = [server for farm in farms.values() for server in farm.servers]
    errors = []

    def start(server):
        try:
            server.start()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("GNS3 %s on port %d: %s" % (server.version, server.port, exc))
    _each(start, servers)
    try:
        assert not errors, "\n".join(errors)
        for farm in farms.values():
            for compute_id, compute in zip(farm.ids, farm.computes):
                farm.controller.add_compute(compute, compute_id, name="compute-%d" % compute.port)
        yield farms
    finally:
        _each(lambda server: server.stop(), servers)   # each by its own PID


def _wait_listed(controller, names, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        listed = dict((project["name"], project) for project in controller.projects())
        if set(names) <= set(listed):
            return listed
        if time.monotonic() > deadline:
            raise AssertionError("after the reload, GNS3 %s lists %s of %d clones"
                                 % (controller.version, len(set(names) & set(listed)), len(names)))
        time.sleep(0.3)


@pytest.mark.parametrize("version", sorted(LAYOUT))
def test_twenty_clones_spread_over_two_remote_computes_are_where_the_reset_put_them(farms, run_tasks, version):
    farm = farms[version]
    controller = farm.controller
    started = time.monotonic()
    source = controller.build_project("lab", vpcs=("PC1", "PC2", "PC3"), link_pairs=[("PC1", "PC2")])
    for index in range(1, CLONES + 1):
        shutil.copytree(source["path"], os.path.join(controller.projects_path, "clone-%02d" % index),
                        ignore=shutil.ignore_patterns("*.backup", "*.lock"))
    computes = [{"id": compute_id, "host": compute.host, "port": compute.port, "name": "compute-%d" % compute.port,
                 "capacity": 30, "node_types": ["vpcs", "qemu"],
                 "console_port_range": "%d-%d" % compute.console_range}
                for compute_id, compute in zip(farm.ids, farm.computes)]
    args = {"projects_root": controller.projects_path,
            "projects": [{"path": os.path.join(controller.projects_path, "clone-%02d" % index), "name": "Clab_%02d" % index}
                         for index in range(1, CLONES + 1)],
            "computes": computes, "compute_placement": {"per": "clone", "policy": "even"}}
    reset, rerun = run_tasks(RESET, [args, args])
    assert not reset.get("failed"), reset.get("msg")
    assert reset["changed"] is True and rerun["changed"] is False, rerun.get("msg")
    assert [(c["id"], c["projects"], c["nodes"]) for c in reset["computes"]] == [(farm.ids[0], 10, 30), (farm.ids[1], 10, 30)]
    planned = dict((project["name"], project) for project in reset["projects"])

    controller.api("POST", "/reload", {})
    listed = _wait_listed(controller, planned)
    checked = 0
    for name, project in sorted(planned.items()):
        with open(project["file"]) as handle:
            in_file = json.load(handle)["topology"]
        assert [entry["compute_id"] for entry in in_file["computes"]] == list(project["summary"]["computes"])
        written = dict((node["node_id"], (node["compute_id"], node["console"])) for node in in_file["nodes"])
        project_id = listed[name]["project_id"]
        assert project_id == project["project_id"]
        controller.open_project(project_id)
        reported = dict((node["node_id"], (node["compute_id"], node["console"])) for node in controller.nodes(project_id))
        assert reported == written == dict((node["node_id"], (node["compute_id"], node["console"]))
                                           for node in project["nodes"]), name
        checked += len(reported)
        controller.close_project(project_id)
    assert checked == CLONES * 3
    for server in farm.servers:
        assert not server.log_errors(), "GNS3 %s on port %d logged errors:\n%s" % (
            version, server.port, "\n".join(server.log_errors()))
    print("GNS3 %s: %d clones, %d nodes on 2 remote computes, checked in %.1f s (servers started in %.1f s)"
          % (version, CLONES, checked, time.monotonic() - started, max(s.start_seconds for s in farm.servers)))
