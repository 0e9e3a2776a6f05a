# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.survey_inputs and nodes_of_hosts: role inputs as an AWX survey passes them (strings),
normalised once at the start of each role by one rule (plugins/module_utils/_common/survey.py).

Their documentation lives in survey_inputs.yml and nodes_of_hosts.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.survey import nodes_of_hosts as _nodes_of_hosts
from ansible_collections.labfarm.massclone.plugins.module_utils._common.survey import normalise


def survey_inputs(values, kinds, prefix=""):
    """``values`` normalised by ``kinds``; every problem at once in one AnsibleFilterError."""
    if not isinstance(kinds, dict):
        raise AnsibleFilterError("labfarm.massclone.survey_inputs: kinds must be a mapping, not %s" % type_name(kinds))
    out, problems = normalise(values, kinds, prefix)
    if problems:
        raise AnsibleFilterError("labfarm.massclone.survey_inputs: %d problem(s):\n  - %s" % (len(problems), "\n  - ".join(problems)))
    return out


def nodes_of_hosts(hosts):
    """Reservations {name, mac, ip, boot} from a list of hostvars."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("labfarm.massclone.nodes_of_hosts: the input must be a list of host variables, not %s" % type_name(hosts))
    try:
        return _nodes_of_hosts(list(hosts))
    except ValueError as exc:
        raise AnsibleFilterError("labfarm.massclone.nodes_of_hosts: %s" % exc)


class FilterModule(object):
    """Survey input filters."""

    def filters(self):
        return {"survey_inputs": survey_inputs, "nodes_of_hosts": nodes_of_hosts}
