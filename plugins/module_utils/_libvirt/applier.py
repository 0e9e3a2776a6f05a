# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Carry out a Plan on libvirt: overlays (storage volumes, so remote URIs work) and domains, ``concurrency``
at a time; a rollback of what the call created when one fails; the run states through GradualScheduler;
removal for ``absent``. Each VM's record in the plan gets what was done to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._common.gradual import GradualScheduler
from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import run_workers
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import (
    STATE_NAMES,
    overlay_volume_xml,
    render_xml,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.hypervisor import lv_message
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.result import vm_results


class Applier:
    """Applies ``plan`` with the libvirt module ``lv``; ``connections`` is the ConnectionPool of the call."""

    def __init__(self, lv, plan, params, connections):
        self.lv = lv
        self.plan = plan
        self.params = params
        self.connections = connections
        self.created_domains = []
        self.created_overlays = []

    def _error(self, msg, **result):
        return FarmError(msg, vms=vm_results(self.plan, check_mode=False), **result)

    def apply(self):
        """Define (or remove) the VMs of the plan, then give them their run state."""
        if self.plan.state == "absent":
            self._remove()
            return
        todo = [self.plan.vms[n] for n in self.plan.names if self.plan.vms[n]["action"] in ("create", "update")]
        need_pool = set(vm["hypervisor"] for vm in todo)
        for hv in self.plan.hvs:
            if hv.name in need_pool:
                hv.find_pool(make=True)
        try:
            self._define_all(todo)
        except FarmError as exc:
            rolled = self._rollback() if self.params.get("rollback", True) else []
            raise self._error("%s%s" % (exc.msg, "; rolled back: %s" % ", ".join(rolled) if rolled else
                                        "; kept: %s" % ", ".join(self.created_domains)), rolled_back=rolled)
        self._states()

    # -- definitions --
    def _define_all(self, todo):
        """Overlays and domains, ``concurrency`` at a time; the first failure is raised once all are done,
        and no VM is begun after it."""
        workers = min(self.params.get("concurrency") or 1, len(todo))
        if workers <= 1 or not any(self.connections.parallel(hv) for hv in self.plan.hvs):
            for vm in todo:
                self._define(vm)
            return
        queue = list(reversed(todo))
        failed = []
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not queue or failed:
                        return
                    vm = queue.pop()
                try:
                    self._define(vm)
                except Exception as exc:
                    with lock:
                        failed.append(vm["name"])
                    if isinstance(exc, FarmError):
                        raise
                    raise FarmError("%s: %s: %s" % (vm["name"], type(exc).__name__, exc))

        run_workers(worker, workers)

    def _define(self, vm):
        hv = self.plan.by_name[vm["hypervisor"]]
        conn, pool = self.connections.get(hv)
        spec = vm["want"]
        name = vm["name"]
        volume_name = os.path.basename(spec["overlay"])
        vol, backing = hv.overlay(volume_name, pool)
        created = vm.get("overlay_created", False)
        if vol is not None and backing != spec["backing_file"]:
            if vm["action"] == "update" and created:
                self._delete_volume(hv, vol, name)
                vol = None
            else:
                raise FarmError("%s: overlay %s on %s exists with backing file %r, not %r; remove it, or give the "
                                "right backing_file." % (name, spec["overlay"], hv.name, backing, spec["backing_file"]))
        if vol is None:
            try:
                pool.createXML(overlay_volume_xml(spec, volume_name), 0)
            except self.lv.libvirtError as exc:
                raise FarmError("%s: creating overlay %s on %s failed: %s" % (name, spec["overlay"], hv.name, lv_message(exc)))
            self.created_overlays.append((hv, volume_name))
            created = True
            vm["overlay_made"] = True
        xml = render_xml(name, spec, uuid=vm.get("uuid"), overlay_created=created)
        try:
            dom = conn.defineXML(xml)
        except self.lv.libvirtError as exc:
            raise FarmError("%s: libvirt refused the domain on %s: %s" % (name, hv.name, lv_message(exc)))
        if vm["action"] == "create":
            self.created_domains.append(name)
        vm["dom"] = {"dom": dom}
        vm["uuid"] = dom.UUIDString()
        vm["mac"], vm["overlay"] = spec["mac"], spec["overlay"]
        vm["done"] = "created" if vm["action"] == "create" else "updated"

    def _delete_volume(self, hv, vol, name):
        try:
            vol.delete(0)
        except self.lv.libvirtError as exc:
            raise FarmError("%s: removing overlay on %s failed: %s" % (name, hv.name, lv_message(exc)))

    def _rollback(self):
        """Undefine the domains and delete the overlays this call created; what was removed."""
        rolled = []
        for name in reversed(self.created_domains):
            vm = self.plan.vms[name]
            try:
                vm["dom"]["dom"].undefine()
                rolled.append(name)
                vm["done"] = "rolled_back"
            except self.lv.libvirtError:
                pass
        for hv, volname in reversed(self.created_overlays):
            vol, dummy = hv.overlay(volname)
            if vol is not None:
                try:
                    vol.delete(0)
                    rolled.append(os.path.join(hv.pool_dir, volname))
                except self.lv.libvirtError:
                    pass
        return rolled

    # -- run states --
    def _domain_of(self, vm):
        """The VM's domain through this thread's connection."""
        hv = self.plan.by_name[vm["hypervisor"]]
        dom = vm["dom"]["dom"]
        conn = self.connections.get(hv)[0]
        return dom if conn is hv.conn else conn.lookupByUUIDString(dom.UUIDString())

    def _operate(self, vm):
        """Start, resume, suspend or restart one VM; its state after."""
        lv = self.lv
        dom = self._domain_of(vm)
        action = vm["state_action"]
        if action == "restart":
            if dom.isActive():
                dom.destroy()
            action = "start"
        if action == "resume":
            dom.resume()
        elif action == "suspend":
            dom.suspend()
        elif action == "start":
            if self.plan.state == "paused":
                try:
                    dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED)
                except lv.libvirtError as exc:
                    if exc.get_error_code() != lv.VIR_ERR_NO_SUPPORT and "unsupported" not in lv_message(exc):
                        raise
                    dom.create()     # the test driver cannot start paused
                    dom.suspend()
            else:
                dom.create()
        return STATE_NAMES.get(dom.state()[0])

    @staticmethod
    def _status_of(vm):
        return STATE_NAMES.get(vm["dom"]["dom"].state()[0])

    def _states(self):
        # a domain that differs (and is not updated) still gets the run state asked for
        jobs = [vm for vm in (self.plan.vms[n] for n in self.plan.names) if vm.get("state_action")]
        if not jobs:
            return
        state = self.plan.state
        scheduler = GradualScheduler(rate=self.params.get("start_rate") or 0, concurrency=self.params.get("concurrency") or 4,
                                     wait=False)
        results = scheduler.run(jobs, self._operate, self._status_of, "running" if state == "running" else "paused")
        failed = []
        for vm, res in zip(jobs, results):
            vm["run_state"] = res["status"]
            if res["ok"]:
                vm["state_done"] = vm["state_action"]
            else:
                vm["state_error"] = res["error"]
                failed.append("%s on %s: %s" % (vm["name"], vm["hypervisor"], res["error"]))
        if failed:
            raise self._error("%d of %d VMs did not reach state %s (they stay defined; a rerun retries): %s"
                              % (len(failed), len(jobs), state, "; ".join(failed)))

    # -- absent --
    def _remove(self):
        errors = []
        for name in self.plan.names:
            vm = self.plan.vms[name]
            if not vm["exists"]:
                continue
            hv = self.plan.by_name[vm["hypervisor"]]
            try:
                self._undefine(vm["dom"]["dom"])
            except self.lv.libvirtError as exc:
                errors.append("%s on %s: %s" % (name, hv.name, lv_message(exc)))
                continue
            vm["done"] = "removed"
            error = self._remove_overlay(hv, vm)
            if error:
                errors.append(error)
        if errors:
            raise self._error("removing failed for: %s. A rerun removes what is left." % "; ".join(errors))

    def _undefine(self, dom):
        if dom.isActive():
            dom.destroy()
        try:
            dom.undefineFlags(self.lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | self.lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | self.lv.VIR_DOMAIN_UNDEFINE_NVRAM)
        except self.lv.libvirtError:
            dom.undefine()

    def _remove_overlay(self, hv, vm):
        """Delete the VM's overlay when this module made it (never the backing file); an error or None."""
        overlay = vm["recorded"].get("overlay") or vm["overlay"]
        backing = vm["recorded"].get("backing_file")
        if not (vm["overlay_created"] and overlay and overlay != backing):
            return None
        hv.find_pool(make=True)
        vol, dummy = hv.overlay(os.path.basename(overlay))
        if vol is not None and os.path.normpath(vol.path()) == os.path.normpath(overlay):
            try:
                vol.delete(0)
                vm["overlay_removed"] = True
            except self.lv.libvirtError as exc:
                return "%s: overlay %s: %s" % (vm["name"], overlay, lv_message(exc))
        return None
