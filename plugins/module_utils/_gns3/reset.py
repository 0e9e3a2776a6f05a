# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One gns3_project_reset call: the owner resolved (project_options.py), the reset planned (plan.py),
its result, and the plans written (apply.py) unless in check mode or nothing changes. A run that writes
holds the farm lock of the projects root (farm_lock.py) from the farm scan to its last write. With the
``clone`` option, the call makes the projects' datasets first (clone_reset.py), and with ``clone.source``
finds the source and derives the clones' ids, paths and datasets itself (clone_source.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.apply import apply_reset
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.clone_reset import check_clone, clone_request, clone_then
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.clone_source import with_source
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm_lock import farm_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.plan import Request, plan_reset, reset_result
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.project_options import lock_timeout, resolve_owner


def run_reset(params, check_mode=False, zfs=None):
    """gns3_project_reset's result for ``params`` (its module.params). Raises Gns3ProjectError before
    anything is written when an input or a project is refused, and with the result when a write fails.
    ``zfs``: a ZfsCli, for the ``clone`` option (clone_reset.py)."""
    uid = resolve_owner(params["owner"], "owner")
    gid = resolve_owner(params["group"], "group")
    timeout = lock_timeout(params.get("lock_timeout"))
    params, source = with_source(params)
    clone = clone_request(params)
    if check_mode:   # reads only: no lock, and no lock file made in the root
        result = _plan(params, uid, gid, params.get("plan_from"))[0]
        if clone:
            result["clone"] = check_clone(clone, zfs)
        return _returned(result, params, source)

    def plan_and_write():
        result, plans = _plan(params, uid, gid)
        if result["changed"]:
            apply_reset(plans, result, owner_uid=uid, owner_gid=gid)
        return result

    with farm_lock(params["projects_root"], timeout):
        if clone:
            result = clone_then(clone, zfs, lambda: _plan(params, uid, gid, params["plan_from"]), plan_and_write,
                                [item["path"] for item in params["projects"]], timeout)
        else:
            result = plan_and_write()
    return _returned(result, params, source)


def _returned(result, params, source=None):
    """The result as asked: without each project's nodes when return_nodes is false (a caller that only
    wants the verdict: the nodes of 100 clones of a 32-node project are 0.7 MB that Ansible then walks),
    and with the source that clone.source found."""
    if params.get("return_nodes", True) is False:
        for project in result["projects"]:
            project.pop("nodes", None)
    if source:
        result["source"] = source.result()
    return result


def _plan(params, uid, gid, plan_from=None):
    requests = [Request(item["path"], item["name"], item["project_id"]) for item in params["projects"]]
    plans, warnings = plan_reset(
        requests, projects_root=params["projects_root"], console_port_range=params["console_port_range"],
        vnc_port_range=params["vnc_port_range"], mac_prefix=params["mac_prefix"],
        used_console_ports=params["used_console_ports"], used_macs=params["used_macs"],
        snapshots=params["snapshots"], owner_uid=uid, owner_gid=gid, plan_from=plan_from,
        computes=params.get("computes"), compute_placement=params.get("compute_placement"))
    return reset_result(plans, warnings), plans
