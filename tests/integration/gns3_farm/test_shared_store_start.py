# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared store with mass_clone_start: playbooks/mass_clone.yml over SSH starts each clone's nodes on the one
server placement chose, paced per server (mass_clone_start_rate, mass_clone_start_concurrency).

The farm is the module's shared_farm (conftest.py): nothing else boots. The source is a project of two qemu nodes
on an empty 1 MiB qcow2 (TCG: QEMU sits in its BIOS and GNS3 reports the node started), made through the API of
the store's first server in a dataset of its own (the sample project's VPCS nodes cannot be started by Debian's
VPCS under GNS3). On each store (2.2 and 3.0), four clones over two of its servers: two clones, four node starts,
on each; the store's third server is left out of the set.
"""

import json
import os
import uuid

import pytest

from conftest import inventory
from lab.zfs import holders
from test_shared_store import PLAYBOOK, by_name, datasets, play

# Two servers of each store; the third stays out of the set: it must open none of it.
SERVERS = {"2.2": ["gns3a", "gns3b"], "3.0": ["gns3d", "gns3e"]}
SOURCE = "startsrc"
NODES = ["q1", "q2"]
RATE = 4.0
CONCURRENCY = 2
# A play after the role's, in the same ansible-playbook run: it writes what gns3_server returned on each server
# (the role's mass_clone_gns3_open) to a file, for the test to assert on the module's own report.
DUMP = """- name: Keep what gns3_server returned on each server
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write the returns
      ansible.builtin.copy:
        content: >-
          {% set out = {} %}{% for server in groups.gns3_servers %}{% set _ = out.update({server:
          hostvars[server].mass_clone_gns3_open | default({})}) %}{% endfor %}{{ out | to_json }}
        dest: "@RETURNS@"
        mode: "0644"
"""


def qemu_of(path):
    """PIDs of the processes whose command line names ``path`` (the QEMU of a node of the clone there): the
    namespaces share the host's PID namespace."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except (IOError, OSError):
            continue
        if argv and b"qemu-system" in argv[0] and path.encode() in b" ".join(argv):
            pids.append(int(pid))
    return pids


def peak(spans):
    """The most (at, at + seconds) spans open at one moment."""
    edges = sorted([(at, 1) for at, end in spans] + [(end, -1) for at, end in spans], key=lambda e: (e[0], e[1]))
    most = now = 0
    for dummy, step in edges:
        now += step
        most = max(most, now)
    return most


def make_source(shared_farm, version, dataset):
    """The qemu source in ``dataset`` on the store of ``version``, built through the API of its first server and
    closed there."""
    store = shared_farm["stores"][version]
    project_id = dataset.rsplit("/", 1)[1]
    shared_farm["pool"].create(dataset)
    maker = store["servers"][SERVERS[version][0]][1]
    for name in SERVERS[version]:
        store["servers"][name][1].tiny_image()   # each server looks for the image in its own images_path
    maker.create_project(SOURCE, project_id=project_id)
    for name in NODES:
        maker.add_qemu(project_id, name)
    maker.close_project(project_id)


# One version is enough here: both versions' start paths (3.0 answers 204 and is polled) are covered by the
# gradual start tests of tests/integration/gns3; this one is about the shared store, and the suite's time.
@pytest.mark.parametrize("version", ["2.2"], ids=["gns3-2.2"])
def test_clones_start_gradually_each_on_its_server(run, shared_farm, tmp_path, version):
    servers = SERVERS[version]
    store = shared_farm["stores"][version]
    members = store["servers"]
    marks = dict((name, server.log_size()) for name, (host, server) in members.items())
    before = datasets(shared_farm["pool"], store["dataset"])
    source = store["dataset"] + "/" + str(uuid.uuid4())
    returns = tmp_path / "returns.json"
    dump = tmp_path / "dump.yml"
    dump.write_text(DUMP.replace("@RETURNS@", str(returns)))
    inv = inventory(shared_farm, version, tmp_path / "inventory.json", "Cstart_[01-04]", tmp_path, servers=servers,
                    mass_clone_source=SOURCE)
    try:
        make_source(shared_farm, version, source)
        result = run("ansible-playbook", "-i", str(inv), PLAYBOOK, str(dump), "-f", "8", "-e", "mass_clone_start=true",
                     "-e", "mass_clone_start_rate=%s" % RATE, "-e", "mass_clone_start_concurrency=%d" % CONCURRENCY)
        (tmp_path / "start.log").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
        with open(str(tmp_path / ("%s-clones.json" % SOURCE))) as handle:
            clones = json.load(handle)["clones"]
        assert [clone["name"] for clone in clones] == ["Cstart_%02d" % i for i in range(1, 5)]
        assert sorted(clone["server"] for clone in clones) == sorted(servers * 2)
        opened = json.loads(returns.read_text())

        for name, (host, server) in members.items():
            mine = [clone for clone in clones if clone["server"] == name]
            listed = by_name(server)
            for clone in clones:
                if clone["server"] == name:
                    # started on the server placement chose: GNS3 says so, and a QEMU runs each node
                    assert listed[clone["name"]]["status"] == "opened", (name, clone["name"])
                    api = dict((node["node_id"], node) for node in server.nodes(clone["project_id"]))
                    assert sorted(api) == sorted(node["node_id"] for node in clone["nodes"])
                    assert set(node["status"] for node in api.values()) == set(["started"]), (name, api)
                    assert len(qemu_of(clone["path"])) == len(NODES), (clone["name"], holders(clone["path"]))
                    # the summary's console host:port is where this server's API says the node's console is
                    for node in clone["nodes"]:
                        got = api[node["node_id"]]
                        host_of = host.address if got["console_host"] in ("0.0.0.0", "::", None) else got["console_host"]
                        assert node["console_address"] == "%s:%d" % (host_of, got["console"]), (clone["name"], got)
                else:
                    # on no other: closed where listed (the third server, outside the set, need not list it)
                    assert listed.get(clone["name"], {"status": "closed"})["status"] == "closed", (name, clone["name"])

            if name not in servers:
                assert name not in opened
                continue
            # what gns3_server returned on this server: its share, started, paced by rate and concurrency
            report = opened[name]
            assert sorted(p["name"] for p in report["projects"]) == sorted(c["name"] for c in mine), report
            starts = [node for project in report["projects"] for node in project["nodes"]]
            assert len(starts) == len(mine) * len(NODES)
            assert all(node["action"] == "started" and node["status"] == "started" for node in starts), starts
            times = sorted(node["at"] for node in starts)
            assert all(b - a >= 1.0 / RATE - 0.01 for a, b in zip(times, times[1:])), (name, times)
            assert peak([(node["at"], node["at"] + node["seconds"]) for node in starts]) <= CONCURRENCY, (name, starts)
            errors = server.log_errors(since=marks[name])
            assert not errors, "GNS3 %s on %s logged errors:\n%s" % (server.version, name, "\n".join(errors))

        # absent: each clone closed on its server (its QEMUs gone), its dataset destroyed; only the sources stay.
        gone = play(run, inv, "-e", "mass_clone_state=absent")
        assert gone.returncode == 0, gone.stdout[-8000:] + gone.stderr[-3000:]
        for clone in clones:
            assert not qemu_of(clone["path"]), clone["name"]
        for name in servers:
            listed = by_name(members[name][1])
            assert SOURCE in listed and not [n for n in listed if n.startswith("Cstart_")], (name, sorted(listed))
        assert sorted(datasets(shared_farm["pool"], store["dataset"])) == sorted(before + [source])
    finally:
        # with its snapshot and its mountpoint; clones a failed run left stop it (the next session's pool is a new one)
        shared_farm["pool"].zfs("destroy", "-r", source, check=False)
        try:
            os.rmdir(os.path.join(store["root"], source.rsplit("/", 1)[1]))
        except OSError:
            pass   # gone with the dataset, or the dataset is still there (the failure above says why)
