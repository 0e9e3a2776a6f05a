# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gns3_project_reset with remote computes (GNS3's own farm): placement of each clone's nodes over computes,
the project file's computes list, console ports unique per compute, and the refusals, on the projects real
GNS3 2.2 and 3.0 servers wrote (tests/fixtures/gns3). The real controllers and computes are
tests/integration/gns3_computes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.apply import apply_plan
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.compute_options import compute_setup
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.computes import place_nodes
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.disk import load_project
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError, node_consoles
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.plan import Request, plan_reset, reset_result

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures", "gns3"))
LAB = {9: "lab_v2.2.61", 10: "lab_v3.0.6"}
# GNS3 3.x keys computes by UUID; these end in c1 and c2 to read in the assertions
ID1, ID2 = "5e1c4b47-2a57-4ae8-9f2b-0000000000c1", "5e1c4b47-2a57-4ae8-9f2b-0000000000c2"
C1 = {"id": ID1, "host": "10.0.0.11", "name": "compute-1"}
C2 = {"id": ID2, "host": "10.0.0.12", "name": "compute-2"}


def make_root(tmp_path, clones, revision=10, edit=None):
    """A projects root with the fixture lab as src (edited by `edit(data)`) and `clones` copies of it."""
    root = tmp_path / "projects"
    shutil.copytree(os.path.join(FIXTURES, "projects", LAB[revision]), str(root / "src"))
    if edit:
        path = str(root / "src" / "lab.gns3")
        with open(path) as handle:
            data = json.load(handle)
        edit(data)
        with open(path, "w") as handle:
            json.dump(data, handle)
    for index in range(1, clones + 1):
        shutil.copytree(str(root / "src"), str(root / ("clone%02d" % index)))
    return str(root), [Request(str(root / ("clone%02d" % i)), "Cexam_%02d" % i) for i in range(1, clones + 1)]


def run(root, requests, write=True, **kwargs):
    plans, warnings = plan_reset(requests, projects_root=root, **kwargs)
    if write:
        for plan in plans:
            if plan.changed:
                apply_plan(plan)
    return reset_result(plans, warnings)


def files(root, clones):
    return [load_project(os.path.join(root, "clone%02d" % i)).data for i in range(1, clones + 1)]


def computes_of(data):
    return [node["compute_id"] for node in data["topology"]["nodes"]]


def ports_by_compute(datas):
    seen = {}
    for data in datas:
        for node in data["topology"]["nodes"]:
            for _field, port, _kind in node_consoles(node):
                seen.setdefault(node["compute_id"], []).append(port)
    return seen


@pytest.mark.parametrize("revision", [9, 10])
def test_per_clone_even_places_every_clone_on_one_compute_and_writes_the_computes_list(tmp_path, revision):
    root, requests = make_root(tmp_path, 6, revision)
    result = run(root, requests, computes=[C1, C2], compute_placement={"per": "clone", "policy": "even"})
    datas = files(root, 6)
    assert [set(computes_of(data)) for data in datas] == [{ID1}] * 3 + [{ID2}] * 3
    # what GNS3 2.2 and 3.0 write for a compute (Compute.__json__/asdict(topology_dump=True))
    assert datas[0]["topology"]["computes"] == [
        {"compute_id": ID1, "host": "10.0.0.11", "name": "compute-1", "port": 3080, "protocol": "http"}]
    assert datas[5]["topology"]["computes"] == [
        {"compute_id": ID2, "host": "10.0.0.12", "name": "compute-2", "port": 3080, "protocol": "http"}]
    assert [p["summary"]["computes"] for p in result["projects"]] == [{ID1: 5}] * 3 + [{ID2: 5}] * 3
    assert [(c["id"], c["projects"], c["nodes"]) for c in result["computes"]] == [(ID1, 3, 15), (ID2, 3, 15)]
    assert all(n["compute_id"] in (ID1, ID2) for p in result["projects"] for n in p["nodes"])
    # the source is untouched, and a rerun moves nothing and writes nothing
    assert set(computes_of(load_project(os.path.join(root, "src")).data)) == {"local"}
    again = run(root, requests, computes=[C1, C2], compute_placement={"per": "clone", "policy": "even"})
    assert again["changed"] is False
    assert files(root, 6) == datas


def test_per_node_round_robin_spreads_each_clone_and_lists_both_computes(tmp_path):
    root, requests = make_root(tmp_path, 2)
    run(root, requests, computes=[C1, C2], compute_placement={"per": "node", "policy": "round_robin"})
    datas = files(root, 2)
    assert computes_of(datas[0]) == [ID1, ID2, ID1, ID2, ID1]
    assert computes_of(datas[1]) == [ID2, ID1, ID2, ID1, ID2]
    assert [entry["compute_id"] for entry in datas[0]["topology"]["computes"]] == [ID1, ID2]


def test_consoles_are_unique_per_compute_which_lifts_the_ceiling_of_one_range(tmp_path):
    # 4 consoles per clone (3 VPCS, R1; SW1 has none), 4 clones: 16 ports, and the range holds 11
    root, requests = make_root(tmp_path, 4)
    with pytest.raises(Gns3ProjectError, match="console_port_range 9990-10000 is exhausted: the batch needs 16"):
        run(root, requests, write=False, console_port_range="9990-10000")
    run(root, requests, console_port_range="9990-10000", computes=[C1, C2])
    seen = ports_by_compute(files(root, 4))
    assert sorted(seen) == [ID1, ID2]
    for ports in seen.values():
        assert len(ports) == len(set(ports)) == 8 and all(9990 <= port <= 10000 for port in ports)
    assert set(seen[ID1]) == set(seen[ID2])   # the same ports, on two computes


def test_two_hundred_clones_of_thirty_nodes_fit_in_gns3s_range_with_two_computes(tmp_path):
    def thirty(data):
        model = next(node for node in data["topology"]["nodes"] if node["node_type"] == "vpcs")
        nodes = []
        for index in range(30):
            item = json.loads(json.dumps(model))
            item.update(node_id=str(uuid.uuid4()), name="PC%d" % index, console=5000 + index)
            nodes.append(item)
        data["topology"].update(nodes=nodes, links=[])
    root, requests = make_root(tmp_path, 200, edit=thirty)
    with pytest.raises(Gns3ProjectError, match="console_port_range 5000-10000 is exhausted: the batch needs 6000"):
        run(root, requests, write=False)
    result = run(root, requests, write=False, computes=[C1, C2])
    assert [(c["projects"], c["nodes"]) for c in result["computes"]] == [(100, 3000), (100, 3000)]
    for compute in (ID1, ID2):
        ports = [n["console"] for p in result["projects"] for n in p["nodes"] if n["compute_id"] == compute]
        assert len(ports) == len(set(ports)) == 3000


def test_the_farm_scan_counts_ports_and_nodes_per_compute(tmp_path):
    root, requests = make_root(tmp_path, 2)
    # a project already on c1 holds 9997-10000 there and 5 of c1's capacity of 8
    run(root, requests[:1], console_port_range="9990-10000", computes=[C1])
    result = run(root, requests[1:], write=False, console_port_range="9990-10000",
                 computes=[dict(C1, capacity=8), C2], compute_placement={"policy": "concentrated"})
    assert result["projects"][0]["summary"]["computes"] == {ID2: 5}
    assert sorted(n["console"] for n in result["projects"][0]["nodes"] if n["console"]) == [9997, 9998, 9999, 10000]
    # with room on c1, the same clone goes there and takes other ports than the first clone's
    result = run(root, requests[1:], write=False, console_port_range="9990-10000", computes=[C1, C2],
                 compute_placement={"policy": "concentrated"})
    assert result["projects"][0]["summary"]["computes"] == {ID1: 5}
    assert sorted(n["console"] for n in result["projects"][0]["nodes"] if n["console"]) == [9993, 9994, 9995, 9996]


def test_only_the_computes_asked_for_are_placed_the_others_stay(tmp_path):
    def spread(data):
        data["topology"]["nodes"][0]["compute_id"] = "old"
        data["topology"]["computes"] = [{"compute_id": "old", "host": "10.0.0.9", "name": "old", "port": 3080,
                                         "protocol": "http"}]
    root, requests = make_root(tmp_path, 2, edit=spread)
    run(root, requests, computes=[C1])
    data = files(root, 2)[0]
    assert computes_of(data) == ["old", ID1, ID1, ID1, ID1]
    assert [entry["compute_id"] for entry in data["topology"]["computes"]] == ["old", ID1]
    # asked for: the node on "old" is placed too, and "old" stays listed as it was (the reset does not own it)
    run(root, requests, computes=[C1], compute_placement={"from": ["old", "local"]})
    data = files(root, 2)[0]
    assert computes_of(data) == [ID1] * 5


def test_a_rerun_keeps_the_computes_of_the_clones_it_placed_when_the_batch_grows(tmp_path):
    root, requests = make_root(tmp_path, 3)
    run(root, requests[:2], computes=[C1, C2])
    before = [computes_of(data) for data in files(root, 2)]
    result = run(root, requests, computes=[C1, C2])
    assert [computes_of(data) for data in files(root, 2)] == before
    assert [p["changed"] for p in result["projects"]] == [False, False, True]
    assert result["projects"][2]["summary"]["computes"] in ({ID1: 5}, {ID2: 5})


def test_a_node_type_no_compute_runs_is_refused_before_anything_is_written(tmp_path):
    root, requests = make_root(tmp_path, 2)
    before = files(root, 2)
    computes = [dict(C1, node_types=["vpcs"]), dict(C2, node_types=["vpcs", "docker"])]
    with pytest.raises(Gns3ProjectError) as error:
        run(root, requests, computes=computes)
    message = str(error.value)
    assert "the 5 nodes of Cexam_01 (qemu, vpcs) cannot run on any compute of computes" in message
    assert "%s runs vpcs; %s runs docker, vpcs" % (ID1, ID2) in message and "node_types" in message
    with pytest.raises(Gns3ProjectError, match=r"node SW1 \(qemu\) of Cexam_01 cannot run on any compute"):
        run(root, requests, computes=computes, compute_placement={"per": "node"})
    assert files(root, 2) == before
    # per node, each type goes where it runs
    run(root, requests, computes=[dict(C1, node_types=["vpcs"]), dict(C2, node_types=["qemu"])],
        compute_placement={"per": "node"})
    for data in files(root, 2):
        assert set((n["node_type"], n["compute_id"]) for n in data["topology"]["nodes"]) == {("vpcs", ID1), ("qemu", ID2)}


def test_a_node_staying_on_a_compute_that_does_not_run_it_is_refused(tmp_path):
    def on_c2(data):
        data["topology"]["nodes"][0]["compute_id"] = ID2
    root, requests = make_root(tmp_path, 1, edit=on_c2)
    with pytest.raises(Gns3ProjectError, match=r"node PC1 \(vpcs\) of Cexam_01 is on compute %s, whose node_types \(qemu\)" % ID2):
        run(root, requests, computes=[C1, dict(C2, node_types=["qemu"])])


def test_a_compute_the_controller_would_not_know_is_refused(tmp_path):
    def ghost(data):
        data["topology"]["nodes"][0]["compute_id"] = "ghost"
    root, requests = make_root(tmp_path, 1, edit=ghost)
    with pytest.raises(Gns3ProjectError) as error:
        run(root, requests, computes=[C1])
    assert "node PC1 (vpcs) of Cexam_01 is on compute 'ghost', which neither computes nor the project's own " \
           "computes list holds" in str(error.value)
    assert "add it to computes (id, host, port)" in str(error.value)


def test_a_compute_without_room_for_its_share_is_refused(tmp_path):
    root, requests = make_root(tmp_path, 3)
    with pytest.raises(Gns3ProjectError) as error:
        run(root, requests, computes=[dict(C1, capacity=5), dict(C2, capacity=5)])
    message = str(error.value)
    assert "have no room for the batch: it places 15 nodes with 12 console ports (per clone)" in message
    assert "%s capacity 5, 0 used, 0 of 5001 free console ports taken, %s capacity 5, 0 used" % (ID1, ID2) in message
    assert "Nothing was written" in message
    # console ports count as room too: c2's range holds 2 ports and a clone needs 4, so c1 takes both clones...
    result = run(root, requests[:2], write=False, computes=[C1, dict(C2, console_port_range="9000-9001")])
    assert [p["summary"]["computes"] for p in result["projects"]] == [{ID1: 5}, {ID1: 5}]
    # ...and when no compute has them, the batch is refused
    with pytest.raises(Gns3ProjectError, match="it places 10 nodes with 8 console ports"):
        run(root, requests[:2], computes=[dict(C1, console_port_range="8000-8004"), dict(C2, console_port_range="9000-9001")])


def test_nodes_that_stay_on_a_compute_whose_range_is_too_small_are_refused_naming_it(tmp_path):
    def on_c2(data):
        for item in data["topology"]["nodes"]:
            item["compute_id"] = ID2
    root, requests = make_root(tmp_path, 1, edit=on_c2)
    with pytest.raises(Gns3ProjectError) as error:
        run(root, requests, computes=[C1, dict(C2, console_port_range="9000-9001")])
    assert "compute %s has no room for its share: its console_port_range 9000-9001 is exhausted, the nodes placed " \
           "on it need 4 new console ports and only 2 are free" % ID2 in str(error.value)
    assert "Widen computes[].console_port_range of %s" % ID2 in str(error.value)


@pytest.mark.parametrize("computes, placement, message", [
    ([{"host": "h"}], None, r"computes\[0\] has no id"),
    ([{"id": "c1"}], None, r"computes\[0\] \(c1\) has no host"),
    ([C1, dict(C2, id=ID1)], None, r"computes\[0\] and computes\[1\] both have id '%s'" % ID1),
    ([C1, dict(C2, name="compute-1")], None, "both named 'compute-1': the controller refuses two computes of one name"),
    ([dict(C1, node_types=["vpcs", "iosv"])], None, "'iosv' is not a GNS3 node type"),
    ([dict(C1, capacity=-1)], None, r"computes\[0\] \(%s\): capacity must be a whole number >= 0" % ID1),
    ([dict(C1, protocol="ftp")], None, "protocol must be http or https"),
    ([C1, dict(C2, host="10.0.0.11")], None, "both on host 10.0.0.11 and their console_port_range overlap"),
    ([dict(C1, console_port_range="5000-5999"),
      dict(C2, host="10.0.0.11", console_port_range="6000-6999", vnc_port_range="5900-5999")], None,
     "both on host 10.0.0.11 and their vnc_port_range overlap"),
    ([C1], {"per": "project"}, "per must be clone or node"),
    ([C1], {"policy": "random"}, "policy must be one of round_robin, even"),
])
def test_compute_options_are_refused_with_the_value_and_the_fix(computes, placement, message):
    with pytest.raises(Gns3ProjectError, match=message):
        compute_setup(computes, placement, (5000, 10000), (5900, 10000))


def test_without_computes_compute_placement_is_ignored_and_nothing_moves(tmp_path):
    assert compute_setup([], {"per": "node", "policy": "weighted"}, (5000, 10000), (5900, 10000)) is None
    root, requests = make_root(tmp_path, 1)
    result = run(root, requests, compute_placement={"per": "node"})
    assert result["computes"] == [] and result["projects"][0]["summary"]["computes"] == {"local": 5}


def test_computes_on_one_host_with_disjoint_console_ranges_share_the_default_vnc_range():
    setup = compute_setup([dict(C1, console_port_range="5000-5999"),
                           dict(C2, host="10.0.0.11", console_port_range="6000-6999")], None, (5000, 10000), (5900, 10000))
    assert [c.vnc_range for c in setup.computes] == [(5900, 10000), (5900, 10000)]


def test_a_gns3_3_project_needs_uuid_compute_ids_and_2_2_takes_any(tmp_path):
    root, requests = make_root(tmp_path, 1)
    with pytest.raises(Gns3ProjectError, match="computes id 'c1' is not a UUID, and Cexam_01 is a GNS3 3.x project"):
        run(root, requests, computes=[dict(C1, id="c1")])
    root, requests = make_root(tmp_path / "v2", 1, revision=9)
    run(root, requests, computes=[dict(C1, id="c1")])
    assert set(computes_of(files(root, 1)[0])) == {"c1"}


def test_local_may_be_a_compute_and_is_never_written_in_the_computes_list(tmp_path):
    root, requests = make_root(tmp_path, 2)
    run(root, requests, computes=[{"id": "local"}, dict(C1, host="127.0.0.1", console_port_range="30000-30099")])
    datas = files(root, 2)
    assert [set(computes_of(data)) for data in datas] == [{"local"}, {ID1}]
    assert datas[0]["topology"]["computes"] == [] and datas[1]["topology"]["computes"][0]["compute_id"] == ID1
    assert all(30000 <= port <= 30099 for port in ports_by_compute(datas)[ID1])
    assert all(5000 <= port <= 10000 for port in ports_by_compute(datas)["local"])


# --- properties of the placement itself (computes.place_nodes), on projects made up in memory -------------

class _Stub:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def _stub_plan(index, types):
    nodes = [{"node_id": "n%d-%d" % (index, number), "name": "N%d" % number, "node_type": node_type,
              "compute_id": "local", "console": 5000 + number, "console_type": "telnet"}
             for number, node_type in enumerate(types)]
    project = _Stub(nodes=nodes, data={"revision": 10, "topology": {"nodes": nodes, "computes": []}})
    return _Stub(project=project, request=_Stub(name="C%02d" % index), already=None)


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_placement_over_computes_respects_types_capacity_and_console_ports(data):
    types = data.draw(st.lists(st.sampled_from(["vpcs", "qemu", "iou"]), min_size=1, max_size=4), label="types")
    clones = data.draw(st.integers(1, 12), label="clones")
    computes = [{"id": "5e1c4b47-2a57-4ae8-9f2b-00000000000%d" % index, "host": "10.0.0.%d" % index,
                 "capacity": data.draw(st.one_of(st.none(), st.integers(0, 30)), label="capacity"),
                 "node_types": data.draw(st.one_of(st.none(), st.sets(st.sampled_from(["vpcs", "qemu", "iou"]),
                                                                      min_size=1).map(sorted)), label="node_types")}
                for index in range(1, data.draw(st.integers(1, 4), label="computes") + 1)]
    placement = {"per": data.draw(st.sampled_from(["clone", "node"]), label="per"),
                 "policy": data.draw(st.sampled_from(["round_robin", "even", "concentrated", "weighted"]), label="policy")}
    setup = compute_setup(computes, placement, (5000, 10000), (5900, 10000))
    free = dict((c.id, data.draw(st.integers(0, 40), label="free ports")) for c in setup.computes)
    farm = dict((c.id, data.draw(st.integers(0, 10), label="farm nodes")) for c in setup.computes)
    plans = [_stub_plan(index, types) for index in range(clones)]
    try:
        chosen = place_nodes(plans, setup, farm, free)
    except Gns3ProjectError as error:
        assert "cannot run on any compute" in str(error) or "have no room for the batch" in str(error)
        # never refused when one compute alone could take the whole batch
        assert not any(c.node_types is None and c.capacity is None and free[c.id] >= clones * len(types)
                       for c in setup.computes), str(error)
        return
    nodes, ports = dict(farm), {}
    for plan in plans:
        placed = [chosen[(id(plan), node["node_id"])] for node in plan.project.nodes]
        if setup.per == "clone":
            assert len(set(placed)) == 1
        for node, compute_id in zip(plan.project.nodes, placed):
            compute = setup.by_id[compute_id]
            assert compute.node_types is None or node["node_type"] in compute.node_types
            nodes[compute_id] += 1
            ports[compute_id] = ports.get(compute_id, 0) + 1
    for compute in setup.computes:
        assert compute.capacity is None or nodes[compute.id] <= max(compute.capacity, farm[compute.id])
        assert ports.get(compute.id, 0) <= free[compute.id]
