# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_common.survey: role inputs as an AWX survey passes them (strings), one rule for every role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.survey import (
    as_bool, as_dict, as_float, as_int, as_items, as_list, as_str, nodes_of_hosts, normalise)


@pytest.mark.parametrize("value, expected", [
    ("false", False), ("False", False), (" no ", False), ("off", False), ("0", False), (0, False), (False, False),
    ("true", True), ("yes", True), ("ON", True), ("1", True), (1, True), (True, True), ("y", True), ("n", False),
])
def test_booleans_as_a_survey_sends_them(value, expected):
    assert as_bool(value, "opt") is expected


@pytest.mark.parametrize("value", ["", "maybe", "2", 2, None, [], "truee"])
def test_what_is_no_boolean_is_refused_by_name(value):
    with pytest.raises(ValueError, match="opt must be a boolean"):
        as_bool(value, "opt")


@pytest.mark.parametrize("value, expected", [
    ("eth1,eth2", ["eth1", "eth2"]), (" eth1 , eth2 ,", ["eth1", "eth2"]), ("eth1\neth2\n", ["eth1", "eth2"]),
    ("eth1", ["eth1"]), ("", []), (None, []), (["eth1"], ["eth1"]), (("a", "b"), ["a", "b"]),
    ('["a", "b,c"]', ["a", "b,c"]), ('[{"name": "x"}]', [{"name": "x"}]),
])
def test_lists_from_strings(value, expected):
    assert as_list(value, "opt") == expected


def test_a_mapping_is_no_list():
    with pytest.raises(ValueError, match="opt must be a list"):
        as_list({"a": 1}, "opt")
    with pytest.raises(ValueError, match="not JSON"):
        as_list("[a, b", "opt")


@pytest.mark.parametrize("value, expected", [("12", 12), (" 12 ", 12), (12, 12), (12.0, 12), ("-3", -3)])
def test_whole_numbers(value, expected):
    assert as_int(value, "opt") == expected


@pytest.mark.parametrize("value", ["1.5", "ten", "", True, None])
def test_what_is_no_whole_number_is_refused(value):
    with pytest.raises(ValueError, match="opt must be a whole number"):
        as_int(value, "opt")


def test_floats():
    assert as_float("1.5", "opt") == 1.5 and as_float(2, "opt") == 2.0 and as_float(" 4 ", "opt") == 4.0
    for value in ("x", True, None, ""):
        with pytest.raises(ValueError, match="opt must be a number"):
            as_float(value, "opt")


def test_dicts_and_strings():
    assert as_dict('{"memory_mb": 64}', "opt") == {"memory_mb": 64}
    assert as_dict("", "opt") == {} and as_dict(None, "opt") == {} and as_dict({"a": 1}, "opt") == {"a": 1}
    with pytest.raises(ValueError, match="opt must be a mapping"):
        as_dict("[1]", "opt")
    assert as_str(7100, "opt") == "7100" and as_str(None, "opt") == ""
    with pytest.raises(ValueError, match="opt must be a string"):
        as_str(["a"], "opt")


def test_items_in_the_dolly_form_beside_mappings():
    assert as_items("/dev/sda > /dev/sda, /srv/a.img>/srv/b/disk.img", "items") == [
        {"name": "sda", "src": "/dev/sda", "dest": "/dev/sda"},
        {"name": "disk.img", "src": "/srv/a.img", "dest": "/srv/b/disk.img"}]
    mapping = {"name": "sda", "src": "/dev/sdb", "dest": "/dev/sdb", "format": "raw"}
    # a name taken by a mapping or an earlier pair gets a suffix
    assert as_items([mapping, "/dev/sda>/dev/sda", "/x>/y/sda"], "items") == [
        mapping, {"name": "sda-2", "src": "/dev/sda", "dest": "/dev/sda"}, {"name": "sda-3", "src": "/x", "dest": "/y/sda"}]
    assert as_items("/a>/mnt/my disk!", "items")[0]["name"] == "my_disk"


@pytest.mark.parametrize("value", ["/dev/sda", ">/dev/sda", "/dev/sda>", "/a>/b>/c", [3]])
def test_bad_items_are_named(value):
    with pytest.raises(ValueError, match="items"):
        as_items(value, "items")


def test_normalise_names_every_problem_and_keeps_other_values():
    values = {"resume": "false", "interfaces": "eth1,eth2", "port": "12", "rate": "x", "flag": "maybe", "other": "kept"}
    kinds = {"resume": "bool", "interfaces": "list", "port": "int", "rate": "float", "flag": "bool", "gone": "str", "odd": "nope"}
    values["odd"] = 1
    out, problems = normalise(values, kinds, prefix="role_")
    assert out["resume"] is False and out["interfaces"] == ["eth1", "eth2"] and out["port"] == 12 and out["other"] == "kept"
    assert len(problems) == 4
    assert [p.split()[0] for p in problems] == ["role_rate", "role_flag", "role_gone", "role_odd:"]
    assert normalise("x", {}) == ({}, ["the inputs must be a mapping, not str"])


def test_nodes_of_hosts():
    hosts = [{"inventory_hostname": "n1", "mac": "52:54:00:00:00:01", "ansible_host": "10.0.0.1"},
             {"inventory_hostname": "n2", "netboot_mac": "52:54:00:00:00:02", "ip": "10.0.0.2", "ansible_host": "n2.lab",
              "netboot_boot": "ring"},
             {"inventory_hostname": "n3"}]
    assert nodes_of_hosts(hosts) == [{"name": "n1", "mac": "52:54:00:00:00:01", "ip": "10.0.0.1"},
                                     {"name": "n2", "mac": "52:54:00:00:00:02", "ip": "10.0.0.2", "boot": "ring"}]
    with pytest.raises(ValueError, match="mapping of host variables"):
        nodes_of_hosts(["n1"])


def test_hostvars_are_mappings_not_dicts():
    """Ansible's hostvars[host] is a Mapping, not a dict: both kinds of input take it."""
    from collections.abc import Mapping  # pylint: disable=import-outside-toplevel

    class HostVars(Mapping):
        def __init__(self, data):
            self.data = data

        def __getitem__(self, key):
            return self.data[key]

        def __iter__(self):
            return iter(self.data)

        def __len__(self):
            return len(self.data)

    assert nodes_of_hosts([HostVars({"inventory_hostname": "n1", "mac": "m", "ansible_host": "i"})]) == [
        {"name": "n1", "mac": "m", "ip": "i"}]
    assert normalise(HostVars({"flag": "no"}), {"flag": "bool"}) == ({"flag": False}, [])
