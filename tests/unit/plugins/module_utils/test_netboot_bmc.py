# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The BMC preflight's messages (filter labfarm.massclone.bmc_problems) from community.general.ipmi_power
results as pyghmi gives them (the texts seen against VirtualBMC in tests/integration/power)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.power import FilterModule
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.bmc import bmc_problems

bmc_problems_filter = FilterModule().filters()["bmc_problems"]


def node(name, **extra):
    item = {"name": name, "bmc": "10.0.0.%d" % (100 + int(name[-1])), "bmc_user": "admin", "bmc_password": "pw"}
    item.update(extra)
    return item


OK = {"changed": False, "failed": False, "powerstate": "on"}


def test_every_bmc_answered():
    assert bmc_problems([node("n1"), node("n2", bmc_port=16231)], [OK, OK]) == []


def test_silent_refusing_and_other_failures_name_node_address_and_reason():
    nodes = [node("n1"), node("n2", bmc_port=16232), node("n3"), node("n4")]
    # as registered with failed_when: false (failed is then False; no power state), or as failed
    results = [OK, {"failed": False, "failed_when_result": False, "msg": "Incorrect password provided"},
               {"failed": False, "failed_when_result": False, "msg": "None"},
               {"failed": True, "msg": "Unable to convert 'key' from hex string."}]
    assert bmc_problems(nodes, results) == [
        "node n2: its BMC 10.0.0.102:16232 refuses the credentials of user 'admin' (Incorrect password provided)",
        "node n3: its BMC 10.0.0.103:623 does not answer IPMI over LAN (UDP); check the address and port, that the "
        "BMC is powered and IPMI over LAN is enabled on it",
        "node n4: its BMC 10.0.0.104:623 failed: Unable to convert 'key' from hex string.",
    ]


def test_nodes_without_a_bmc_are_named_whatever_the_loop_did():
    nodes = [node("n1", bmc=""), {"name": "n2"}, node("n3", bmc_password=None), "n4"]
    skipped = {"skipped": True, "changed": False}
    assert bmc_problems(nodes, [skipped, skipped, skipped, skipped]) == [
        "node n1: no bmc (the BMC's address, user and password are needed to power it)",
        "node n2: no bmc, bmc_user, bmc_password (the BMC's address, user and password are needed to power it)",
        "node n3: no bmc_password (the BMC's address, user and password are needed to power it)",
        "nodes[3]: 'n4' is not a mapping with name, bmc, bmc_user, bmc_password",
    ]


def test_filter_checks_its_inputs():
    assert bmc_problems_filter([node("n1")], [{"failed": True, "msg": ""}])[0].startswith("node n1: its BMC 10.0.0.101:623 does not")
    with pytest.raises(AnsibleFilterError, match="nodes must be a list, not dict"):
        bmc_problems_filter({"name": "n1"})
    with pytest.raises(AnsibleFilterError, match="results must be a list"):
        bmc_problems_filter([node("n1")], {"results": []})
