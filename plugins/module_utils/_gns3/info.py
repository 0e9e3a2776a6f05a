# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What gns3_project_info reports of a projects root read by the farm scan (farm.read_farm): the selected
projects described, the names asked for that no project has, the files that could not be read, and
every console port (in all, and per compute) and MAC in use under the root. Pure, standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import format_mac
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import (
    Gns3ProjectError, compute_usage, describe_project, summarise_nodes, used_by_project)


def farm_info(farm, names=None, pattern=None):
    """gns3_project_info's result for `farm` ([(path, Project or Gns3ProjectError)]): the projects whose
    name is in `names` (None: any) and matches the compiled regex `pattern` (None: any), sorted by name."""
    projects, unreadable, warnings = [], [], []
    ports, macs, by_compute = set(), set(), {}
    for path, project in farm:
        if isinstance(project, Gns3ProjectError):
            unreadable.append({"path": path, "error": str(project)})
            warnings.append(str(project))
            continue
        used_ports, used_macs, _app, _dyn = used_by_project(project)
        ports |= used_ports
        macs |= used_macs
        for compute_id, held in compute_usage(project)[0].items():
            by_compute.setdefault(compute_id, set()).update(held)
        projects.append(project)
    wanted = None if names is None else set(names)
    selected = [project for project in projects
                if (wanted is None or project.name in wanted) and (pattern is None or pattern.search(project.name))]
    selected.sort(key=lambda project: (project.name, project.directory))
    found = set(project.name for project in selected)
    described = []
    for project in selected:
        entry = describe_project(project)
        entry["summary"] = summarise_nodes(entry["nodes"])
        described.append(entry)
    return {
        "changed": False,
        "projects": described,
        "missing": [name for name in (names or []) if name not in found],
        "unreadable": unreadable,
        "used_console_ports": sorted(ports),
        "used_console_ports_by_compute": dict((str(compute_id), sorted(held)) for compute_id, held in by_compute.items()
                                              if held),
        "used_macs": [format_mac(mac) for mac in sorted(macs)],
        "warnings": warnings,
    }
