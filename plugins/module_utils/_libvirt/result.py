# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What libvirt_farm returns, from a Plan and what was done to each VM (in check mode, what would be):
one entry per VM in order, the lists of names per action, the placement counts and the diff.
Pure functions, linear in the number of VMs (batches reach 10,000)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_ACTIONS = {"create": "created", "update": "updated", "keep": "unchanged", "differs": "differs"}


def _target_state(vm, state):
    if state in ("running", "paused"):
        return state
    return "shutoff" if vm["action"] == "create" else vm["state_before"]


def _absent_entry(vm, check_mode):
    if vm.get("done") == "removed" or (check_mode and vm["exists"]) or not vm["exists"]:
        state = "absent"
    else:
        state = vm["state_before"]
    return {"name": vm["name"], "hypervisor": vm["hypervisor"], "uri": vm["uri"], "mac": vm["mac"],
            "ip": vm["ip"], "overlay": vm["overlay"], "uuid": vm["uuid"], "state": state,
            "action": "removed" if vm["exists"] else "none",
            "overlay_removed": bool(vm.get("overlay_removed") or (check_mode and vm["overlay_created"]))}


def _entry(vm, state, check_mode):
    want = vm.get("want") or {}
    if vm["action"] == "differs":
        mac, overlay = vm["mac"], vm["overlay"]
    else:
        mac, overlay = want.get("mac"), want.get("overlay")
    run_state = vm.get("run_state") or (_target_state(vm, state) if check_mode else vm["state_before"])
    if not check_mode and vm["action"] == "create" and not vm.get("run_state"):
        run_state = "shutoff"
    return {"name": vm["name"], "hypervisor": vm["hypervisor"], "uri": vm["uri"], "mac": mac, "ip": vm["ip"],
            "overlay": overlay, "uuid": vm["uuid"], "state": run_state, "action": _ACTIONS.get(vm["action"]),
            "started": vm.get("state_action"), "differs": vm["differs"]}


def vm_results(plan, check_mode):
    """One entry per VM of the plan, in order: where it is, its identities, its state and what was done."""
    if plan.state == "absent":
        return [_absent_entry(plan.vms[name], check_mode) for name in plan.names]
    return [_entry(plan.vms[name], plan.state, check_mode) for name in plan.names]


def _after(vm, entry, state):
    """The diff's 'after' of one VM that changes."""
    if state == "absent":
        return None
    want = vm.get("want") or {}
    after = {"hypervisor": entry["hypervisor"], "state": entry["state"],
             "memory_mb": want.get("memory_mb"), "vcpus": want.get("vcpus"), "mac": entry["mac"]}
    if vm["differs"]:
        after["differs"] = dict((k, {"now": vm["recorded"].get(k, vm["live"].get(k)), "wanted": want.get(k)})
                                for k in vm["differs"])
        if entry["action"] == "differs":
            after["update"] = "needs update: true"
    return after


def farm_result(plan, check_mode):
    """libvirt_farm's result: changed, vms, created/updated/removed/started/differs, placement, diff."""
    vms = vm_results(plan, check_mode)
    created = [v["name"] for v in vms if v["action"] == "created"]
    updated = [v["name"] for v in vms if v["action"] == "updated"]
    removed = [v["name"] for v in vms if v["action"] == "removed"]
    differs = [v["name"] for v in vms if v["action"] == "differs"]
    started = [v["name"] for v in vms if v.get("started")]
    counts = dict((hv.name, 0) for hv in plan.hvs)
    for v in vms:
        if v["hypervisor"] and v["state"] != "absent":
            counts[v["hypervisor"]] += 1
    before, after = {}, {}
    for entry in vms:       # one per name, in order: no search
        if entry["action"] in ("unchanged", "none") and not entry.get("started"):
            continue
        vm = plan.vms[entry["name"]]
        before[entry["name"]] = vm["before"]
        after[entry["name"]] = _after(vm, entry, plan.state)
    return {
        "changed": bool(created or updated or removed or started),
        "vms": vms,
        "created": created, "updated": updated, "removed": removed, "started": started, "differs": differs,
        "placement": [{"hypervisor": hv.name, "vms": counts[hv.name]} for hv in plan.hvs],
        "diff": {"before": {"vms": before}, "after": {"vms": after}},
    }


LIST_KEYS = ("name", "hypervisor", "uri", "mac", "ip", "overlay", "state", "uuid")


def gather_vms(names, results):
    """The farm's VM list in the order of ``names`` from the results of several libvirt_farm calls:
    ``results`` pairs each call's hypervisor with its result; a VM is taken from the call of the hypervisor
    it is on, with LIST_KEYS. VMs that no call reports (absent) are left out."""
    by_name = {}
    for hypervisor, result in results:
        for vm in (result or {}).get("vms") or ():
            if vm.get("hypervisor") == hypervisor:
                by_name[vm["name"]] = dict((key, vm.get(key)) for key in LIST_KEYS)
    return [by_name[name] for name in names if name in by_name]
