# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The VM farm on libvirt: many tiny VMs on qcow2 overlays of one backing file, over hypervisors.

What the ``libvirt_farm`` and ``libvirt_farm_info`` modules do, in order, written against the
libvirt-python module object handed in (``lv``), so that tests run it on libvirt's test driver and on
a real libvirtd without Ansible. Each step has its file in this package:

* options.py: check the options, naming the bad value and its fix, before any connection;
* hypervisor.py: open each hypervisor, read its capacity and the domains and overlays there;
* planner.py (with capacity.py and domain.py): decide per VM - keep, create, update, start, pause, remove;
* applier.py (with connections.py): create overlays and domains, roll back what was created if one
  fails, start them through GradualScheduler;
* result.py: what the module returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.applier import Applier
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.capacity import capacity, capacity_report
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.connections import ConnectionPool
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.hypervisor import open_hypervisors
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import (
    check_hypervisors,
    check_params,
    check_template,
    expand_vms,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.planner import make_plan
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.result import farm_result
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import PlacementError, max_items


class Farm:
    """One libvirt_farm call: check, scan, plan, apply, report. ``connections`` ({hypervisor name:
    open connection}) are used instead of opening the URIs (and left open)."""

    def __init__(self, lv, params, check_mode=False, connections=None):
        self.lv = lv
        self.params = params
        self.check_mode = check_mode
        self.connections = connections
        self.names, self.template, self.records, self.mac_prefix = check_params(params)

    def run(self):
        """The module's result; FarmError (with what exists now) when something fails."""
        hvs = open_hypervisors(self.lv, self.records, self.connections)
        pool = ConnectionPool(self.lv, self.params.get("concurrency"))
        try:
            plan = make_plan(hvs, self.names, self.template, self.mac_prefix, self.params)
            if not self.check_mode:
                Applier(self.lv, plan, self.params, pool).apply()
            return farm_result(plan, self.check_mode)
        finally:
            pool.close()
            for hv in hvs:
                hv.close()


def farm_info(lv, params, connections=None):
    """libvirt_farm_info's result: each hypervisor's capacity and how many VMs of the template fit."""
    records = check_hypervisors(params.get("hypervisors"))
    template = check_template(params.get("template"))
    reserve = params.get("reserve_memory_mb") or 0
    overcommit = params.get("cpu_overcommit") or 1.0
    batch = set(expand_vms(params["vms"])) if params.get("vms") else set()
    hvs = open_hypervisors(lv, records, connections)
    try:
        hosts = [capacity(hv, batch, template, reserve) for hv in hvs]
        try:
            fits = max_items(hosts, {"memory_mb": template["memory_mb"], "vcpus": template["vcpus"]},
                             cpu_overcommit=overcommit)
        except PlacementError as exc:
            raise FarmError(str(exc))
        per_host = dict((entry["host"], entry["max_items"]) for entry in fits["per_host"])
        return {"changed": False, "max_vms": fits["total"],
                "hypervisors": [capacity_report(hv, host, per_host[hv.name], batch, overcommit)
                                for hv, host in zip(hvs, hosts)],
                "template": {"memory_mb": template["memory_mb"], "vcpus": template["vcpus"]}}
    finally:
        for hv in hvs:
            hv.close()
