# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What one libvirt_farm call will do, decided from the scanned hypervisors before anything changes.

Per VM: where it is (VMs that exist stay where they are; missing ones are placed by
``placement.place()`` in what is left, or by the ``assignment`` given), its MAC and address, the spec it
should have, and the actions: keep, create, update (or ``differs`` without update), remove; start,
resume, suspend, restart. Pure logic over the scanned Hypervisor objects; no call to libvirt.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.capacity import capacity
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import (
    differences,
    ips_for,
    mac_for,
    read_domain,
    wanted_spec,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import PlacementError, place


class Plan:
    """The decisions of one call. ``names``: the VMs this call handles, in order (with an assignment,
    those assigned to its hypervisors or already there); ``vms``: name -> the VM's record, which the
    applier completes with what it did; ``hvs`` and ``by_name``: the hypervisors."""

    def __init__(self, state, hvs, names):
        self.state = state
        self.hvs = hvs
        self.by_name = dict((hv.name, hv) for hv in hvs)
        self.names = list(names)
        self.vms = {}


def _locate(hvs, batch):
    """({name: hypervisor} of the batch's domains, [conflicts]: a name defined on two hypervisors)."""
    where = {}
    conflicts = []
    for hv in hvs:
        for name in batch.intersection(hv.domains):
            if name in where:
                conflicts.append("%s is defined on both %s and %s" % (name, where[name].name, hv.name))
            where[name] = hv
    return where, conflicts


def _taken_macs(hvs, batch):
    """The MACs of every domain outside the batch: a VM never gets one of them."""
    taken = set()
    for hv in hvs:
        for name, dom in hv.domains.items():
            if name not in batch:
                taken.update(read_domain(dom["xml"])[2]["macs"])
    return taken


def _vm_record(name, hv, ip, conflicts):
    """A VM's record as found: on ``hv`` (or nowhere), with what its domain was made from."""
    vm = {"name": name, "hypervisor": hv.name if hv else None, "uri": hv.uri if hv else None,
          "ip": ip, "action": None, "differs": [], "before": None}
    if not hv:
        vm.update(exists=False, state_before="absent", mac=None, overlay=None, uuid=None, overlay_created=False)
        return vm
    dom = hv.domains[name]
    recorded, created, live = read_domain(dom["xml"])
    if recorded is None:
        conflicts.append("%s on %s exists and was not made by libvirt_farm (no labfarm metadata)" % (name, hv.name))
    vm.update(exists=True, dom=dom, recorded=recorded or {}, overlay_created=created, live=live,
              uuid=live["uuid"], state_before=dom["state"], mac=live["mac"], overlay=live["overlay"])
    vm["before"] = {"hypervisor": hv.name, "state": dom["state"]}
    vm["before"].update((k, (recorded or {}).get(k, live.get(k))) for k in ("memory_mb", "vcpus", "mac"))
    return vm


def _assign_macs(plan, all_names, prefix, taken):
    """Existing VMs keep their MAC unless the prefix changed; the others get mac_for(), in the order of
    the whole batch, so a VM's MAC does not depend on how the batch is split over calls. A prefix too
    small for the batch is refused first: mac_for() would search it for a free address forever."""
    used = sum(1 for mac in taken if mac in prefix)
    if len(all_names) + used > prefix.size:
        raise FarmError("mac_prefix %s holds %d addresses, and %d VMs need one each (%d more are taken by other "
                        "domains): use a shorter prefix, e.g. 3 octets such as 52:54:00." % (
                            prefix.text, prefix.size, len(all_names), used))
    for name in all_names:
        vm = plan.vms.get(name)
        if vm is None:
            taken.add(mac_for(prefix.octets, name, taken))
            continue
        keep = vm["mac"] if vm["exists"] and vm["mac"] and vm["mac"] in prefix else None
        vm["want_mac"] = keep or mac_for(prefix.octets, name, taken)
        taken.add(vm["want_mac"])


def _place_missing(plan, template, params):
    """Put the VMs that do not exist on a hypervisor: by the assignment given, else by the placement
    engine in what the hypervisors have left; FarmError with the figures when they do not fit."""
    missing = [name for name in plan.names if not plan.vms[name]["exists"]]
    if not missing:
        return
    assignment = params.get("assignment")
    if assignment is not None:
        pairs = [(name, assignment[name]) for name in missing]
    else:
        batch = set(plan.names)
        hosts = [capacity(hv, batch, template, params.get("reserve_memory_mb") or 0) for hv in plan.hvs]
        pairs = place_vms(missing, hosts, template, params.get("distribution"), params.get("cpu_overcommit"))
    for name, host in pairs:
        plan.vms[name].update(hypervisor=host, uri=plan.by_name[host].uri)


def place_vms(missing, hosts, template, distribution, cpu_overcommit):
    """[(VM, hypervisor)] for the VMs of ``template`` that do not exist yet, by the placement engine in what
    ``hosts`` (capacity() records, in hypervisor order) have left; FarmError with the figures when they do not fit."""
    try:
        return place(missing, hosts, policy=distribution or "round_robin",
                     item={"memory_mb": template["memory_mb"], "vcpus": template["vcpus"]},
                     cpu_overcommit=cpu_overcommit or 1.0)
    except PlacementError as exc:
        raise FarmError("not enough capacity, nothing was created: %s" % exc, capacity=hosts,
                        asked=exc.asked, fits=exc.fits)


def split_assignment(names, reports, template, distribution, cpu_overcommit, state):
    """libvirt_farm's ``assignment`` for a batch split into one call per hypervisor (the role vm_farm):
    {VM: hypervisor}. ``reports`` are libvirt_farm_info's hypervisor entries (name, farm_vms,
    placement_host), in hypervisor order. The VMs that exist stay where they are; with a ``state`` other
    than absent the missing ones are placed as one libvirt_farm call would place them."""
    where = {}
    for report in reports:
        for name in report["farm_vms"]:
            where[name] = report["name"]
    missing = [name for name in names if name not in where]
    if missing and state != "absent":
        hosts = [report["placement_host"] for report in reports]
        where.update(place_vms(missing, hosts, template, distribution, cpu_overcommit))
    return where


def state_action(vm, state):
    """What to do to the VM's run state for ``state``: start, resume, suspend, restart or None."""
    now = vm["state_before"] if vm["action"] not in ("create",) else "shutoff"
    if vm["action"] == "update" and now in ("running", "paused", "blocked"):
        now = "restart"
    if state == "running":
        if now == "restart":
            return "restart"
        return {"running": None, "blocked": None, "paused": "resume"}.get(now, "start")
    if state == "paused":
        if now == "restart":
            return "restart"
        return {"paused": None, "running": "suspend", "blocked": "suspend"}.get(now, "start")
    return None   # present: leave the run state as it is


def _decide(plan, template, params):
    """Each VM's wanted spec, how it differs from its domain, and its actions."""
    backing = params.get("backing_file")
    backing_format = params.get("backing_format") or "qcow2"
    for name in plan.names:
        vm = plan.vms[name]
        hv = plan.by_name[vm["hypervisor"]]
        overlay = vm["overlay"] if vm["exists"] and vm["overlay"] else os.path.join(hv.pool_dir, "%s.qcow2" % name)
        if vm["exists"] and vm["recorded"].get("overlay"):
            overlay = vm["recorded"]["overlay"]
        vm["want"] = wanted_spec(template, name, vm["want_mac"], overlay, backing, backing_format,
                                 hv.domain_type(template["domain_type"]))
        if vm["exists"]:
            vm["differs"] = differences(vm["want"], vm["recorded"], vm["live"])
            if vm["differs"]:
                vm["action"] = "update" if params.get("update") else "differs"
            else:
                vm["action"] = "keep"
        else:
            vm["action"] = "create"
        vm["state_action"] = state_action(vm, plan.state)


def make_plan(hvs, names, template, prefix, params):
    """The Plan of a call on the scanned ``hvs`` for the batch ``names`` (checked options: ``template``
    from check_template, ``prefix`` the MacPrefix); FarmError, before anything changes, for a domain made
    elsewhere or twice and for VMs that do not fit."""
    state = params.get("state", "running")
    batch = set(names)
    where, conflicts = _locate(hvs, batch)
    taken = _taken_macs(hvs, batch)
    ips = ips_for(params.get("first_ip"), names)
    assignment = params.get("assignment")
    by_name = dict((hv.name, hv) for hv in hvs)
    if assignment is not None:
        # placed elsewhere (the role's other hypervisors): not this call's business
        mine = [n for n in names if n in where or assignment.get(n) in by_name]
    else:
        mine = names
    plan = Plan(state, hvs, mine)
    for name in plan.names:
        plan.vms[name] = _vm_record(name, where.get(name), ips[name], conflicts)
    if conflicts:
        raise FarmError("refusing to touch domains made elsewhere or twice: %s. Remove or rename those domains, or "
                        "leave these names out of vms." % "; ".join(conflicts), conflicts=conflicts)
    if state == "absent":
        for vm in plan.vms.values():
            vm["action"] = "remove" if vm["exists"] else "none"
        return plan
    _assign_macs(plan, names, prefix, taken)
    _place_missing(plan, template, params)
    _decide(plan, template, params)
    return plan
