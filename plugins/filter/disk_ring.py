# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.disk_ring_plan, disk_ring_preflight_errors and disk_ring_result: what the role
labfarm.massclone.disk_ring computes (its tasks only gather the inputs and act on the answer).

Their documentation lives in disk_ring_plan.yml, disk_ring_preflight_errors.yml and disk_ring_result.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.session import (
    listen_clashes, plan_session, preflight_errors, session_port_of, session_result)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.session_options import check_session_inputs


def _mapping(value, what, name):
    if not isinstance(value, dict):
        raise AnsibleFilterError("labfarm.massclone.%s: %s must be a mapping, not %s" % (name, what, type_name(value)))
    return value


def disk_ring_plan(inputs):
    """The session's plan with ``errors: []``, or ``{errors: [every problem]}`` when the inputs are refused."""
    options, errors = check_session_inputs(_mapping(inputs, "the input", "disk_ring_plan"))
    # the ports every node will really use: the session's where a node leaves disk_ring_port at 0
    port = session_port_of(options)
    errors.extend(listen_clashes(options, port))
    if errors:
        return {"errors": errors}
    plan = plan_session(options)
    plan["errors"] = []
    return plan


def disk_ring_preflight_errors(checks, dirs, source, source_check):
    """Every node's refusal in the preflight check, as messages naming the node."""
    return preflight_errors(_mapping(checks, "the input", "disk_ring_preflight_errors"),
                            _mapping(dirs or {}, "dirs", "disk_ring_preflight_errors"), source, source_check or {})


def disk_ring_result(sender, plan, source, receivers):
    """The session's ok/failed table, in ring order."""
    return session_result(_mapping(plan, "plan", "disk_ring_result"), source, sender or {},
                          _mapping(receivers or {}, "receivers", "disk_ring_result"))


class FilterModule(object):
    """The disk_ring role's filters."""

    def filters(self):
        return {"disk_ring_plan": disk_ring_plan, "disk_ring_preflight_errors": disk_ring_preflight_errors,
                "disk_ring_result": disk_ring_result}
