# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reset of GNS3 project copies, on the files real GNS3 servers wrote (tests/fixtures/gns3, made
by its make_fixtures.py) and on real-world node shapes added to them: qemu with custom adapters,
docker with aux, dynamips, a dynamips ethernet_switch, IOU, remote computes, snapshots, both file
revisions, corrupt files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import shutil
import uuid

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common import files
from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import format_dotted_mac, format_mac, parse_mac
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import fold_numbers
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import MacAllocator
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.apply import apply_plan
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.disk import load_project
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import (
    DYNAMIPS_MAC_BLOCK, MARKER, Gns3ProjectError, describe_node, node_application_id, node_consoles, node_macs)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.plan import Request, plan_reset, result_of
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.project_options import parse_mac_prefix

ROOT = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(ROOT, "..", "..", "..", "fixtures", "gns3"))
REVISIONS = {9: "v2.2.61", 10: "v3.0.6"}


def fixture_project(revision):
    with open(os.path.join(FIXTURES, "lab_%s.gns3" % REVISIONS[revision])) as handle:
        return json.load(handle)


def node(node_type, name, **fields):
    props = fields.pop("properties", {})
    base = {
        "compute_id": "local", "console": None, "console_auto_start": False, "console_type": "telnet",
        "custom_adapters": [], "first_port_name": None, "height": 60, "locked": False, "name": name,
        "node_id": str(uuid.uuid4()), "node_type": node_type, "port_name_format": "Ethernet{0}",
        "port_segment_size": 0, "properties": props, "template_id": str(uuid.uuid4()), "width": 60,
        "x": 0, "y": 0, "z": 1,
    }
    base.update(fields)
    return base


def write_project(directory, data, node_files=True):
    os.makedirs(directory)
    with open(os.path.join(directory, "lab.gns3"), "w") as handle:
        json.dump(data, handle, indent=4, sort_keys=True)
    if node_files:
        for item in data["topology"]["nodes"]:
            node_dir = os.path.join(directory, "project-files", item["node_type"], item["node_id"])
            os.makedirs(node_dir)
            with open(os.path.join(node_dir, "startup.cfg"), "w") as handle:
                handle.write("hostname %s\n" % item["name"])
    return directory


def farm(tmp_path, data, clones=3, source_name="src"):
    """A projects root with the source and `clones` plain copies of it."""
    root = tmp_path / "projects"
    write_project(str(root / source_name), data)
    for index in range(1, clones + 1):
        shutil.copytree(str(root / source_name), str(root / ("clone%02d" % index)))
    requests = [Request(str(root / ("clone%02d" % i)), "Cexam_%02d" % i) for i in range(1, clones + 1)]
    return str(root), requests


def reset(root, requests, **kwargs):
    plans, warnings = plan_reset(requests, projects_root=root, **kwargs)
    for plan in plans:
        if plan.changed:
            apply_plan(plan)
    return plans, warnings


def load(path):
    return load_project(path)


def all_ports(projects):
    return [port for project in projects for item in project.nodes for _f, port, _k in node_consoles(item)]


def all_macs(projects):
    return [mac for project in projects for item in project.nodes for _n, mac in node_macs(item)[1]]


# --- shapes -------------------------------------------------------------------------------------

def rich_project(revision):
    """The real fixture plus the node shapes a reset must handle."""
    data = fixture_project(revision)
    nodes = data["topology"]["nodes"]
    qemu = node("qemu", "R-custom", console=5101, properties={
        "adapters": 4, "mac_address": "0c:aa:bb:cc:00:00", "adapter_type": "e1000"},
        custom_adapters=[{"adapter_number": 1, "mac_address": "0c:11:22:33:44:55", "port_name": "mgmt"},
                         {"adapter_number": 2, "adapter_type": "virtio-net-pci"}])
    vnc = node("qemu", "Desk", console=5902, console_type="vnc", properties={"adapters": 1, "mac_address": "0c:aa:bb:dd:00:00"})
    if revision == 10:
        docker = node("docker", "web", console=5103, aux=5104, aux_type="telnet",
                      properties={"adapters": 2, "mac_address": "02:42:ac:11:00:02", "image": "alpine"})
        iou = node("iou", "IOU1", console=5106, application_id=7, properties={"path": "i86bi.bin", "ethernet_adapters": 2})
    else:
        docker = node("docker", "web", console=5103, properties={"adapters": 2, "aux": 5104, "mac_address": "02:42:ac:11:00:02"})
        iou = node("iou", "IOU1", console=5106, properties={"application_id": 7, "path": "i86bi.bin", "ethernet_adapters": 2})
    dynamips = node("dynamips", "R7200", console=5107, properties={
        "platform": "c7200", "dynamips_id": 3, "mac_addr": "ca03.1234.0000", "aux": 5108})
    remote = node("qemu", "Remote", console=5109, compute_id="vm-gns3", properties={"adapters": 1, "mac_address": "0c:aa:bb:ee:00:00"})
    # GNS3's dynamips ethernet_switch (the lab's servers cannot make one: no dynamips): a console port
    # in the file, but console_type none
    switch = node("ethernet_switch", "SW2", console=5110, console_type="none", properties={"ports_mapping": [
        {"name": "Ethernet%d" % port, "port_number": port, "type": "access", "vlan": 1} for port in range(8)]})
    nodes.extend([qemu, vnc, docker, iou, dynamips, remote, switch])
    data["topology"]["links"].append({
        "link_id": str(uuid.uuid4()), "filters": {}, "suspend": False, "link_style": {},
        "nodes": [{"adapter_number": 0, "port_number": 0, "node_id": qemu["node_id"]},
                  {"adapter_number": 1, "port_number": 0, "node_id": docker["node_id"]}]})
    data["unknown_future_key"] = {"kept": True}
    nodes[0]["unknown_node_key"] = [1, 2, 3]
    return data


@pytest.fixture(params=[9, 10], ids=["gns3-2.2", "gns3-3.x"])
def revision(request):
    return request.param


def test_reset_changes_every_identity_and_keeps_the_rest(tmp_path, revision):
    data = rich_project(revision)
    source_dir = None
    root, requests = farm(tmp_path, data)
    source_dir = os.path.join(root, "src")
    # a dynamips router's files are named after its dynamips_id
    dyn = [n for n in data["topology"]["nodes"] if n["node_type"] == "dynamips"][0]
    for clone in [source_dir] + [r.path for r in requests]:
        node_dir = os.path.join(clone, "project-files", "dynamips", dyn["node_id"])
        os.makedirs(os.path.join(node_dir, "configs"))
        open(os.path.join(node_dir, "c7200_i3_nvram"), "w").close()
        open(os.path.join(node_dir, "configs", "i3_startup-config.cfg"), "w").close()
    with open(os.path.join(source_dir, "lab.gns3"), "rb") as handle:
        source_bytes = handle.read()

    plans, dummy = reset(root, requests)
    source = load(source_dir)
    clones = [load(r.path) for r in requests]

    with open(os.path.join(source_dir, "lab.gns3"), "rb") as handle:
        assert handle.read() == source_bytes, "the source must never be modified"
    ids = set([source.project_id] + [c.project_id for c in clones])
    assert len(ids) == 4
    assert [c.name for c in clones] == ["Cexam_01", "Cexam_02", "Cexam_03"]
    node_ids = [n["node_id"] for p in [source] + clones for n in p.nodes]
    assert len(node_ids) == len(set(node_ids))
    link_ids = [link["link_id"] for p in [source] + clones for link in p.data["topology"]["links"]]
    assert len(link_ids) == len(set(link_ids))
    drawing_ids = [d["drawing_id"] for p in [source] + clones for d in p.data["topology"]["drawings"]]
    assert len(drawing_ids) == len(set(drawing_ids))

    for clone in clones:
        by_name = dict((n["name"], n) for n in clone.nodes)
        src_by_name = dict((n["name"], n) for n in source.nodes)
        # links point at the clone's own nodes
        own = set(n["node_id"] for n in clone.nodes)
        for link in clone.data["topology"]["links"]:
            assert all(end["node_id"] in own for end in link["nodes"])
        # node directories follow their node
        for item in clone.nodes:
            if item["node_type"] != "dynamips":
                assert os.path.isfile(os.path.join(clone.directory, "project-files", item["node_type"], item["node_id"], "startup.cfg"))
        assert not any(os.path.exists(os.path.join(clone.directory, "project-files", n["node_type"], n["node_id"]))
                       for n in source.nodes)
        # template_id and compute_id never change
        for name, item in by_name.items():
            assert item.get("template_id") == src_by_name[name].get("template_id")
            assert item.get("compute_id") == src_by_name[name].get("compute_id")
        assert by_name["Remote"]["compute_id"] == "vm-gns3"
        # unknown keys kept
        assert clone.data["unknown_future_key"] == {"kept": True}
        assert by_name[source.nodes[0]["name"]]["unknown_node_key"] == [1, 2, 3]
        # console_type none untouched
        switch = by_name["SW1"]
        assert switch["console"] == src_by_name["SW1"]["console"]
        assert by_name["SW2"]["console"] == 5110
        # vnc console from the vnc range, telnet from the console range
        assert 5900 <= by_name["Desk"]["console"] <= 10000
        # custom adapters: the one with a MAC gets base + its number; the one without stays without
        qemu = by_name["R-custom"]
        base = parse_mac(qemu["properties"]["mac_address"])
        assert qemu["custom_adapters"][0]["mac_address"] == format_mac(base + 1)
        assert "mac_address" not in qemu["custom_adapters"][1]
        assert qemu["properties"]["mac_address"].startswith("02:4c:46:")
        # docker aux (3.x top level, 2.2 properties)
        docker = by_name["web"]
        aux = docker["aux"] if revision == 10 else docker["properties"]["aux"]
        assert aux != 5104 and 5000 <= aux <= 10000
        # dynamips: dotted mac_addr, new dynamips_id, files renamed after it
        router = by_name["R7200"]
        assert router["properties"]["mac_addr"].count(".") == 2
        assert parse_mac(router["properties"]["mac_addr"]) % DYNAMIPS_MAC_BLOCK == 0
        new_dyn = router["properties"]["dynamips_id"]
        assert new_dyn != 3
        node_dir = os.path.join(clone.directory, "project-files", "dynamips", router["node_id"])
        assert sorted(os.listdir(node_dir)) == sorted(["c7200_i%d_nvram" % new_dyn, "configs", "startup.cfg"])
        assert os.listdir(os.path.join(node_dir, "configs")) == ["i%d_startup-config.cfg" % new_dyn]
        # IOU application_id
        iou = by_name["IOU1"]
        app = iou["application_id"] if revision == 10 else iou["properties"]["application_id"]
        assert app != 7

    # unique on the farm: ports, MACs, dynamips and IOU ids
    ports = all_ports([source] + clones)
    assert len(ports) == len(set(ports))
    macs = all_macs([source] + clones)
    assert len(macs) == len(set(macs))
    apps = [node_application_id(n) for c in [source] + clones for n in c.nodes if n["node_type"] == "iou"]
    assert len(set(apps)) == 4
    # the result reports what the files hold
    for plan, clone in zip(plans, clones):
        described = result_of(plan)
        assert described["project_id"] == clone.project_id
        assert [n["console"] for n in described["nodes"]] == [describe_node(n)["console"] for n in clone.nodes]


def test_rerun_is_idempotent_and_recognises_its_own_work(tmp_path, revision):
    root, requests = farm(tmp_path, rich_project(revision))
    first, dummy = reset(root, requests)
    assert all(plan.changed for plan in first)
    before = [open(os.path.join(r.path, "lab.gns3")).read() for r in requests]
    second, dummy = reset(root, requests)
    assert not any(plan.changed for plan in second)
    assert [open(os.path.join(r.path, "lab.gns3")).read() for r in requests] == before
    assert [result_of(p) for p in first] == [dict(result_of(p), changed=True) for p in second]


def test_ids_are_derived_from_source_and_name(tmp_path):
    data = fixture_project(10)
    root, requests = farm(tmp_path, data, clones=1)
    plans, dummy = reset(root, requests)
    assert plans[0].new_project_id == str(uuid.uuid5(uuid.UUID(data["project_id"]), "Cexam_01"))
    # a second farm made from the same source gives the same ids
    root2, requests2 = farm(tmp_path / "other", data, clones=1)
    plans2, dummy = reset(root2, requests2)
    assert [n["node_id"] for n in load(requests2[0].path).nodes] == [n["node_id"] for n in load(requests[0].path).nodes]
    assert plans2[0].new_project_id == plans[0].new_project_id


def test_renaming_a_reset_clone_derives_from_the_source(tmp_path):
    data = fixture_project(10)
    root, requests = farm(tmp_path, data, clones=1)
    reset(root, requests)
    plans, dummy = reset(root, [Request(requests[0].path, "Renamed")])
    clone = load(requests[0].path)
    assert clone.project_id == str(uuid.uuid5(uuid.UUID(data["project_id"]), "Renamed"))
    expected = [str(uuid.uuid5(uuid.UUID(clone.project_id), n["node_id"])) for n in data["topology"]["nodes"]]
    assert [n["node_id"] for n in clone.nodes] == expected
    assert plans[0].source_project_id == data["project_id"]


def test_given_project_id_is_used(tmp_path):
    root, requests = farm(tmp_path, fixture_project(9), clones=1)
    wanted = "11111111-2222-3333-4444-555555555555"
    reset(root, [Request(requests[0].path, "X", wanted)])
    assert load(requests[0].path).project_id == wanted


def test_ports_and_macs_avoid_reservations_and_the_farm(tmp_path):
    data = fixture_project(10)
    root, requests = farm(tmp_path, data, clones=2)
    # another project of the farm, not a copy, already uses the top of the range and a MAC
    other = copy.deepcopy(data)
    other["project_id"] = str(uuid.uuid4())
    other["name"] = "other"
    for index, item in enumerate(other["topology"]["nodes"]):
        item["node_id"] = str(uuid.uuid4())
        if item["console_type"] != "none":
            item["console"] = 10000 - index
        if item["node_type"] == "qemu":
            item["properties"]["mac_address"] = "02:4c:46:00:00:02"
    write_project(str(tmp_path / "projects" / "other"), other)
    reset(root, requests, used_console_ports=[9990, 9989], used_macs=["02:4c:46:00:00:05"],
          console_port_range="9000-10000")
    clones = [load(r.path) for r in requests]
    ports = all_ports(clones)
    taken = set(all_ports([load(str(tmp_path / "projects" / "other"))])) | {9990, 9989}
    assert not taken & set(ports)
    assert all(9000 <= port <= 10000 for port in ports)
    macs = set(all_macs(clones))
    assert parse_mac("02:4c:46:00:00:05") not in macs
    assert parse_mac("02:4c:46:00:00:02") not in macs and parse_mac("02:4c:46:00:00:03") not in macs


def test_console_ports_come_from_the_top_of_the_range(tmp_path):
    root, requests = farm(tmp_path, fixture_project(10), clones=1)
    reset(root, requests, console_port_range="5000-5010")
    assert sorted(all_ports([load(requests[0].path)])) == [5007, 5008, 5009, 5010]


def test_exhausted_range_writes_nothing(tmp_path):
    root, requests = farm(tmp_path, fixture_project(10), clones=3)
    before = [open(os.path.join(r.path, "lab.gns3")).read() for r in requests]
    with pytest.raises(Gns3ProjectError) as err:
        reset(root, requests, console_port_range="5000-5009")
    message = str(err.value)
    assert "console_port_range 5000-5009 is exhausted" in message
    assert "needs 12 new console ports and only 10 are free" in message
    assert [open(os.path.join(r.path, "lab.gns3")).read() for r in requests] == before


@pytest.mark.parametrize("content, expected", [
    (b"{not json", "is not valid JSON"),
    (b"[1, 2]", "the top level is a JSON list"),
    (b'{"type": "topology", "revision": 10, "project_id": "x", "name": "a", "topology": {}}', '"project_id" \'x\' is not a UUID'),
    (b'{"type": "settings"}', '"type" is \'settings\''),
    (b'{"type": "topology", "revision": 8, "project_id": "49fbd2e2-fa51-431b-bbbf-68ab4ec5029b", "name": "a", "topology": {}}',
     "has revision 8"),
])
def test_corrupt_or_foreign_json_names_the_file_and_writes_nothing(tmp_path, content, expected):
    root, requests = farm(tmp_path, fixture_project(10), clones=3)
    bad = os.path.join(requests[2].path, "lab.gns3")
    with open(bad, "wb") as handle:
        handle.write(content)
    before = [open(os.path.join(r.path, "lab.gns3"), "rb").read() for r in requests]
    with pytest.raises(Gns3ProjectError) as err:
        reset(root, requests)
    assert bad in str(err.value) and expected in str(err.value)
    assert [open(os.path.join(r.path, "lab.gns3"), "rb").read() for r in requests] == before
    assert not any(os.path.exists(os.path.join(r.path, MARKER)) for r in requests)


def test_corrupt_project_elsewhere_under_the_root_is_an_error(tmp_path):
    root, requests = farm(tmp_path, fixture_project(10), clones=1)
    os.makedirs(os.path.join(root, "broken"))
    with open(os.path.join(root, "broken", "b.gns3"), "w") as handle:
        handle.write("{")
    with pytest.raises(Gns3ProjectError, match="broken/b.gns3 is not valid JSON.*repair it or move it out"):
        reset(root, requests)


def test_snapshots_dropped_or_kept(tmp_path):
    root, requests = farm(tmp_path, fixture_project(9), clones=2)
    for r in requests:
        os.makedirs(os.path.join(r.path, "snapshots"))
        open(os.path.join(r.path, "snapshots", "lab_011224_101010.gns3project"), "w").close()
    reset(root, [requests[0]])
    assert os.listdir(os.path.join(requests[0].path, "snapshots")) == []
    reset(root, [requests[1]], snapshots="keep")
    assert os.listdir(os.path.join(requests[1].path, "snapshots")) == ["lab_011224_101010.gns3project"]


@pytest.mark.parametrize("requests_of, expected", [
    (lambda r: [r[0], Request(r[0].path, "Other")], "are the same project"),
    (lambda r: [r[0], Request(r[1].path, r[0].name)], "are both named 'Cexam_01'"),
    (lambda r: [Request(r[0].path, "lab")], "name 'lab' is already used by"),
    (lambda r: [Request(r[0].path, "A", "not-a-uuid")], "is not a UUID"),
    (lambda r: [Request(r[0].path, "A", "49fbd2e2-fa51-431b-bbbf-68ab4ec5029b")], "is the source's own id"),
    (lambda r: [Request(r[0].path + "-missing", "A")], "does not exist"),
])
def test_bad_batches_are_refused(tmp_path, requests_of, expected):
    data = fixture_project(10)
    data["project_id"] = "49fbd2e2-fa51-431b-bbbf-68ab4ec5029b"
    root, requests = farm(tmp_path, data, clones=2)
    with pytest.raises(Gns3ProjectError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        plan_reset(requests_of(requests), projects_root=root)


@pytest.mark.parametrize("kwargs, expected", [
    ({"mac_prefix": "03:00:00"}, "multicast"),
    ({"mac_prefix": "00:50:79"}, "not locally administered"),
    ({"mac_prefix": "zz"}, "is not a MAC prefix of 1 to 5 octets"),
    ({"console_port_range": "10000-5000"}, "is not a port range"),
    ({"vnc_port_range": "59a0"}, "is not a port range"),
    ({"used_macs": ["nope"]}, "used_macs: 'nope' is not a MAC address"),
    ({"used_console_ports": [70000]}, "used_console_ports: 70000"),
])
def test_bad_options_are_refused(tmp_path, kwargs, expected):
    root, requests = farm(tmp_path, fixture_project(10), clones=1)
    with pytest.raises(Gns3ProjectError, match=expected):
        plan_reset(requests, projects_root=root, **kwargs)


def test_several_gns3_files_are_ambiguous(tmp_path):
    root, requests = farm(tmp_path, fixture_project(10), clones=1)
    shutil.copy(os.path.join(requests[0].path, "lab.gns3"), os.path.join(requests[0].path, "lab2.gns3"))
    with pytest.raises(Gns3ProjectError, match="several .gns3 files"):
        plan_reset(requests, projects_root=root)


def test_real_project_directory_from_gns3(tmp_path, revision):
    """The directories GNS3 itself saved: VPCS startup files follow their renamed node."""
    root = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects", "lab_" + REVISIONS[revision]), str(root / "src"))
    shutil.copytree(str(root / "src"), str(root / "c1"))
    for base, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            os.chmod(os.path.join(base, name), 0o755 if name in dirs else 0o644)
    reset(str(root), [Request(str(root / "c1"), "C1")])
    clone = load(str(root / "c1"))
    for item in clone.nodes:
        if item["node_type"] == "vpcs":
            path = os.path.join(clone.directory, "project-files", "vpcs", item["node_id"], "startup.vpc")
            assert "set pcname %s" % item["name"] in open(path).read()


def test_atomic_write_keeps_mode(tmp_path):
    path = str(tmp_path / "f.gns3")
    with open(path, "w") as handle:
        handle.write("old")
    os.chmod(path, 0o640)
    files.atomic_write(path, b"new", like=path)
    assert open(path).read() == "new" and oct(os.stat(path).st_mode & 0o777) == "0o640"
    assert os.listdir(str(tmp_path)) == ["f.gns3"]


def test_atomic_write_bulk_replaces_a_stale_temporary_and_gives_a_new_file_0644(tmp_path):
    path = str(tmp_path / "new.conf")
    stale = str(tmp_path / (".new.conf.%d.tmp" % os.getpid()))
    with open(stale, "w") as handle:
        handle.write("left by a run cut short")
    tmp = files.atomic_write(path, b"fresh", fsync=False, rename=False)
    assert tmp == stale and open(tmp).read() == "fresh" and oct(os.stat(tmp).st_mode & 0o777) == "0o644"
    os.rename(tmp, path)
    assert os.listdir(str(tmp_path)) == ["new.conf"]


def test_mac_helpers():
    assert parse_mac("ca03.1234.0000") == parse_mac("ca:03:12:34:00:00") == parse_mac("CA-03-12-34-00-00")
    assert format_dotted_mac(parse_mac("ca:03:12:34:00:00")) == "ca03.1234.0000"
    assert parse_mac_prefix("02:4c:46") == (0x024c46000000, 24)
    with pytest.raises(ValueError):
        parse_mac("02:4c:46:00:00")
    assert fold_numbers([5003, 5000, 5001, 5002, 6000]) == "5000-5003,6000"


def test_mac_allocator_skips_used_blocks():
    alloc = MacAllocator(0x020000000000, 24, {0x020000000002, 0x020000000006})
    assert alloc.allocate(1) == 0x020000000001
    assert alloc.allocate(3) == 0x020000000003   # 3,4,5
    assert alloc.allocate(2) == 0x020000000007   # 6 is used
    assert alloc.allocate(256, 256) == 0x020000000100
    tiny = MacAllocator(0x02ffffffff00, 8, set())
    assert tiny.allocate(255) == 0x02ffffffff01
    assert tiny.allocate(1) is None


def test_hidden_gns3_files_under_the_root_are_not_projects(tmp_path):
    """The farm scan skips dot-files, as gns3_project_info always did: the ._lab.gns3 that macOS leaves
    beside a project it copied is not a corrupt project of the farm, and refuses no reset."""
    root, requests = farm(tmp_path, fixture_project(10), clones=1)
    with open(os.path.join(root, "src", "._lab.gns3"), "wb") as handle:
        handle.write(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    plans, dummy = reset(root, requests)
    assert plans[0].changed
