# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter labfarm.massclone.placement: spread items (clones, VMs) over servers.

Its documentation lives in placement.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import PlacementError, place
from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name


def placement(items, hosts, policy="round_robin", item=None, cpu_overcommit=1.0, capacities=None):
    """{host: [item names]} for every host, in host order, items in their order."""
    if capacities is not None:
        if not isinstance(capacities, dict):
            raise AnsibleFilterError("labfarm.massclone.placement: capacities must map host names to "
                                     "{memory_mb, vcpus, ...}, not %s" % type_name(capacities))
        hosts = [dict(capacities.get(host) or {}, name=host) if not isinstance(host, dict) else host for host in hosts]
    try:
        pairs = place(items, hosts, policy=policy, item=item, cpu_overcommit=cpu_overcommit)
    except PlacementError as exc:
        raise AnsibleFilterError("labfarm.massclone.placement: %s" % to_native(exc))
    result = {}
    for host in hosts:
        result[host if not isinstance(host, dict) else host.get("name")] = []
    for name, host in pairs:
        result.setdefault(host, []).append(name)
    return result


class FilterModule(object):
    """Placement filter."""

    def filters(self):
        return {"placement": placement}
