# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.placement import FilterModule, placement


def test_every_host_listed_even_when_empty():
    assert placement(["a", "b"], ["h1", "h2", "h3"], policy="concentrated") == {"h1": ["a", "b"], "h2": [], "h3": []}


def test_even_split_keeps_item_order():
    result = placement(["c%d" % i for i in range(1, 6)], ["h1", "h2"], policy="even")
    assert sorted(result["h1"] + result["h2"]) == sorted("c%d" % i for i in range(1, 6))
    assert sorted([len(result["h1"]), len(result["h2"])]) == [2, 3]
    assert result["h1"] == sorted(result["h1"], key=lambda n: int(n[1:]))


def test_capacity_error_names_the_shortfall():
    hosts = [{"name": "h1", "memory_mb": 1024, "vcpus": 1}]
    with pytest.raises(AnsibleFilterError, match="labfarm.massclone.placement:.*"):
        placement(["a", "b", "c"], hosts, item={"memory_mb": 512})


def test_capacities_by_host_name():
    capacities = {"big": {"max_items": 3}, "small": {"max_items": 1}}
    result = placement(["a", "b", "c", "d"], ["big", "small"], policy="concentrated", capacities=capacities)
    assert result == {"big": ["a", "b", "c"], "small": ["d"]}
    with pytest.raises(AnsibleFilterError, match="capacities must map host names"):
        placement(["a"], ["big"], capacities=["big"])


def test_registered():
    assert FilterModule().filters()["placement"] is placement
