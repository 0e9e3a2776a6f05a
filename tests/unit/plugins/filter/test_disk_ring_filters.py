# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_ring role's filters: what the role's tasks get back (the rules are tested in test_ring_session.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.disk_ring import (
    FilterModule, disk_ring_plan, disk_ring_preflight_errors, disk_ring_result)

INPUTS = {
    "receivers_group": "ring_receivers", "group": ["r1", "r2"], "groups": ["ring_receivers"], "play_hosts": ["r1", "r2"],
    "nodes": [{"host": "r1", "address": "10.0.0.1", "port": 0}, {"host": "r2", "address": "10.0.0.2", "port": 0}],
    "source": {"host": "golden", "known": True, "address": "10.0.0.9", "port": 0},
    "items": [{"name": "disk", "src": "/dev/sda", "dest": "/dev/sda"}],
    "session": "", "key": "", "port_range": "7100-7999", "source_port": 0, "order_by": "",
    "timeout": 30, "wait_timeout": 600, "poll_interval": 5, "async_timeout": 43200, "poll_max": 300,
    "state_dir": "/var/tmp/labfarm-ring", "netboot_local": False,
}


def inputs(**changes):
    value = copy.deepcopy(INPUTS)
    value.update(changes)
    return value


def test_filters_are_listed():
    assert sorted(FilterModule().filters()) == ["disk_ring_plan", "disk_ring_preflight_errors", "disk_ring_result"]


def test_plan_of_good_inputs_has_no_errors():
    plan = disk_ring_plan(inputs())
    assert plan["errors"] == []
    assert plan["order"] == ["r1", "r2"]
    assert plan["chains"] == {"r1": ["10.0.0.2:%d" % plan["port"]], "r2": []}
    assert plan["source_listen"] == "10.0.0.9:%d" % plan["port"]


def test_bad_inputs_give_every_error_and_no_plan():
    nodes = [{"host": "r1", "address": "10.0.0.1", "port": 7100}, {"host": "r2", "address": "10.0.0.1", "port": 7100}]
    plan = disk_ring_plan(inputs(nodes=nodes, port_range="9000-80000", items=[{"name": "disk", "src": "/a", "dest": "b"}]))
    assert sorted(plan) == ["errors"]
    assert len(plan["errors"]) == 3
    assert "r1 and r2 both listen on 10.0.0.1:7100: give one of them another disk_ring_port or disk_ring_address" in plan["errors"]


def test_plan_input_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match="labfarm.massclone.disk_ring_plan: the input must be a mapping, not list"):
        disk_ring_plan([])


def test_preflight_errors():
    assert disk_ring_preflight_errors({"r1": {"failed": True, "msg": "busy"}}, {}, "golden", None) == ["r1: busy"]


def test_result():
    plan = disk_ring_plan(inputs())
    result = disk_ring_result({"nodes": [{"node": "r1", "address": plan["listen"]["r1"], "ok": True}]}, plan, "golden",
                              {"r1": {"finished": True}, "r2": {"finished": True}})
    assert (result["ok"], result["failed"]) == (["r1"], ["r2"])
    with pytest.raises(AnsibleFilterError, match="receivers must be a mapping"):
        disk_ring_result({}, plan, "golden", ["r1"])


def test_nodes_on_one_address_at_the_derived_port_are_refused_before_anything_starts():
    # defect 4, through the filter the role calls
    nodes = [{"host": "r1", "address": "10.0.0.1", "port": 0}, {"host": "r2", "address": "10.0.0.1", "port": 0}]
    plan = disk_ring_plan(inputs(nodes=nodes))
    assert sorted(plan) == ["errors"]
    assert len(plan["errors"]) == 1
    assert plan["errors"][0].startswith("r1 and r2 both listen on 10.0.0.1:")
    assert "disk_ring_port" in plan["errors"][0]


def test_errors_of_bad_inputs_still_name_the_clash_of_explicit_ports():
    nodes = [{"host": "r1", "address": "h", "port": 7100}, {"host": "r2", "address": "h", "port": 7100}]
    errors = disk_ring_plan(inputs(nodes=nodes, port_range="x"))["errors"]
    assert len(errors) == 2 and errors[1].startswith("r1 and r2 both listen on h:7100: ")
