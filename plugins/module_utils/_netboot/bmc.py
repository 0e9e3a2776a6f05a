# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What a BMC preflight found: for each node, whether its BMC is given and answered community.general's
ipmi_power (pyghmi) with its credentials, as messages that name the node, the BMC's address and the reason.

Pure functions on the nodes and the registered loop results; standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

IPMI_PORT = 623
# What pyghmi says when the BMC refuses the user or the password (its IpmiException texts).
_CREDENTIAL_WORDS = ("incorrect password", "unauthorized name", "unauthorized", "invalid user", "insufficient privilege")


def bmc_address(node):
    """'address:port' of a node's BMC (port 623 unless ``bmc_port`` says otherwise)."""
    return "%s:%s" % (node.get("bmc"), node.get("bmc_port") or IPMI_PORT)


def reason_of(node, result):
    """Why ``result`` (a registered community.general.ipmi_power result, registered with or without
    ``failed_when: false``) is a failure, or None when the BMC answered (its result has a power state) or the
    task was skipped. pyghmi raises an IpmiException without text when nothing answers (after about 5 s)."""
    if not result or result.get("skipped") or ("powerstate" in result and not result.get("failed")):
        return None
    message = str(result.get("msg") or "").strip()
    if message in ("", "None") or "timeout" in message.lower() or "timed out" in message.lower():
        return ("does not answer IPMI over LAN (UDP); check the address and port, that the BMC is powered and "
                "IPMI over LAN is enabled on it")
    if any(word in message.lower() for word in _CREDENTIAL_WORDS):
        return "refuses the credentials of user %r (%s)" % (node.get("bmc_user"), message)
    return "failed: %s" % message


def bmc_problems(nodes, results=None):
    """One message per node whose BMC is missing from its variables, or did not answer, or refused its
    credentials (``results``: the registered ipmi_power loop results, in the order of ``nodes``); [] when every
    BMC answered."""
    problems = []
    results = list(results or [])
    for index, node in enumerate(nodes or []):
        if not isinstance(node, dict):
            problems.append("nodes[%d]: %r is not a mapping with name, bmc, bmc_user, bmc_password" % (index, node))
            continue
        name = node.get("name") or "nodes[%d]" % index
        absent = [key for key in ("bmc", "bmc_user", "bmc_password") if not node.get(key)]
        if absent:
            problems.append("node %s: no %s (the BMC's address, user and password are needed to power it)"
                            % (name, ", ".join(absent)))
            continue
        reason = reason_of(node, results[index] if index < len(results) else None)
        if reason:
            problems.append("node %s: its BMC %s %s" % (name, bmc_address(node), reason))
    return problems
