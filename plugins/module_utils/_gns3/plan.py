# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The plan of a reset: what each copy of a project gets so that it loads on the same GNS3 servers as
its source and as every other copy.

GNS3 keys projects by project_id and name, the compute keys nodes by node_id across projects, and
console ports and MAC addresses must not collide on the farm (GNS3 silently reassigns conflicting
ports and accepts duplicate MACs). plan_reset checks every input and project and decides every new
value before anything is written (apply.py writes), in five steps:

1. the options (project_options.reset_options);
2. the batch: every project loads, and names, ids and paths are distinct (plan_batch);
3. the farm: every other project under projects_root reserves its ports, MACs and ids (farm_reservations);
4. with computes, the compute of each node (computes.place_nodes);
5. the keep pass: a project we already reset keeps every value that is still free (keep_pass);
6. the fresh pass: everything else gets fresh values, in batch and file order (fresh_pass);

then build writes the new topology of each project in memory. Projects are read by disk.py and
farm.py; the steps themselves are pure. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from collections import namedtuple

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import format_dotted_mac, format_mac
from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import parallel_map
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import (
    DYNAMIPS_ID_RANGE, IOU_APPLICATION_ID_RANGE, IdAllocator, MacAllocator, PortPools, derive_id, derive_project_id)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.compute_options import compute_setup
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.computes import (
    compute_report, computes_list, original_compute, place_nodes)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.disk import (
    IO_WORKERS, load_planned_copy, load_target, ownership_changes)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm import read_farm
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import (
    DYNAMIPS_MAC_BLOCK, MARKER_FORMAT, Gns3ProjectError, Project, adapter_count, compute_usage, describe_project,
    node_application_id, node_consoles, node_dynamips_id, node_macs, stores_mac, summarise_topology_nodes, used_by_project,
    vpcs_warning)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.project_options import (
    DEFAULT_CONSOLE_RANGE, DEFAULT_MAC_PREFIX, DEFAULT_VNC_RANGE, check_project_id, reset_options)

Allocators = namedtuple("Allocators", "ports macs app_ids dyn_ids")


class Placement:
    """Where each node of the batch runs: {(id(plan), node_id): compute_id} (empty without computes), and the
    console pool and ranges that follow from it. Without computes every node draws from one pool (key None)
    and the module's ranges; with computes, from the pool of its compute and that compute's ranges."""

    def __init__(self, options, setup=None, computes=None):
        self.options = options
        self.setup = setup
        self.computes = computes or {}

    def compute_of(self, plan, node):
        return self.computes.get((id(plan), node["node_id"]), node.get("compute_id"))

    def pool_key(self, plan, node):
        return self.compute_of(plan, node) if self.setup else None

    def bounds(self, plan, node, kind):
        compute = self.setup.by_id.get(self.compute_of(plan, node)) if self.setup else None
        source = compute or self.options
        return source.vnc_range if kind == "vnc" else source.console_range


class Request:
    """One project of the batch, as the user asked for it."""

    def __init__(self, path, name, project_id=None):
        self.path = path
        self.name = name
        self.project_id = project_id


class Plan:
    """What the reset of one project will write."""

    def __init__(self, project, request):
        self.project = project
        self.request = request
        self.source_project_id = None
        self.source_name = None
        self.old_node_ids = {}       # current node_id -> id in the source
        self.new_data = None
        self.renames = []            # (from dir, to dir)
        self.file_renames = []       # dynamips files named after dynamips_id
        self.drop_snapshots = False
        self.chown = []              # paths whose owner/group change
        self.marker = None
        self.new_project_id = None
        self.already = None          # our marker, when this directory is one we reset before
        self.changes = {}
        self.changed = False
        self.compute_setup = None    # compute_options.ComputeSetup of the batch, None without computes


def plan_reset(requests, projects_root=None, console_port_range=DEFAULT_CONSOLE_RANGE,
               vnc_port_range=DEFAULT_VNC_RANGE, mac_prefix=DEFAULT_MAC_PREFIX, used_console_ports=(),
               used_macs=(), snapshots="drop", owner_uid=None, owner_gid=None, plan_from=None, computes=None,
               compute_placement=None):
    """Check every input and project, then decide every new value. Returns (plans, warnings).
    Raises Gns3ProjectError before anything is written. With `plan_from` (a project), a request whose
    path does not exist yet is planned as the copy of that project it will be (disk.load_planned_copy):
    the whole batch is decided before its copies are made. With `computes` (and `compute_placement`),
    nodes are placed on computes and console ports are unique per compute (computes.py)."""
    options = reset_options(console_port_range, vnc_port_range, mac_prefix, used_console_ports, used_macs, snapshots)
    setup = compute_setup(computes, compute_placement, options.console_range, options.vnc_range)
    check_names(requests)
    plans = plan_batch(requests, parallel_map(_loader(plan_from), [request.path for request in requests], IO_WORKERS))
    allocators, farm_load = farm_reservations(plans, projects_root, options, setup)
    placement = Placement(options, setup, place_nodes(plans, setup, farm_load, dict(
        (c.id, allocators.ports.pool(c.id).free_count(c.console_range)) for c in setup.computes)) if setup else None)
    kept = keep_pass(plans, placement, allocators)
    chosen = fresh_pass(plans, placement, allocators, kept)
    for plan in plans:
        chown = []
        if owner_uid is not None or owner_gid is not None:
            chown = ownership_changes(plan.project.directory, owner_uid, owner_gid)
        build(plan, chosen, options.snapshots, chown, placement)
        plan.compute_setup = setup
    warning = vpcs_warning([plan.project for plan in plans])
    return plans, [warning] if warning else []


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------

def _loader(plan_from):
    if not plan_from:
        return load_target

    def load(path):
        return load_target(path) if os.path.exists(path) else load_planned_copy(path, plan_from)
    return load


def check_names(requests):
    for index, request in enumerate(requests):
        if not request.name or not isinstance(request.name, str):
            raise Gns3ProjectError("projects[%d] (%s) has no name: give each clone its project name"
                                   % (index, request.path))


def reset_already(project):
    """The project's marker, if this very directory was reset by us and not replaced since."""
    marker = project.marker
    if not marker or marker.get("project_id") != project.project_id:
        return None
    if not project.marker_here:
        return None   # a copy of a project we reset (a clone of a clone): a new target
    return marker


def plan_batch(requests, projects):
    """One Plan per request, with its source and new project id; every name, id and path distinct."""
    plans, seen_paths, seen_names, seen_ids = [], {}, {}, {}
    for index, (request, project) in enumerate(zip(requests, projects)):
        if project.real_file in seen_paths:
            raise Gns3ProjectError("projects[%d] and projects[%d] are the same project %s: give each clone its own directory"
                                   % (seen_paths[project.real_file], index, project.directory))
        seen_paths[project.real_file] = index
        if request.name in seen_names:
            raise Gns3ProjectError("projects[%d] and projects[%d] are both named %r: GNS3 refuses two projects of the "
                                   "same name (409), give each clone its own name"
                                   % (seen_names[request.name], index, request.name))
        seen_names[request.name] = index
        plan = Plan(project, request)
        marker = plan.already = reset_already(project)
        if marker:
            plan.source_project_id = marker["source_project_id"]
            plan.source_name = marker.get("source_name")
            plan.old_node_ids = dict(marker.get("node_ids", {}))
        else:
            plan.source_project_id = project.project_id
            plan.source_name = project.name
            plan.old_node_ids = dict((node["node_id"], node["node_id"]) for node in project.nodes)
        if request.project_id:
            new_id = check_project_id(request.project_id, index)
        else:
            new_id = derive_project_id(plan.source_project_id, request.name)
        if new_id == plan.source_project_id:
            raise Gns3ProjectError("projects[%d].project_id %s is the source's own id: GNS3 would hand back the source "
                                   "instead of loading the clone" % (index, new_id))
        if new_id in seen_ids:
            raise Gns3ProjectError("projects[%d] and projects[%d] would both get project_id %s: give distinct ids"
                                   % (seen_ids[new_id], index, new_id))
        seen_ids[new_id] = index
        plan.new_project_id = new_id
        plans.append(plan)
    return plans


# ---------------------------------------------------------------------------------------------
# The farm
# ---------------------------------------------------------------------------------------------

def farm_reservations(plans, projects_root, options, setup=None):
    """(Allocators, {compute_id: nodes}): allocators that know every port, MAC and id in use, the options'
    reservations and every other project under projects_root, none of which may share a clone's name or
    project_id; and how many nodes those projects put on each compute.

    Console ports are counted per compute when computes are given (GNS3 reserves them per compute), else
    across the root. MACs, dynamips_id and IOU application_id stay unique across the root either way:
    GNS3 checks no MAC at all and links between computes (UDP tunnels), clouds and NAT put clones of
    several computes on one segment; dynamips ids are per project and compute (compute/dynamips
    get_dynamips_id) and IOU application ids per compute across the controller's opened projects
    (utils/application_id.py), so unique across the root is stricter than GNS3 and always safe."""
    ports, macs, app_ids, dyn_ids = {}, set(options.used_macs), set(), set()
    load = {}
    names, ids = {}, {}
    if projects_root:
        targets = set(plan.project.real_directory for plan in plans)
        for _path, other in read_farm(projects_root, targets):
            if isinstance(other, Gns3ProjectError):
                raise Gns3ProjectError("%s; it is under projects_root %s, whose projects all count when choosing "
                                       "free ports and MACs: repair it or move it out" % (other, projects_root))
            used = used_by_project(other)
            by_compute, counts = compute_usage(other)
            for compute_id, held in by_compute.items():
                ports.setdefault(compute_id if setup else None, set()).update(held)
            for compute_id, count in counts.items():
                load[compute_id] = load.get(compute_id, 0) + count
            macs |= used[1]
            app_ids |= used[2]
            dyn_ids |= used[3]
            names.setdefault(other.name, other.topology_file)
            ids.setdefault(other.project_id, other.topology_file)
    for plan in plans:
        if plan.request.name in names:
            raise Gns3ProjectError("name %r is already used by %s: GNS3 refuses two projects of the same name (409); "
                                   "choose another clone name" % (plan.request.name, names[plan.request.name]))
        if plan.new_project_id in ids:
            raise Gns3ProjectError("project_id %s for %s is already used by %s: give another project_id or name"
                                   % (plan.new_project_id, plan.project.directory, ids[plan.new_project_id]))
    return Allocators(PortPools(options.used_ports, ports),
                      MacAllocator(options.mac_prefix.base, options.mac_prefix.free_bits, macs),
                      IdAllocator(IOU_APPLICATION_ID_RANGE, app_ids), IdAllocator(DYNAMIPS_ID_RANGE, dyn_ids)), load


# ---------------------------------------------------------------------------------------------
# The two passes
# ---------------------------------------------------------------------------------------------

def keep_pass(plans, placement, allocators):
    """{(id(plan), node_id): {field: value}} of what each node of a project we already reset keeps:
    every value still free and in range (an idempotent rerun keeps them all)."""
    kept = {}
    for plan in plans:
        if not plan.already or plan.new_project_id != plan.project.project_id:
            continue
        for node in plan.project.nodes:
            keep = {}
            pool = allocators.ports.pool(placement.pool_key(plan, node))
            for field, port, kind in node_consoles(node):
                bounds = placement.bounds(plan, node, kind)
                if bounds[0] <= port <= bounds[1] and pool.claim(port):
                    keep[field] = port
            base, _adapters, block = node_macs(node)
            if stores_mac(node) and base is not None and allocators.macs.covers(base) \
                    and allocators.macs.claim(base, block):
                keep["mac"] = base
            if node.get("node_type") == "iou" and node_application_id(node) is not None \
                    and allocators.app_ids.claim(node_application_id(node)):
                keep["application_id"] = node_application_id(node)
            if node.get("node_type") == "dynamips" and node_dynamips_id(node) is not None \
                    and allocators.dyn_ids.claim(node_dynamips_id(node)):
                keep["dynamips_id"] = node_dynamips_id(node)
            kept[(id(plan), node["node_id"])] = keep
    return kept


def _fresh_mac(node, plan, options, allocators):
    dynamips = node.get("node_type") == "dynamips"
    block = DYNAMIPS_MAC_BLOCK if dynamips else adapter_count(node)
    base = allocators.macs.allocate(block, DYNAMIPS_MAC_BLOCK if dynamips else 1)
    if base is None:
        raise Gns3ProjectError("mac_prefix %s has no free block of %d addresses left for node %s of %s: use a shorter "
                               "prefix" % (options.mac_prefix.text, block, node.get("name"), plan.request.name))
    return base


def fresh_pass(plans, placement, allocators, kept):
    """{(id(plan), node_id): {field: value}}: what each node keeps, and a fresh value for everything else.
    Raises when a range is exhausted, with how many ports the batch needs."""
    options = placement.options
    shortage, needed = {}, {}   # (pool key, kind): ports missing, ports asked
    chosen = {}
    for plan in plans:
        for node in plan.project.nodes:
            key = (id(plan), node["node_id"])
            values = dict(kept.get(key, {}))
            pool_key = placement.pool_key(plan, node)
            for field, _port, kind in node_consoles(node):
                if field in values:
                    continue
                needed[(pool_key, kind)] = needed.get((pool_key, kind), 0) + 1
                port = allocators.ports.pool(pool_key).allocate(placement.bounds(plan, node, kind))
                if port is None:
                    shortage[(pool_key, kind)] = shortage.get((pool_key, kind), 0) + 1
                values[field] = port
            if stores_mac(node) and "mac" not in values:
                values["mac"] = _fresh_mac(node, plan, options, allocators)
            if node.get("node_type") == "iou" and node_application_id(node) is not None and "application_id" not in values:
                values["application_id"] = allocators.app_ids.allocate()
                if values["application_id"] is None:
                    raise Gns3ProjectError("no free IOU application_id (1-512 per compute) is left for node %s of %s: "
                                           "the farm holds too many IOU nodes for one server" % (node.get("name"), plan.request.name))
            if node.get("node_type") == "dynamips" and node_dynamips_id(node) is not None and "dynamips_id" not in values:
                values["dynamips_id"] = allocators.dyn_ids.allocate()
                if values["dynamips_id"] is None:
                    raise Gns3ProjectError("no free dynamips_id (1-4096) is left for node %s of %s"
                                           % (node.get("name"), plan.request.name))
            chosen[key] = values
    for (pool_key, kind), missing in sorted(shortage.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        option = "vnc_port_range" if kind == "vnc" else "console_port_range"
        asked = needed[(pool_key, kind)]
        if placement.setup is None:
            bounds = options.vnc_range if kind == "vnc" else options.console_range
            raise Gns3ProjectError(
                "%s %d-%d is exhausted: the batch needs %d new %s ports and only %d are free (after every project under "
                "projects_root and used_console_ports); nothing was written. Widen %s or reset fewer projects"
                % (option, bounds[0], bounds[1], asked, kind, asked - missing, option))
        compute = placement.setup.by_id.get(pool_key)
        source = compute or options
        bounds = source.vnc_range if kind == "vnc" else source.console_range
        raise Gns3ProjectError(
            "compute %s has no room for its share: its %s %d-%d is exhausted, the nodes placed on it need %d new %s "
            "ports and only %d are free (after every project under projects_root on that compute and "
            "used_console_ports); nothing was written. Widen %s, give that compute a lower capacity so that "
            "fewer nodes go there, add computes, or reset fewer projects" % (
                pool_key, option, bounds[0], bounds[1], asked, kind, asked - missing,
                "computes[].%s of %s" % (option, pool_key) if compute else option))
    return chosen


# ---------------------------------------------------------------------------------------------
# The new topology of one project
# ---------------------------------------------------------------------------------------------

def _set_consoles(node, old_node, values):
    props = node.get("properties")
    for field, _port, _kind in node_consoles(old_node):
        port = values[field]
        if field == "console":
            node["console"] = port
            if isinstance(props, dict) and isinstance(props.get("console"), int):
                props["console"] = port
        elif "aux" in node and node.get("aux") is not None:
            node["aux"] = port
            if isinstance(props, dict) and isinstance(props.get("aux"), int):
                props["aux"] = port
        elif isinstance(props, dict):
            props["aux"] = port


def _set_mac(node, base):
    props = node.get("properties")
    if not isinstance(props, dict):
        props = node["properties"] = {}
    if node.get("node_type") == "dynamips":
        props["mac_addr"] = format_dotted_mac(base)
    else:
        props["mac_address"] = format_mac(base)
    for adapter in node.get("custom_adapters") or []:
        if isinstance(adapter, dict) and adapter.get("mac_address") and isinstance(adapter.get("adapter_number"), int):
            adapter["mac_address"] = format_mac(base + adapter["adapter_number"])


def _set_ids(plan, node, old_node, values):
    props = node.get("properties")
    if "application_id" in values:
        if "application_id" in node:
            node["application_id"] = values["application_id"]
        if isinstance(props, dict) and "application_id" in props:
            props["application_id"] = values["application_id"]
    if "dynamips_id" in values:
        old_dyn = node_dynamips_id(old_node)
        if isinstance(props, dict) and "dynamips_id" in props:
            props["dynamips_id"] = values["dynamips_id"]
        if "dynamips_id" in node:
            node["dynamips_id"] = values["dynamips_id"]
        if old_dyn != values["dynamips_id"]:
            plan.file_renames.append((node["node_id"], old_dyn, values["dynamips_id"]))


def build(plan, chosen, snapshots, chown=(), placement=None):
    """Write the new topology of one project in memory and list its file system changes; `chown` are
    the paths whose owner or group change (disk.ownership_changes), `placement` where each node runs."""
    project = plan.project
    data = json.loads(json.dumps(project.data))   # deep copy, JSON types only
    new_pid = plan.new_project_id
    data["project_id"] = new_pid
    data["name"] = plan.request.name
    node_map = {}
    reverse_old = {}
    for node in data["topology"]["nodes"]:
        current = node["node_id"]
        original = plan.old_node_ids.get(current, current)
        new_id = derive_id(new_pid, original)
        node_map[current] = new_id
        reverse_old[new_id] = original
    moved = {}   # new node_id: compute in the source, for the nodes a reset moved
    for node, old_node in zip(data["topology"]["nodes"], project.nodes):
        values = chosen[(id(plan), old_node["node_id"])]
        node["node_id"] = node_map[old_node["node_id"]]
        _set_consoles(node, old_node, values)
        if "mac" in values:
            _set_mac(node, values["mac"])
        _set_ids(plan, node, old_node, values)
        compute_id = placement.compute_of(plan, old_node) if placement else old_node.get("compute_id")
        if "compute_id" in old_node or compute_id is not None:
            node["compute_id"] = compute_id   # moves only when placed (computes.place_nodes)
        if compute_id != original_compute(plan, old_node):
            moved[node["node_id"]] = original_compute(plan, old_node)
    if placement and placement.setup:
        data["topology"]["computes"] = computes_list(data["topology"].get("computes", []),
                                                     set(node.get("compute_id") for node in data["topology"]["nodes"]),
                                                     placement.setup)
    for link in data["topology"].get("links", []):
        if link.get("link_id"):
            link["link_id"] = derive_id(new_pid, _original_id(plan, link["link_id"], "links"))
        for end in link.get("nodes", []):
            if isinstance(end, dict) and end.get("node_id") in node_map:
                end["node_id"] = node_map[end["node_id"]]
    for drawing in data["topology"].get("drawings", []):
        if drawing.get("drawing_id"):
            drawing["drawing_id"] = derive_id(new_pid, _original_id(plan, drawing["drawing_id"], "drawings"))
    plan.new_data = data

    # Node directories: project-files/<any type>/<node_id>/ follow their node.
    files_dir = os.path.join(project.directory, "project-files")
    for kind, entries in sorted(project.node_dirs.items()):
        kind_dir = os.path.join(files_dir, kind)
        for current in sorted(entries & set(node_map)):
            if current != node_map[current]:
                plan.renames.append((os.path.join(kind_dir, current), os.path.join(kind_dir, node_map[current])))
    plan.drop_snapshots = snapshots == "drop" and project.has_snapshots

    # What links and drawings were in the source, so a rerun under another name derives from them.
    plan.marker = {
        "format": MARKER_FORMAT,
        "reset_by": "labfarm.massclone.gns3_project_reset",
        "path": project.real_directory,
        "project_id": new_pid,
        "name": plan.request.name,
        "source_project_id": plan.source_project_id,
        "source_name": plan.source_name,
        "node_ids": reverse_old,
        "link_ids": dict(_pairs(plan, "links", data, project)),
        "drawing_ids": dict(_pairs(plan, "drawings", data, project)),
    }
    if moved:
        plan.marker["compute_ids"] = moved
    plan.chown = list(chown)

    plan.changes = {"before": _short(project, project.data), "after": _short(project, data)}
    plan.changed = bool(data != project.data or plan.renames or plan.file_renames or plan.drop_snapshots
                        or plan.chown or project.marker != plan.marker)


def _original_id(plan, current, kind):
    marker = plan.already
    if marker:
        return marker.get(kind[:-1] + "_ids", {}).get(current, current)
    return current


def _pairs(plan, kind, data, project):
    key = "link_id" if kind == "links" else "drawing_id"
    for new_item, old_item in zip(data["topology"].get(kind, []), project.data["topology"].get(kind, [])):
        if new_item.get(key):
            yield new_item[key], _original_id(plan, old_item[key], kind)


def _short(project, data):
    """The diff's one-line view of a project's file: its id, name, folded consoles and MACs, nodes per compute."""
    view = Project(project.directory, project.topology_file, data, None)
    return dict(summarise_topology_nodes(view.nodes), project_id=view.project_id, name=view.name)


# ---------------------------------------------------------------------------------------------
# What the module returns
# ---------------------------------------------------------------------------------------------

def result_of(plan):
    """The module's view of one project after (or, in check mode, as of) the reset."""
    project = Project(plan.project.directory, plan.project.topology_file, plan.new_data, plan.marker)
    described = describe_project(project)
    described["changed"] = plan.changed
    described["source_project_id"] = plan.source_project_id
    described["summary"] = dict((key, plan.changes["after"][key]) for key in ("consoles", "macs", "computes"))
    return described


def reset_result(plans, warnings):
    """gns3_project_reset's result: changed, one entry per project, the diff of the changed ones, warnings,
    and with computes what each compute runs."""
    setup = plans[0].compute_setup if plans else None
    changed_plans = [plan for plan in plans if plan.changed]
    projects = [result_of(plan) for plan in plans]
    return {
        "changed": bool(changed_plans),
        "projects": projects,
        "computes": compute_report(projects, setup) if setup else [],
        "diff": {
            "before": dict((plan.project.directory, plan.changes["before"]) for plan in changed_plans),
            "after": dict((plan.project.directory, plan.changes["after"]) for plan in changed_plans),
        },
        "warnings": list(warnings),
    }
