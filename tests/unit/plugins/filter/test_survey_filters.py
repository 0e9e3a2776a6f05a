# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters survey_inputs and nodes_of_hosts, as the roles call them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.survey import FilterModule, nodes_of_hosts, survey_inputs


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"survey_inputs", "nodes_of_hosts"}


def test_survey_inputs_converts_and_refuses_with_every_problem():
    assert survey_inputs({"a": "false", "b": "x,y"}, {"a": "bool", "b": "list"}) == {"a": False, "b": ["x", "y"]}
    with pytest.raises(AnsibleFilterError, match=r"2 problem\(s\):\n  - p_a must be a boolean.*\n  - p_b must be a whole"):
        survey_inputs({"a": "nope", "b": "1.5"}, {"a": "bool", "b": "int"}, "p_")
    with pytest.raises(AnsibleFilterError, match="kinds must be a mapping"):
        survey_inputs({}, ["a"])


def test_nodes_of_hosts_refuses_what_is_no_list():
    assert nodes_of_hosts([{"inventory_hostname": "n", "mac": "m", "ip": "i"}]) == [{"name": "n", "mac": "m", "ip": "i"}]
    with pytest.raises(AnsibleFilterError, match="list of host variables"):
        nodes_of_hosts("n1")
    with pytest.raises(AnsibleFilterError, match="mapping of host variables"):
        nodes_of_hosts([1])
