# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_ring role's session: the checks of its inputs, the plan, the preflight's refusals, the progress
report and the ok/failed table, with the cases the role's Jinja templates handled."""

import copy

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.session import (
    listen_clashes, plan_session, preflight_errors, progress_lines, progress_wait, session_name, session_port, session_port_of,
    session_result)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.session_options import check_session_inputs

BASE = {
    "receivers_group": "ring_receivers",
    "group": ["r1", "r2", "r3"],
    "groups": ["all", "ungrouped", "ring_receivers", "golden"],
    "play_hosts": ["r1", "r2", "r3"],
    "nodes": [{"host": "r%d" % i, "address": "127.0.0.1", "ansible_host": "", "port": 17310 + i,
               "order_key": None, "netboot_name": "r%d" % i} for i in (1, 2, 3)],
    "source": {"host": "golden", "known": True, "address": "127.0.0.1", "ansible_host": "", "port": 17310},
    "items": [{"name": "disk", "src": "/golden/disk.img", "dest": "/r/disk.img"},
              {"name": "tree", "src": "/golden/tree.tar.gz", "dest": "/r/tree", "format": "tar.gz"}],
    "session": "molecule-ring",
    "key": "",
    "port_range": "7100-7999",
    "source_port": 0,
    "order_by": "",
    "timeout": 10, "wait_timeout": 60, "poll_interval": 1, "async_timeout": 600, "poll_max": 300,
    "state_dir": "/tmp/state",
    "netboot_local": False, "netboot_server": "", "netboot_server_known": False, "netboot_config": {}, "netboot_hosts": [],
}


def inputs(**changes):
    value = copy.deepcopy(BASE)
    value.update(changes)
    return value


def nodes(*specs):
    """[(host, address, port)] -> the role's per-node input."""
    return [{"host": host, "address": address, "ansible_host": "", "port": port, "order_key": None, "netboot_name": host}
            for host, address, port in specs]


def checked(value):
    options, errors = check_session_inputs(value)
    return options, errors


def plan(value):
    options, errors = check_session_inputs(value)
    assert errors == []
    return plan_session(options)


# --- the inputs -------------------------------------------------------------------------------------------


def test_good_inputs_pass():
    options, errors = checked(inputs())
    assert errors == []
    assert options["port_range"] == (7100, 7999)
    assert [node["port"] for node in options["nodes"]] == [17311, 17312, 17313]


def test_numbers_given_as_strings_are_taken():
    options, errors = checked(inputs(timeout="10", source_port="0", poll_max=" 300 ",
                                     nodes=nodes(("r1", "a", "17311"), ("r2", "b", "0"), ("r3", "c", 0))))
    assert errors == []
    assert options["timeout"] == 10 and options["poll_max"] == 300 and options["source_port"] == 0
    assert [node["port"] for node in options["nodes"]] == [17311, 0, 0]


def test_unknown_group_names_the_known_ones():
    errors = checked(inputs(receivers_group="nodes", group=None))[1]
    assert errors == ["disk_ring_receivers_group 'nodes' is not a group of the inventory; known: golden, ring_receivers"]


def test_play_hosts_outside_the_group():
    errors = checked(inputs(play_hosts=["r1", "r2", "r3", "x9"]))[1]
    assert any("hosts x9 of the play are not in the group ring_receivers" in e for e in errors)


@pytest.mark.parametrize("source,message", [
    ({"host": "", "known": False}, "disk_ring_source '' is not a host of the inventory"),
    ({"host": "gold", "known": False}, "disk_ring_source 'gold' is not a host of the inventory"),
    ({"host": "r2", "known": True}, "disk_ring_source r2 is also a receiver: leave it out of the play (-l '!r2')"),
])
def test_bad_source(source, message):
    errors = checked(inputs(source=source))[1]
    assert any(message in e for e in errors), errors


def test_bad_items_are_all_named():
    errors = checked(inputs(items=[
        {"name": "disk", "src": "/g/disk.img", "dest": "relative/disk.img"},
        {"name": "disk", "src": "/g/disk.img", "dest": "/x.img"},
        {"name": "bad name", "src": "g", "dest": "/y"},
    ]))[1]
    assert errors == [
        "disk_ring_items[2]: name 'bad name' must be 1-64 letters, digits, '.', '_' or '-'",
        "disk_ring_items[2] (bad name): src 'g' must be an absolute path",
        "disk_ring_items: item names given twice: disk",
        "disk_ring_items: item disk: dest relative/disk.img must be an absolute path",
    ]


def test_items_that_are_not_mappings_or_miss_values():
    assert checked(inputs(items="disk"))[1] == ["disk_ring_items must be a list of mappings {name, src, dest, format}, not str"]
    assert checked(inputs(items=[{"name": "disk", "src": "/a"}]))[1] == ["disk_ring_items: item disk: dest is required with mode: receive"]
    assert checked(inputs(items=[{"name": 5, "src": "/a", "dest": 7}]))[1] == [
        "disk_ring_items[0]: name 5 must be 1-64 letters, digits, '.', '_' or '-'",
        "disk_ring_items: item 5: dest 7 must be an absolute path"]


def test_no_items():
    assert checked(inputs(items=[]))[1] == ["disk_ring_items is empty: give at least one {name, src, dest, format}"]


def test_bad_session_and_short_key():
    errors = checked(inputs(session="a b", key="short"))[1]
    assert errors == ["disk_ring_session 'a b' must be 1-64 letters, digits, '.', '_' or '-'",
                      "disk_ring_key must be at least 16 characters (the role makes a random one per session)"]


@pytest.mark.parametrize("value", ["9000-80000", "8000-7000", "7100", "0-10", "a-b"])
def test_bad_port_range(value):
    errors = checked(inputs(port_range=value))[1]
    assert len(errors) == 1 and ("disk_ring_port_range %r" % value) in errors[0] and "FIRST-LAST" in errors[0]


def test_port_range_with_spaces():
    assert checked(inputs(port_range=" 7100 - 7200 "))[0]["port_range"] == (7100, 7200)


def test_bad_ports():
    errors = checked(inputs(source_port=70000, nodes=nodes(("r1", "a", -1), ("r2", "b", 17312), ("r3", "c", 17313))))[1]
    assert errors == [
        "disk_ring_source_port must be a whole number from 0 to 65535, got 70000. Give 1-65535, or 0 for the session's port.",
        "r1: disk_ring_port must be a whole number from 0 to 65535, got -1. Give 1-65535, or 0 to derive it from the session.",
    ]


def test_order_by_variable_missing():
    value = inputs(order_by="rack")
    value["nodes"][0]["order_key"] = 1
    errors = checked(value)[1]
    assert errors == ["r2 has no variable rack (disk_ring_order_by): set it on every receiver, or order by another one",
                      "r3 has no variable rack (disk_ring_order_by): set it on every receiver, or order by another one"]


@pytest.mark.parametrize("name", ["timeout", "wait_timeout", "poll_interval", "async_timeout", "poll_max"])
def test_waits_at_least_one(name):
    errors = checked(inputs(**{name: 0}))[1]
    assert errors == ["disk_ring_%s must be a whole number >= 1, got 0." % name]


def test_netboot_inputs():
    errors = checked(inputs(netboot_local=True, netboot_server="pxe", netboot_server_known=False,
                            netboot_config={"backend": "dnsmasq", "hosts": []},
                            netboot_hosts=[{"name": "r1"}, {"name": "spare"}]))[1]
    assert errors == [
        "disk_ring_netboot_server 'pxe' is not a host of the inventory: name the netboot server (disk_ring_netboot_local is true)",
        "disk_ring_netboot_config has no dest: give the netboot_config parameters the netboot server uses (backend, dest, subnets, tftp_root, ...)",
        "disk_ring_netboot_config has no subnets: give the netboot_config parameters the netboot server uses (backend, dest, subnets, tftp_root, ...)",
        "disk_ring_netboot_config has hosts: give them in disk_ring_netboot_hosts",
        "receivers r2, r3 are not in disk_ring_netboot_hosts (the netboot server's whole host list): add them or set disk_ring_netboot_name",
    ]


def test_netboot_inputs_ignored_without_netboot_local():
    assert checked(inputs(netboot_server="pxe", netboot_config={"hosts": []}))[1] == []


def test_address_falls_back_to_ansible_host_then_the_name():
    value = inputs(nodes=[{"host": "r1", "address": "", "ansible_host": "10.0.0.1", "port": 0},
                          {"host": "r2", "address": "", "ansible_host": "", "port": 0},
                          {"host": "r3", "address": "10.9.9.9", "ansible_host": "10.0.0.3", "port": 0}])
    assert [node["address"] for node in checked(value)[0]["nodes"]] == ["10.0.0.1", "r2", "10.9.9.9"]


# --- the plan ---------------------------------------------------------------------------------------------


def test_session_name_and_port_are_those_the_role_always_derived():
    # computed by the role's former Jinja template: a rerun after an upgrade finds the same session and resumes
    items = [{"name": "disk", "src": "/dev/sda"}, {"name": "home", "src": "/srv/home.tar.zst"}]
    assert session_name("golden", items) == "ring-5f8aa45e05"
    assert session_port("ring-5f8aa45e05", (7100, 7999)) == 7197
    assert session_port("molecule-ring", (7100, 7999)) == 7549


def test_plan_with_explicit_ports():
    result = plan(inputs())
    assert result == {
        "session": "molecule-ring",
        "send_items": [{"name": "disk", "src": "/golden/disk.img", "format": "raw"},
                       {"name": "tree", "src": "/golden/tree.tar.gz", "format": "tar.gz"}],
        "port": 7549,
        "order": ["r1", "r2", "r3"],
        "listen": {"r1": "127.0.0.1:17311", "r2": "127.0.0.1:17312", "r3": "127.0.0.1:17313"},
        "hosts_by_listen": {"127.0.0.1:17311": "r1", "127.0.0.1:17312": "r2", "127.0.0.1:17313": "r3"},
        "chains": {"r1": ["127.0.0.1:17312", "127.0.0.1:17313"], "r2": ["127.0.0.1:17313"], "r3": []},
        "chain": ["127.0.0.1:17311", "127.0.0.1:17312", "127.0.0.1:17313"],
        "source_listen": "127.0.0.1:17310",
        "progress_file": "/tmp/state/molecule-ring.progress.json",
        "state_dir": "/tmp/state/molecule-ring",
    }


def test_plan_derives_the_port_and_the_session_name():
    value = inputs(session="", nodes=nodes(("r1", "10.0.0.1", 0), ("r2", "10.0.0.2", 0), ("r3", "10.0.0.3", 7000)))
    value["source"] = {"host": "golden", "known": True, "address": "", "ansible_host": "10.0.0.9", "port": 0}
    result = plan(value)
    name = session_name("golden", [{"name": "disk", "src": "/golden/disk.img"}, {"name": "tree", "src": "/golden/tree.tar.gz"}])
    port = session_port(name, (7100, 7999))
    assert result["session"] == name and result["port"] == port
    assert result["chain"] == ["10.0.0.1:%d" % port, "10.0.0.2:%d" % port, "10.0.0.3:7000"]
    assert result["source_listen"] == "10.0.0.9:%d" % port


def test_source_port_wins_over_the_sources_own_port():
    assert plan(inputs(source_port=17400))["source_listen"] == "127.0.0.1:17400"


def test_order_follows_the_group_restricted_to_the_play():
    result = plan(inputs(group=["r3", "x", "r1", "r2"], play_hosts=["r1", "r2", "r3"]))
    assert result["order"] == ["r3", "r1", "r2"]


def test_order_by_sorts_stably_without_regard_to_case():
    value = inputs(order_by="rack")
    for node, key in zip(value["nodes"], ["B", "a", "b"]):
        node["order_key"] = key
    assert plan(value)["order"] == ["r2", "r1", "r3"]


def test_order_by_numbers():
    value = inputs(order_by="rack")
    for node, key in zip(value["nodes"], [10, 9, 10]):
        node["order_key"] = key
    assert plan(value)["order"] == ["r2", "r1", "r3"]


# --- who listens where ----------------------------------------------------------------------------------------


def test_two_receivers_on_one_explicit_address_and_port():
    options = checked(inputs(nodes=nodes(("r1", "10.0.0.1", 7100), ("r2", "10.0.0.1", 7100), ("r3", "10.0.0.1", 7101))))[0]
    assert listen_clashes(options, 7549) == [
        "r1 and r2 both listen on 10.0.0.1:7100: give one of them another disk_ring_port or disk_ring_address"]


def test_source_on_a_receivers_address_and_port():
    options = checked(inputs(source_port=17312))[0]
    assert listen_clashes(options, 7549) == [
        "the source golden and the receiver r2 both listen on 127.0.0.1:17312: give the source another disk_ring_source_port"]


def test_two_receivers_on_one_address_at_the_derived_port_are_refused():
    # defect 4: only explicit ports were compared, so two nodes left at the session's port on one address
    # passed the checks and the second one then failed to bind
    options = checked(inputs(nodes=nodes(("r1", "10.0.0.1", 0), ("r2", "10.0.0.1", 0), ("r3", "10.0.0.3", 0))))[0]
    errors = listen_clashes(options, 7549)
    assert len(errors) == 1
    assert errors[0].startswith("r1 and r2 both listen on 10.0.0.1:7549 (the session's port, derived from its name within "
                                "disk_ring_port_range): ")
    assert "give each of them its own disk_ring_port, or its own disk_ring_address" in errors[0]


def test_an_explicit_port_equal_to_the_derived_one_is_refused():
    options = checked(inputs(nodes=nodes(("r1", "10.0.0.1", 0), ("r2", "10.0.0.1", 7549), ("r3", "10.0.0.3", 0))))[0]
    assert [e.split(":", 1)[0] for e in listen_clashes(options, 7549)] == ["r1 and r2 both listen on 10.0.0.1"]


def test_three_receivers_on_one_address_are_named_in_one_message():
    options = checked(inputs(nodes=nodes(("r1", "h", 0), ("r2", "h", 0), ("r3", "h", 0))))[0]
    errors = listen_clashes(options, 7100)
    assert len(errors) == 1 and errors[0].startswith("r1, r2 and r3 all listen on h:7100 (the session's port")


def test_the_source_at_the_derived_port_on_a_receivers_address_is_refused():
    value = inputs(nodes=nodes(("r1", "10.0.0.1", 0), ("r2", "10.0.0.2", 0), ("r3", "10.0.0.3", 0)))
    value["source"] = {"host": "golden", "known": True, "address": "10.0.0.2", "port": 0}
    errors = listen_clashes(checked(value)[0], 7549)
    assert errors == ["the source golden and the receiver r2 both listen on 10.0.0.2:7549 (the session's port, derived from "
                      "its name within disk_ring_port_range): give the source another disk_ring_source_port"]


def test_the_derived_port_is_not_compared_when_it_is_unknown():
    options = checked(inputs(nodes=nodes(("r1", "h", 0), ("r2", "h", 0), ("r3", "h", 7100))))[0]
    assert listen_clashes(options, None) == []
    for changes in [{"port_range": "x"}, {"session": "bad name"}, {"session": "", "items": [{"name": "d", "dest": "/d"}]}]:
        assert session_port_of(checked(inputs(**changes))[0]) is None
    assert session_port_of(checked(inputs())[0]) == 7549


# --- the preflight ----------------------------------------------------------------------------------------------


def test_preflight_names_every_refusal():
    checks = {"r1": {"failed": False, "changed": False}, "r2": {"failed": True, "msg": "dest /dev/sdb is mounted"}, "r3": {"failed": True}}
    dirs = {"r1": [{"stat": {"isdir": True}, "item": {"name": "disk", "dest": "/r/disk.img"}},
                   {"stat": {"exists": False}, "item": {"name": "tree", "dest": "/nowhere/tree"}}],
            "r2": [], "r3": None}
    assert preflight_errors(checks, dirs, "golden", {"failed": True, "msg": "item disk: src /g/disk.img does not exist"}) == [
        "r1: item tree: the directory /nowhere of dest /nowhere/tree does not exist; make it first",
        "r2: dest /dev/sdb is mounted",
        "r3: check failed",
        "source golden: item disk: src /g/disk.img does not exist",
    ]


def test_preflight_all_good():
    assert preflight_errors({"r1": {"changed": False}}, {"r1": [{"stat": {"isdir": True}, "item": {"name": "d", "dest": "/d/x"}}]},
                            "golden", {"changed": False}) == []


# --- the progress ---------------------------------------------------------------------------------------------------


def test_progress_lines_in_ring_order():
    progress = {"elapsed": 5.2, "nodes": {
        "r2": {"written": 468000000, "total": 700000000, "rate": 110800000, "eta": 1.8, "state": "receiving"},
        "r1": {"written": 456000000, "total": 700000000, "rate": 97580000.5, "eta": None, "state": "receiving"},
    }}
    assert progress_lines("s1", ["r1", "r2", "r3"], progress) == [
        "session s1, 5 s",
        "r1                    434.88 MB / 667.57 MB   65.1%    93.06 MB/s  ETA -        receiving",
        "r2                    446.32 MB / 667.57 MB   66.9%   105.67 MB/s  ETA 1 s      receiving",
        "r3                   0.00 Bytes / 0.00 Bytes   0.0%  0.00 Bytes/s  ETA -        waiting",
    ]


def test_progress_before_the_first_report_and_after_the_end():
    assert progress_lines("s1", ["r1"], {}) == ["session s1, 0 s: no node has reported yet"]
    assert progress_lines("s1", ["r1"], {"elapsed": 61, "nodes": {"r1": {}}}, finished=True) == [
        "session s1, 61 s: the source's job has ended"]


@pytest.mark.parametrize("elapsed,interval,wait", [(None, 5, 0), (100, 5, 0), (200, 5, 0), (400, 5, 5), (4000, 5, 95)])
def test_reports_of_a_long_session_come_every_fortieth_of_its_time(elapsed, interval, wait):
    assert progress_wait({"elapsed": elapsed}, interval) == wait


# --- the result -----------------------------------------------------------------------------------------------------

PLAN = {"session": "s1", "order": ["r1", "r2", "r3"],
        "listen": {"r1": "10.0.0.1:7100", "r2": "10.0.0.2:7100", "r3": "10.0.0.3:7100"}}


def test_result_every_node_ok():
    sender = {"nodes": [{"node": "r%d" % i, "address": "10.0.0.%d:7100" % i, "ok": True, "error": None,
                         "items": {"disk": {"ok": True, "digest": "d1"}}} for i in (1, 2, 3)],
              "digests": {"disk": "d1"}, "bytes": 1000, "seconds": 2.5, "sent_bytes": 300,
              "filesystems": {"disk": {"filesystem": "ext4", "reason": None, "used_bytes": 300}}}
    receivers = dict(("r%d" % i, {"finished": True, "items": {"disk": {"dest": "/r/disk.img", "verified_offset": 1000}}}) for i in (1, 2, 3))
    result = session_result(PLAN, "golden", sender, receivers)
    assert result["sent_bytes"] == 300 and result["filesystems"]["disk"]["filesystem"] == "ext4"
    assert result["ok"] == ["r1", "r2", "r3"] and result["failed"] == []
    assert result["nodes"][0] == {"node": "r1", "address": "10.0.0.1:7100", "ok": True, "error": None, "items": {
        "disk": {"ok": True, "dest": "/r/disk.img", "digest": "d1", "error": None, "verified_offset": 1000}}}
    assert (result["session"], result["source"], result["order"], result["digests"], result["bytes"], result["seconds"]) == (
        "s1", "golden", ["r1", "r2", "r3"], {"disk": "d1"}, 1000, 2.5)


def test_result_failures_say_why():
    sender = {"nodes": [
        {"node": "r1", "address": "10.0.0.1:7100", "ok": False, "error": "bypassed: stalled", "items": {}},
        {"node": "r2", "address": "10.0.0.2:7100", "ok": False, "items": {"disk": {"ok": False, "dest": "/s/d", "error": "short"}}},
    ], "digests": {"disk": "d1"}}
    receivers = {"r1": {"finished": False}, "r2": {"finished": True, "error": "disk full"}, "r3": {}}
    result = session_result(PLAN, "golden", sender, receivers)
    assert result["ok"] == [] and result["failed"] == ["r1", "r2", "r3"]
    rows = result["nodes"]
    assert rows[0]["error"] == "bypassed: stalled; its job was still running after the session and was stopped"
    assert rows[1]["error"] == "disk full"
    assert rows[1]["items"] == {"disk": {"ok": False, "dest": "/s/d", "digest": None, "error": "short", "verified_offset": None}}
    assert rows[2]["error"] == "the source reported nothing: its job did not finish"
    assert result["bytes"] == 0 and result["seconds"] is None and result["sent_bytes"] == 0 and result["filesystems"] == {}


def test_result_when_the_source_failed_to_start():
    result = session_result(PLAN, "golden", {"failed": True, "msg": "cannot listen on 127.0.0.1:17319"},
                            {"r1": {"finished": True, "msg": "no upstream"}})
    assert [row["error"] for row in result["nodes"]] == ["the source reported nothing: cannot listen on 127.0.0.1:17319"] * 3


def test_result_receiver_message_when_it_gave_no_error():
    sender = {"nodes": [{"node": "r1", "address": "10.0.0.1:7100", "ok": False}]}
    rows = session_result(PLAN, "golden", sender, {"r1": {"finished": True, "msg": "target vanished"}})["nodes"]
    assert rows[0]["error"] == "target vanished"
    rows = session_result(PLAN, "golden", sender, {"r1": {"finished": True}})["nodes"]
    assert rows[0]["error"] == "failed"


def test_result_entries_found_by_node_when_they_have_no_address():
    sender = {"nodes": [{"node": "10.0.0.1:7100", "ok": True}]}
    assert session_result(PLAN, "golden", sender, {})["ok"] == ["r1"]
