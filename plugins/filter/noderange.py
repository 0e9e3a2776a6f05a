# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.noderange (expand) and labfarm.massclone.nodefold (fold).

Their documentation lives in noderange.yml and nodefold.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six import string_types

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import DEFAULT_LIMIT, NodeRangeError, expand
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.fold import fold


def noderange(expr, groups=None, universe=None, limit=DEFAULT_LIMIT):
    """Expand a range expression (or a list of them) into a list of names."""
    if not isinstance(expr, (string_types, list, tuple)):
        raise AnsibleFilterError("labfarm.massclone.noderange: expected a range string or a list of them, got %s"
                                 % type_name(expr))
    if groups is not None and not isinstance(groups, dict):
        raise AnsibleFilterError("labfarm.massclone.noderange: groups must be a mapping of group names to ranges or "
                                 "lists of names, got %s" % type_name(groups))
    if universe is not None and isinstance(universe, string_types):
        universe = [universe]
    try:
        return expand(expr if not isinstance(expr, string_types) else to_native(expr),
                      groups=groups, universe=universe, limit=limit)
    except NodeRangeError as exc:
        raise AnsibleFilterError("labfarm.massclone.noderange: %s" % to_native(exc))


def nodefold(names):
    """Fold a list of names into the canonical range string."""
    if isinstance(names, string_types):
        names = [names]
    try:
        return fold([to_native(n) if isinstance(n, string_types) else n for n in names])
    except (NodeRangeError, TypeError) as exc:
        raise AnsibleFilterError("labfarm.massclone.nodefold: %s" % to_native(exc))


class FilterModule(object):
    """Node range filters."""

    def filters(self):
        return {"noderange": noderange, "nodefold": nodefold}
