# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.image_nodes_problems, image_nodes_pending and image_nodes_result: what the role
labfarm.massclone.image_nodes computes (plugins/module_utils/_image_nodes/checks.py).

Their documentation lives in image_nodes_problems.yml, image_nodes_pending.yml and image_nodes_result.yml beside
this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import checks


def _list_of_dicts(value, what, name):
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) for v in value):
        raise AnsibleFilterError("labfarm.massclone.%s: %s must be a list of mappings, not %s" % (name, what, type_name(value)))
    return list(value)


def image_nodes_problems(nodes):
    """One message per node without a MAC, address or BMC, and per MAC, address or BMC two nodes share."""
    return checks.node_problems(_list_of_dicts(nodes, "the nodes", "image_nodes_problems"))


def image_nodes_pending(names, finished, image_digest, force=False):
    """{todo, done}: the nodes a run images, and those an earlier run finished with the same image."""
    if not isinstance(finished, dict):
        raise AnsibleFilterError("labfarm.massclone.image_nodes_pending: finished must be a mapping, not %s" % type_name(finished))
    todo, done = checks.pending(list(names), finished, image_digest, force=bool(force))
    return {"todo": todo, "done": done}


def image_nodes_result(states, skipped=None):
    """The run's result from ``states`` ({node: {ok, stage, reason, ...}}) and the ``skipped`` nodes; ``table``
    holds the lines of the ok/failed table."""
    if not isinstance(states, dict):
        raise AnsibleFilterError("labfarm.massclone.image_nodes_result: the states must be a mapping, not %s" % type_name(states))
    skipped = list(skipped or ())
    result = checks.results([name for name in sorted(states) if name not in skipped], states, skipped)
    result["table"] = checks.table(result)
    return result


class FilterModule(object):
    """The imaging loop's filters."""

    def filters(self):
        return {"image_nodes_problems": image_nodes_problems, "image_nodes_pending": image_nodes_pending,
                "image_nodes_result": image_nodes_result}
