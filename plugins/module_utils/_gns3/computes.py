# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Which compute runs each node of a reset batch (GNS3's own farm: one controller, remote computes), the
checks GNS3 would otherwise fail on when the project opens, and the ``computes`` list of each project file.

The nodes placed are those whose compute in the source is one of compute_placement's ``from`` ids (local by
default); every other node keeps its compute_id. Placement is _ranges.placement's: a compute is a host whose
``memory_mb`` stands for its capacity in nodes (a clone of 30 nodes needs 30) and whose ``vcpus`` stands for
the free ports of its console range (a clone needs one per console and aux port), so that no compute is given
more nodes than it may hold nor more consoles than its range has; the nodes that other projects under the root
already put there count as used, and their ports are not free. A project we reset before keeps the computes it
has while they are still listed, run its node types and have room, so a rerun moves nothing.

Pure, standard library only. The options are compute_options.py's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import fold_numbers
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.compute_options import (
    ALL_NODE_TYPES, BUILTIN_COMPUTES, NODE_TYPES)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import UUID_RE, Gns3ProjectError, node_consoles
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import PlacementError, place

# The keys GNS3 2.2 and 3.0 write for a compute in a project file (Compute.__json__ / asdict(topology_dump=True)).
FILE_KEYS = ("compute_id", "host", "name", "port", "protocol")


def node_types_of(compute, revision):
    """The node types `compute` runs: its own list, else what its GNS3 version runs (the file's revision)."""
    return compute.node_types or frozenset(NODE_TYPES.get(revision, ALL_NODE_TYPES))


def original_compute(plan, node):
    """The compute the node had in the source: our marker remembers it for a node a reset moved."""
    marker = plan.already or {}
    return (marker.get("compute_ids") or {}).get(node["node_id"], node.get("compute_id"))


def _label(plan, node):
    return "node %s (%s) of %s" % (node.get("name"), node.get("node_type"), plan.request.name)


def _ran_by(setup, revision):
    return "; ".join("%s runs %s" % (c.id, ", ".join(sorted(node_types_of(c, revision)))) for c in setup.computes)


def console_need(nodes):
    """How many ports of the console range (telnet consoles and aux; VNC has its own range) the nodes hold."""
    return sum(1 for node in nodes for _field, _port, kind in node_consoles(node) if kind == "console")


class _Load:
    """What each compute holds so far: nodes (farm and batch), and console ports taken by the batch."""

    def __init__(self, farm_load):
        self.nodes = dict(farm_load)
        self.ports = {}

    def add(self, compute_id, nodes):
        self.nodes[compute_id] = self.nodes.get(compute_id, 0) + len(nodes)
        self.ports[compute_id] = self.ports.get(compute_id, 0) + console_need(nodes)


class _Item:
    """What placement moves as one: a clone's placed nodes (per clone) or one node (per node)."""

    def __init__(self, plan, nodes):
        self.plan = plan
        self.nodes = nodes
        self.types = frozenset(node.get("node_type") for node in nodes)
        self.ports = console_need(nodes)

    def label(self):
        if len(self.nodes) == 1:
            return _label(self.plan, self.nodes[0])
        return "the %d nodes of %s (%s)" % (len(self.nodes), self.plan.request.name, ", ".join(sorted(self.types)))


def place_nodes(plans, setup, farm_load, free_ports):
    """{(id(plan), node_id): compute_id} for every node of the batch (node_id as in the file now). `farm_load`
    is {compute_id: nodes} of the other projects under the root, `free_ports` {compute_id: ports of its console
    range that no other project and no reservation holds}. Gns3ProjectError before anything is written for a
    node no listed compute runs, a compute without room for its share, or a compute the controller would not
    know."""
    _check_ids(plans, setup)
    chosen, items = {}, []
    load = _Load(farm_load)
    for plan in plans:
        movable = []
        for node in plan.project.nodes:
            if original_compute(plan, node) in setup.from_ids:
                movable.append(node)
            else:
                chosen[(id(plan), node["node_id"])] = node.get("compute_id")
                load.add(node.get("compute_id"), [node])
        if setup.per == "clone" and movable:
            items.append(_Item(plan, movable))
        else:
            items.extend(_Item(plan, [node]) for node in movable)
    _check_staying(plans, setup, chosen)
    left = [item for item in items if not _keep(item, setup, load, chosen, free_ports)]
    groups = []
    for item in left:
        revision = item.plan.project.data.get("revision")
        eligible = tuple(c.id for c in setup.computes if item.types <= node_types_of(c, revision))
        if not eligible:
            raise Gns3ProjectError(
                "%s cannot run on any compute of computes (%s): add the missing type to the node_types of a compute "
                "that runs it, or keep these nodes where they are by leaving their compute out of "
                "compute_placement.from" % (item.label(), _ran_by(setup, revision)))
        for group in groups:
            if group[0] == eligible:
                group[1].append(item)
                break
        else:
            groups.append((eligible, [item]))
    for eligible, group in groups:
        _place_group(group, [setup.by_id[cid] for cid in eligible], setup, load, chosen, free_ports)
    return chosen


def _check_ids(plans, setup):
    """GNS3 3.x keys computes by UUID: its controller database refuses any other compute_id (500, "badly formed
    hexadecimal UUID string"), so a 3.x project cannot name one; 2.2 takes any string."""
    for plan in plans:
        if plan.project.data.get("revision", 0) < 10:
            continue
        for compute in setup.computes:
            if compute.id not in BUILTIN_COMPUTES and not UUID_RE.match(compute.id):
                raise Gns3ProjectError(
                    "computes id %r is not a UUID, and %s is a GNS3 3.x project (revision %s), whose controller keys "
                    "computes by UUID: give the compute_id GET /v3/computes lists for that compute"
                    % (compute.id, plan.request.name, plan.project.data.get("revision")))


def _keep(item, setup, load, chosen, free_ports):
    """A project we reset keeps the compute its placed nodes are on when that compute still fits them."""
    if not item.plan.already:
        return False
    current = set(node.get("compute_id") for node in item.nodes)
    if len(current) != 1:
        return False
    compute = setup.by_id.get(current.pop())
    revision = item.plan.project.data.get("revision")
    if compute is None or not item.types <= node_types_of(compute, revision):
        return False
    if compute.capacity is not None and load.nodes.get(compute.id, 0) + len(item.nodes) > compute.capacity:
        return False
    if load.ports.get(compute.id, 0) + item.ports > free_ports[compute.id]:
        return False
    load.add(compute.id, item.nodes)
    for node in item.nodes:
        chosen[(id(item.plan), node["node_id"])] = compute.id
    return True


def _place_group(group, computes, setup, load, chosen, free_ports):
    hosts = [{"name": c.id, "memory_mb": c.capacity, "used_memory_mb": load.nodes.get(c.id, 0),
              "vcpus": free_ports[c.id], "used_vcpus": load.ports.get(c.id, 0), "weight": c.weight}
             for c in computes]
    wanted = [{"name": str(index), "memory_mb": len(item.nodes), "vcpus": item.ports} for index, item in enumerate(group)]
    try:
        placed = place(wanted, hosts, setup.policy)
    except PlacementError:
        free = ", ".join("%s %s, %d of %d free console ports taken" % (
            c.id, "unlimited" if c.capacity is None else "capacity %d, %d used" % (c.capacity, load.nodes.get(c.id, 0)),
            load.ports.get(c.id, 0), free_ports[c.id]) for c in computes)
        raise Gns3ProjectError(
            "the computes that run %s have no room for the batch: it places %d nodes with %d console ports (%s), and "
            "%s (used: nodes of the other projects under projects_root and of this batch). Nothing was written. Raise "
            "their capacity or widen their console_port_range, add computes, or reset fewer projects" % (
                ", ".join(sorted(set(t for item in group for t in item.types))),
                sum(len(item.nodes) for item in group), sum(item.ports for item in group),
                "per %s" % setup.per, free))
    for (index, compute_id) in placed:
        item = group[int(index)]
        load.add(compute_id, item.nodes)
        for node in item.nodes:
            chosen[(id(item.plan), node["node_id"])] = compute_id


def _check_staying(plans, setup, chosen):
    """Nodes that keep their compute: a listed compute must run them, and the controller must know the compute
    (GNS3, else, fails to open the project: "Compute ID ... doesn't exist")."""
    for plan in plans:
        known = set(BUILTIN_COMPUTES) | set(setup.by_id)
        known.update(entry.get("compute_id") for entry in plan.project.data["topology"].get("computes", [])
                     if isinstance(entry, dict))
        revision = plan.project.data.get("revision")
        for node in plan.project.nodes:
            key = (id(plan), node["node_id"])
            if key not in chosen:
                continue   # placed below
            compute_id = chosen[key]
            if compute_id not in known:
                raise Gns3ProjectError(
                    "%s is on compute %r, which neither computes nor the project's own computes list holds, so the "
                    "controller would not know it: add it to computes (id, host, port), or add %r to "
                    "compute_placement.from to place these nodes" % (_label(plan, node), compute_id, compute_id))
            compute = setup.by_id.get(compute_id)
            if compute is not None and node.get("node_type") not in node_types_of(compute, revision):
                raise Gns3ProjectError(
                    "%s is on compute %s, whose node_types (%s) do not hold %s: add it to that compute's node_types "
                    "or move the node" % (_label(plan, node), compute_id, ", ".join(sorted(node_types_of(compute, revision))),
                                          node.get("node_type")))


def file_entry(compute):
    """A compute as GNS3 writes it in a project file's topology.computes."""
    return {"compute_id": compute.id, "host": compute.host, "name": compute.name, "port": compute.port,
            "protocol": compute.protocol}


def computes_list(existing, used_ids, setup):
    """A project's new topology.computes: the entries of computes it does not list, as they are, then every
    listed compute a node of the project runs on (GNS3 leaves local and vm out; so do we)."""
    kept = [entry for entry in existing if not (isinstance(entry, dict) and entry.get("compute_id") in setup.by_id)]
    return kept + [file_entry(c) for c in setup.computes if c.id in used_ids and c.id not in BUILTIN_COMPUTES]


def compute_report(projects, setup):
    """gns3_project_reset's ``computes``: per listed compute, the projects and nodes of the batch it runs and their
    console ports (from the described projects)."""
    report = []
    for compute in setup.computes:
        nodes = [(project["name"], node) for project in projects for node in project["nodes"]
                 if node["compute_id"] == compute.id]
        report.append({
            "id": compute.id, "name": compute.name, "host": compute.host, "port": compute.port,
            "protocol": compute.protocol, "capacity": compute.capacity,
            "projects": len(set(name for name, _node in nodes)), "nodes": len(nodes),
            "consoles": fold_numbers([port for _name, node in nodes for port in (node["console"], node["aux"])
                                      if port is not None]),
        })
    return report
