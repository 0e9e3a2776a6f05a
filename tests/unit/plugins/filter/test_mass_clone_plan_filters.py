# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mass_clone role's plan filters (plugins/filter/mass_clone_plan.py over _gns3/clone_set.py):
the clones' project ids are those the role computed in Jinja with to_uuid and gns3_project_reset derives,
and every server gets its own MAC prefix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_uuid

from ansible_collections.labfarm.massclone.plugins.filter.mass_clone_plan import (
    FilterModule,
    mass_clone_clones,
    mass_clone_nodes,
    mass_clone_record,
    mass_clone_server_mac_prefix,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.clone_set import server_mac_prefix
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import derive_project_id

SOURCE = "2b7c5f0e-5a0e-4b5f-9c1e-0d6a3f1e9a11"


def test_the_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["mass_clone_clones", "mass_clone_nodes", "mass_clone_record",
                                                "mass_clone_server_mac_prefix"]


def test_clone_records_in_order_with_their_dataset_and_directory():
    records = mass_clone_clones(["Cexam_02", "Cexam_01"], SOURCE, "/tank/gns3/projects", "tank/gns3/projects")
    assert [r["name"] for r in records] == ["Cexam_02", "Cexam_01"]
    first = records[0]
    assert first == {"name": "Cexam_02", "project_id": first["project_id"],
                     "dataset": "tank/gns3/projects/" + first["project_id"],
                     "path": "/tank/gns3/projects/" + first["project_id"]}


@pytest.mark.parametrize("name", ["Cexam_01", "lab 7", "clone-é", "x" * 200])
def test_project_ids_are_the_roles_former_to_uuid_and_the_resets_own(name):
    (record,) = mass_clone_clones([name], SOURCE, "/p", "tank/p")
    assert record["project_id"] == to_uuid(name, namespace=SOURCE) == derive_project_id(SOURCE, name)


def test_no_clones_is_an_empty_plan():
    assert mass_clone_clones([], SOURCE, "/p", "tank/p") == []


@pytest.mark.parametrize("args, message", [
    (("Cexam_[01-03]", SOURCE, "/p", "tank/p"), "the input must be a list of clone names .*noderange"),
    ((["a", 7], SOURCE, "/p", "tank/p"), "every clone name must be a non-empty string, got int"),
    ((["a", ""], SOURCE, "/p", "tank/p"), "every clone name must be a non-empty string, got ''"),
    ((["a"], "Cexam", "/p", "tank/p"), "source_project_id 'Cexam' is not a GNS3 project id"),
    ((["a"], SOURCE, None, "tank/p"), "projects_root must be a non-empty string, got NoneType"),
    ((["a"], SOURCE, "/p", ""), "projects_dataset must be a non-empty string"),
])
def test_clones_refuse_what_cannot_be_planned(args, message):
    with pytest.raises(AnsibleFilterError, match="labfarm.massclone.mass_clone_clones: " + message):
        mass_clone_clones(*args)


def test_each_server_gets_its_own_octet():
    servers = ["gns3-a", "gns3-b", "gns3-c"]
    assert [mass_clone_server_mac_prefix("02:4c:46", servers, s) for s in servers] == [
        "02:4c:46:00", "02:4c:46:01", "02:4c:46:02"]


def test_the_prefix_is_written_in_one_form():
    assert mass_clone_server_mac_prefix("02-4C-46", ["a", "b"], "b") == "02:4c:46:01"
    assert mass_clone_server_mac_prefix(" 0a:00:00:10 ", ["a"], "a") == "0a:00:00:10:00"


@pytest.mark.parametrize("prefix, message", [
    ("02:4c:46:00:01", "mass_clone_mac_prefix 02:4c:46:00:01 has 5 octets: .* give at most 4, such as 02:4c:46"),
    ("00:50:56", "mass_clone_mac_prefix 00:50:56 is not locally administered"),
    ("03:4c:46", "mass_clone_mac_prefix 03:4c:46 is a multicast prefix"),
    ("02:4c:4", "mass_clone_mac_prefix '02:4c:4' is not a MAC prefix of 1 to 5 octets"),
    (None, "mass_clone_mac_prefix None is not a MAC prefix"),
])
def test_a_prefix_that_leaves_no_octet_or_is_not_a_lab_prefix_is_refused(prefix, message):
    with pytest.raises(AnsibleFilterError, match="labfarm.massclone.mass_clone_server_mac_prefix: " + message):
        mass_clone_server_mac_prefix(prefix, ["a", "b"], "a")


def test_one_octet_numbers_at_most_256_servers():
    servers = ["s%d" % i for i in range(257)]
    assert mass_clone_server_mac_prefix("02:4c:46", servers, "s255") == "02:4c:46:ff"
    with pytest.raises(AnsibleFilterError, match="02:4c:46 cannot number server 256: .* at most 256 servers"):
        mass_clone_server_mac_prefix("02:4c:46", servers, "s256")


def test_the_server_must_be_one_of_the_servers():
    with pytest.raises(AnsibleFilterError, match="gns3-z is not one of mass_clone_servers \\(gns3-a, gns3-b\\)"):
        mass_clone_server_mac_prefix("02:4c:46", ["gns3-a", "gns3-b"], "gns3-z")
    with pytest.raises(AnsibleFilterError, match="servers must be the list of servers"):
        mass_clone_server_mac_prefix("02:4c:46", "gns3-a", "gns3-a")


def test_the_rule_itself_refuses_a_negative_index():
    with pytest.raises(ValueError, match="cannot number server -1"):
        server_mac_prefix("02:4c:46", -1)


CLONES = [{"name": "Cexam_01", "nodes": [{"name": "R1", "mac_address": "02:4c:46:00:00:01"},
                                         {"name": "PC 1", "mac_address": None},
                                         {"name": "R2", "mac_address": "02:4c:46:00:00:02"}]},
          {"name": "Cexam_02", "nodes": [{"name": "R1", "mac_address": "02:4c:46:00:00:03"}]},
          {"name": "Cexam_03", "nodes": []}]


def test_nodes_by_position_from_the_first_host_address():
    assert mass_clone_nodes(CLONES, "10.40.0.0/24") == [
        {"name": "Cexam-01-R1", "mac": "02:4c:46:00:00:01", "ip": "10.40.0.1"},
        {"name": "Cexam-01-R2", "mac": "02:4c:46:00:00:02", "ip": "10.40.0.2"},
        {"name": "Cexam-02-R1", "mac": "02:4c:46:00:00:03", "ip": "10.40.0.3"}]


def test_nodes_from_the_address_given_with_the_prefix_across_octets():
    assert [n["ip"] for n in mass_clone_nodes(CLONES, "10.40.0.254/23")] == ["10.40.0.254", "10.40.0.255", "10.40.1.0"]


def test_node_names_hold_only_host_name_characters():
    clones = [{"name": "lab.exam_1", "nodes": [{"name": "PC 1/a", "mac_address": "02:00:00:00:00:01"}]}]
    assert mass_clone_nodes(clones, "192.168.1.0/24")[0]["name"] == "lab-exam-1-PC-1-a"


@pytest.mark.parametrize("network, message", [
    ("10.40.0.0/30", "10.40.0.0/30 holds 2 addresses from 10.40.0.1, and the clones have 3 nodes"),
    ("10.40.0.253/24", "holds 2 addresses from 10.40.0.253"),
    ("10.40.0.0/33", "is not an IPv4 network"),
    ("fe80::/64", "is not an IPv4 network"),
    ("", "network must be a non-empty string"),
])
def test_nodes_refuse_a_bad_or_small_network(network, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        mass_clone_nodes(CLONES, network)


def test_nodes_take_only_clone_records():
    with pytest.raises(AnsibleFilterError, match="list of clone records"):
        mass_clone_nodes("Cexam_01", "10.40.0.0/24")
    with pytest.raises(AnsibleFilterError, match="nodes of Cexam_01 must be a list"):
        mass_clone_nodes([{"name": "Cexam_01", "nodes": "R1"}], "10.40.0.0/24")


def test_nodes_of_an_empty_set_and_a_point_to_point_network():
    assert mass_clone_nodes([], "10.0.0.0/32") == []
    assert [n["ip"] for n in mass_clone_nodes(CLONES[1:], "10.0.0.4/31")] == ["10.0.0.4"]


def _row(name, server="gns3-1", console_host="10.0.0.1", nodes=None):
    return {"name": name, "project_id": "id-" + name, "path": "/p/id-" + name, "server": server,
            "console_host": console_host, "file": "/p/id-%s/lab.gns3" % name, "changed": True,
            "summary": {"consoles": "5000-5001", "macs": "02:4c:46:00:00:01"},
            "nodes": nodes if nodes is not None else [
                {"name": "R1", "node_type": "qemu", "compute_id": "local", "console": 5000, "aux": None,
                 "mac_address": "02:4c:46:00:00:01", "adapters": [{"adapter_number": 0, "mac_address": "02:4c:46:00:00:01"}]},
                {"name": "PC1", "node_type": "vpcs", "compute_id": "c2", "console": 5001, "aux": None, "adapters": []},
                {"name": "S1", "node_type": "ethernet_switch", "compute_id": "local", "console": None, "aux": None,
                 "adapters": []}]}


def test_the_record_gives_each_node_its_console_host_and_address():
    record = mass_clone_record([_row("C1")], "exam", SOURCE, "tank/p/x@clonesource", storage_host="",
                               computes=[{"id": "c2", "host": "10.0.0.12"}, {"id": "c3"}])
    assert record["source"] == "exam" and record["source_project_id"] == SOURCE
    assert record["snapshot"] == "tank/p/x@clonesource" and record["storage_host"] is None
    clone = record["clones"][0]
    assert {k: clone[k] for k in ("name", "project_id", "server", "console_host", "path", "consoles", "macs")} == {
        "name": "C1", "project_id": "id-C1", "server": "gns3-1", "console_host": "10.0.0.1", "path": "/p/id-C1",
        "consoles": "5000-5001", "macs": "02:4c:46:00:00:01"}
    hosts = [(n["name"], n["console_host"], n["console_address"]) for n in clone["nodes"]]
    # the node on compute c2 has its console there; the others on the clone's host; no console, no address
    assert hosts == [("R1", "10.0.0.1", "10.0.0.1:5000"), ("PC1", "10.0.0.12", "10.0.0.12:5001"),
                     ("S1", "10.0.0.1", None)]
    assert clone["nodes"][0]["adapters"] == [{"adapter_number": 0, "mac_address": "02:4c:46:00:00:01"}]


def test_the_record_keeps_the_rows_order_and_the_storage_host():
    record = mass_clone_record([_row("C2"), _row("C1", server="gns3-2")], "exam", SOURCE, "t/p@s",
                               storage_host="nas")
    assert [c["name"] for c in record["clones"]] == ["C2", "C1"]
    assert record["storage_host"] == "nas" and record["clones"][1]["server"] == "gns3-2"


def test_the_record_feeds_the_nodes_hand_over():
    record = mass_clone_record([_row("C1")], "exam", SOURCE, "t/p@s")
    assert mass_clone_nodes(record["clones"], "10.40.0.0/24") == [
        {"name": "C1-R1", "mac": "02:4c:46:00:00:01", "ip": "10.40.0.1"}]


@pytest.mark.parametrize("rows, args, words", [
    ("C1", ("exam", SOURCE, "t/p@s"), ["list of the summary's rows", "str"]),
    ([{"name": "C1", "nodes": "R1"}], ("exam", SOURCE, "t/p@s"), ["nodes of C1"]),
    ([_row("C1")], ("", SOURCE, "t/p@s"), ["source must be a non-empty string"]),
    ([_row("C1")], ("exam", SOURCE, None), ["snapshot must be a non-empty string"]),
])
def test_the_record_refuses_what_is_not_the_summary(rows, args, words):
    with pytest.raises(AnsibleFilterError) as info:
        mass_clone_record(rows, *args)
    for word in words:
        assert word in str(info.value)


def test_the_record_refuses_computes_that_are_not_mappings():
    with pytest.raises(AnsibleFilterError, match="computes must be a list of mappings"):
        mass_clone_record([_row("C1")], "exam", SOURCE, "t/p@s", computes="c1")
