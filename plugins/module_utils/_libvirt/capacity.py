# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What a scanned hypervisor has left for the farm: the host record the placement engine takes, and the
capacity report of libvirt_farm_info. Pure functions of what Hypervisor.scan() read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def capacity(hv, batch, template, reserve_mb):
    """A placement host record for ``hv``: what the node has, minus reserve, minus running domains
    outside ``batch`` and every domain of the batch already there."""
    used_memory = used_vcpus = 0
    existing = 0
    for name, dom in hv.domains.items():
        if name in batch:
            existing += 1
            used_memory += dom["memory_mb"]
            used_vcpus += dom["vcpus"]
        elif dom["active"]:
            used_memory += dom["memory_mb"]
            used_vcpus += dom["vcpus"]
    memory = hv.record.get("memory_mb", max(0, hv.memory_mb - reserve_mb))
    host = {"name": hv.name, "memory_mb": memory, "vcpus": hv.record.get("vcpus", hv.cpus),
            "used_memory_mb": used_memory, "used_vcpus": used_vcpus}
    if hv.record.get("max_vms") is not None:
        host["max_items"] = max(0, hv.record["max_vms"] - existing)
    if hv.record.get("weight") is not None:
        host["weight"] = hv.record["weight"]
    return host


def capacity_report(hv, host, fits, batch, cpu_overcommit):
    """libvirt_farm_info's entry for ``hv``: what the node has and runs, what is left, how many VMs fit
    (``fits``: that host's count from placement.max_items), the batch's VMs there and the host record."""
    return {
        "name": hv.name, "uri": hv.uri, "memory_mb": hv.memory_mb, "cpus": hv.cpus,
        "domains": len(hv.domains), "active_domains": sum(1 for d in hv.domains.values() if d["active"]),
        "used_memory_mb": host["used_memory_mb"], "used_vcpus": host["used_vcpus"],
        "free_memory_mb": max(0, host["memory_mb"] - host["used_memory_mb"]),
        "free_vcpus": hv.cpus * float(cpu_overcommit) - host["used_vcpus"],
        "max_vms": fits, "domain_types": sorted(hv.domain_types),
        "farm_vms": sorted(batch.intersection(hv.domains)), "placement_host": host,
    }
