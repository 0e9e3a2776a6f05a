# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared store, over SSH only: playbooks/mass_clone.yml on a storage host (zfs-fuse) and three GNS3
servers whose projects_path is the store, each host a network namespace with its own sshd.

The store clones and resets the clones once (30 on the 2.2 store, 9 on the 3.0 one); every server reloads; each clone is opened on the one
server placement chose and on no other (each server's API says so); every console port and MAC the API
reports equals the file and the summary; no server logs an error; a rerun changes nothing; absent leaves
only the source. Then two playbooks on the same store at once, and the refusals made before anything is
cloned (a server that does not show the store, servers of two GNS3 major versions on one store).
"""

import json
import os
import re
import threading

import pytest

from conftest import ROOT, inventory
from lab.zfs import holders

PLAYBOOK = os.path.join(ROOT, "playbooks", "mass_clone.yml")
# The must-show set (30 clones on one store) on the 2.2 store; the 3.0 store shows the same with 3 per server.
CLONES = {"2.2": 30, "3.0": 9}


def play(run, inv, *extra):
    result = run("ansible-playbook", "-i", str(inv), PLAYBOOK, "-f", "8", *extra)
    # every run's whole output beside its inventory, for the post-mortem of a failure
    log = inv.parent / ("play-%d.log" % len(list(inv.parent.glob("play-*.log"))))
    log.write_text(result.stdout + result.stderr)
    return result


def recap(output):
    """{host: {ok, changed, failed, ...}} of the PLAY RECAP."""
    out = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        if " : ok=" in line:
            host, counts = line.split(" : ", 1)
            out[host.strip()] = dict((k, int(v)) for k, v in (w.split("=") for w in counts.split()))
    return out


def datasets(pool, dataset):
    return pool.zfs("list", "-H", "-o", "name", "-r", dataset).split()


def file_nodes(path):
    with open(path) as handle:
        data = json.load(handle)
    return data["project_id"], dict((node["node_id"], node) for node in data["topology"]["nodes"])


def by_name(server):
    return dict((p["name"], p) for p in server.projects())


@pytest.mark.parametrize("version", ["2.2", "3.0"], ids=["gns3-2.2", "gns3-3.0"])
def test_thirty_clones_on_a_shared_store_each_opened_on_its_server(run, shared_farm, tmp_path, version):
    count = CLONES[version]
    store = shared_farm["stores"][version]
    members = store["servers"]
    marks = dict((name, server.log_size()) for name, (host, server) in members.items())
    inv = inventory(shared_farm, version, tmp_path / "inventory.json", "Cexam_[01-%02d]" % count, tmp_path)

    result = play(run, inv)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "connection: local" not in inv.read_text() and '"ansible_connection": "ssh"' in inv.read_text()
    with open(str(tmp_path / "lab-clones.json")) as handle:
        summary = json.load(handle)
    clones = summary["clones"]
    assert [clone["name"] for clone in clones] == ["Cexam_%02d" % i for i in range(1, count + 1)]
    assert summary["storage_host"] == "store"

    # Made once, on the store: one dataset per clone, each a clone of the source's snapshot.
    origins = dict(line.split("\t") for line in shared_farm["pool"].zfs(
        "list", "-H", "-o", "name,origin", "-r", store["dataset"]).splitlines())
    for clone in clones:
        assert origins[store["dataset"] + "/" + clone["project_id"]] == \
            "%s/%s@clonesource" % (store["dataset"], store["source"]["project_id"])
        assert os.stat(os.path.join(clone["path"], "lab.gns3")).st_uid == 0   # mass_clone_owner: "0"

    # Placement spread the set over the three servers; each clone is opened on its server and on no other.
    placed = dict((name, [c["name"] for c in clones if c["server"] == name]) for name in members)
    assert sorted(sum(placed.values(), [])) == sorted(c["name"] for c in clones)
    assert all(len(share) == count // len(members) for share in placed.values()), placed
    for name, (host, server) in members.items():
        listed = by_name(server)
        for clone in clones:
            assert clone["name"] in listed, (name, clone["name"])        # every server reloaded every clone
            expected = "opened" if clone["server"] == name else "closed"
            assert listed[clone["name"]]["status"] == expected, (name, clone["name"], clone["server"])

    # Every console port and MAC the API reports (on the server that opened the clone) is the file's and the summary's.
    ports, macs = [], []
    for clone in clones:
        host, server = members[clone["server"]]
        file_id, in_file = file_nodes(os.path.join(clone["path"], "lab.gns3"))
        assert file_id == clone["project_id"]
        api = dict((node["node_id"], node) for node in server.nodes(clone["project_id"]))
        assert sorted(api) == sorted(in_file) == sorted(node["node_id"] for node in clone["nodes"])
        assert clone["console_host"] == host.address
        for node in clone["nodes"]:
            got = api[node["node_id"]]
            assert got["console"] == in_file[node["node_id"]]["console"] == node["console"], (clone["name"], node["name"])
            assert node["console_address"] == "%s:%d" % (host.address, node["console"])
            assert got["console_host"] in (host.address, "0.0.0.0", "::"), got["console_host"]
            ports.append(node["console"])
            if node["node_type"] == "qemu":
                assert got["properties"]["mac_address"] == in_file[node["node_id"]]["properties"]["mac_address"]
                api_macs = [port["mac_address"] for port in got["ports"]]
                assert api_macs == [adapter["mac_address"] for adapter in node["adapters"]]
                macs.extend(api_macs)
    assert len(ports) == len(set(ports)) == count * len(store["source"]["topology"]["nodes"])
    assert all(store["console_range"][0] <= port <= store["console_range"][1] for port in ports)
    assert len(macs) == len(set(macs)) and macs

    for name, (host, server) in members.items():
        errors = server.log_errors(since=marks[name])
        assert not errors, "GNS3 %s on %s logged errors:\n%s" % (server.version, name, "\n".join(errors))

    # A rerun changes nothing, on any host.
    again = play(run, inv)
    assert again.returncode == 0, again.stdout[-6000:]
    counts = recap(again.stdout)
    assert sorted(counts) == sorted(["store"] + list(members)) and all(c["changed"] == 0 for c in counts.values()), \
        again.stdout[-6000:]

    # absent: closed where opened, destroyed on the store, forgotten by every server; only the source stays.
    gone = play(run, inv, "-e", "mass_clone_state=absent")
    assert gone.returncode == 0, gone.stdout[-8000:] + gone.stderr[-3000:]
    assert datasets(shared_farm["pool"], store["dataset"]) == [store["dataset"], store["dataset"] + "/" + store["source"]["project_id"]]
    assert sorted(os.listdir(store["root"])) == [".labfarm-farm.lock", store["source"]["project_id"]]
    for name, (host, server) in members.items():
        names = list(by_name(server))
        assert "lab" in names and not [n for n in names if n.startswith("Cexam_")], (name, names)
        errors = server.log_errors(since=marks[name])
        assert not errors, "GNS3 %s on %s logged errors:\n%s" % (server.version, name, "\n".join(errors))


def test_two_playbooks_at_once_on_one_store(run, shared_farm, tmp_path):
    version = "2.2"
    store = shared_farm["stores"][version]
    before = datasets(shared_farm["pool"], store["dataset"])
    invs = []
    for prefix in ("Ra", "Rb"):
        (tmp_path / prefix).mkdir()
        invs.append(inventory(shared_farm, version, tmp_path / prefix / "inventory.json", "%s_[01-06]" % prefix,
                              tmp_path / prefix))
    results = [None, None]

    def go(index):
        results[index] = play(run, invs[index])
    threads = [threading.Thread(target=go, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]

    ports, macs, opened = [], [], {}
    for prefix in ("Ra", "Rb"):
        with open(str(tmp_path / prefix / "lab-clones.json")) as handle:
            clones = json.load(handle)["clones"]
        assert len(clones) == 6
        for clone in clones:
            dummy, in_file = file_nodes(os.path.join(clone["path"], "lab.gns3"))
            for node in in_file.values():
                ports.append(node["console"])
                macs.extend(v for k, v in node.get("properties", {}).items() if k == "mac_address")
            opened[clone["name"]] = clone["server"]
    assert len(ports) == len(set(ports)), sorted(p for p in ports if ports.count(p) > 1)
    assert len(macs) == len(set(macs)), sorted(m for m in macs if macs.count(m) > 1)
    for name, (host, server) in store["servers"].items():
        listed = by_name(server)
        for clone, where in opened.items():
            assert listed[clone]["status"] == ("opened" if where == name else "closed"), (name, clone, where)

    for inv in invs:
        gone = play(run, inv, "-e", "mass_clone_state=absent")
        assert gone.returncode == 0, "%s\nprocesses in the store: %s" % (gone.stdout[-6000:], holders(store["root"]))
    assert datasets(shared_farm["pool"], store["dataset"]) == before


def test_servers_that_cannot_share_the_store_are_named_before_anything_is_cloned(run, shared_farm, tmp_path):
    version = "2.2"
    store = shared_farm["stores"][version]
    other = shared_farm["stores"]["3.0"]
    elsewhere = tmp_path / "not-the-store"
    elsewhere.mkdir()
    before = datasets(shared_farm["pool"], store["dataset"])
    inv = inventory(shared_farm, version, tmp_path / "inventory.json", "Cbad_[01-06]", tmp_path,
                    overrides={"gns3b": {"mass_clone_projects_root": str(elsewhere)}})
    # A 3.0 server that shows the 2.2 store: the version check names it.
    data = json.loads(inv.read_text())
    host, server = other["servers"]["gns3d"]
    data["all"]["children"]["gns3_servers"]["hosts"]["gns3d"] = dict(
        shared_farm["farm"].inventory_vars(host), mass_clone_projects_root=store["root"], mass_clone_gns3_url=server.url,
        mass_clone_gns3_username=server.username, mass_clone_gns3_password=server.password)
    inv.write_text(json.dumps(data))

    result = play(run, inv)
    assert result.returncode != 0
    assert re.search(r"GNS3 server gns3b: %s/\.labfarm-store-marker\.[0-9a-z]{32} is not there" % re.escape(str(elsewhere)),
                     result.stdout), result.stdout[-6000:]
    assert "different GNS3 major versions" in result.stdout and "gns3d 3.0.6" in result.stdout, result.stdout[-6000:]
    assert "Nothing was cloned" in result.stdout
    assert datasets(shared_farm["pool"], store["dataset"]) == before
    assert not [name for name in os.listdir(store["root"]) if name.startswith(".labfarm-store")]


def test_a_server_that_does_not_answer_fails_the_run_or_its_share_goes_to_the_others(run, shared_farm, tmp_path):
    version = "2.2"
    store = shared_farm["stores"][version]
    before = datasets(shared_farm["pool"], store["dataset"])
    # gns3c's API is not where the inventory says; host "gone" has no sshd any more.
    gone = shared_farm["farm"].add_host("gone%d" % len(shared_farm["farm"].hosts))
    gone.stop_sshd()
    inv = inventory(shared_farm, version, tmp_path / "inventory.json", "Cdown_[01-06]", tmp_path,
                    overrides={"gns3c": {"mass_clone_gns3_url": "http://%s:3999" % store["servers"]["gns3c"][0].address}})
    data = json.loads(inv.read_text())
    data["all"]["children"]["gns3_servers"]["hosts"][gone.name] = dict(
        shared_farm["farm"].inventory_vars(gone), mass_clone_projects_root=store["root"],
        mass_clone_gns3_url="http://%s:3080" % gone.address)
    inv.write_text(json.dumps(data))

    refused = play(run, inv)
    assert refused.returncode != 0
    assert "GNS3 server gns3c its GNS3 API does not answer" in refused.stdout, refused.stdout[-6000:]
    assert "GNS3 server %s does not answer over SSH" % gone.name in refused.stdout, refused.stdout[-6000:]
    assert "mass_clone_redistribute=true" in refused.stdout and "Nothing was cloned" in refused.stdout
    assert datasets(shared_farm["pool"], store["dataset"]) == before

    spread = play(run, inv, "-e", "mass_clone_redistribute=true")
    assert spread.returncode == 0, spread.stdout[-8000:] + spread.stderr[-3000:]
    with open(str(tmp_path / "lab-clones.json")) as handle:
        clones = json.load(handle)["clones"]
    assert sorted(set(clone["server"] for clone in clones)) == ["gns3a", "gns3b"]
    for clone in clones:
        assert by_name(store["servers"][clone["server"]][1])[clone["name"]]["status"] == "opened"

    removed = play(run, inv, "-e", "mass_clone_redistribute=true", "-e", "mass_clone_state=absent")
    assert removed.returncode == 0, removed.stdout[-8000:]
    assert datasets(shared_farm["pool"], store["dataset"]) == before
    # gns3c was left out: it still lists the clones it read, closed (it never opened one); a reload drops them
    assert not [name for name in by_name(store["servers"]["gns3a"][1]) if name.startswith("Cdown_")]
