# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""gns3_project_reset's ``computes`` and ``compute_placement`` options, checked before any project is read:
each compute's id, address, capacity, node types and console ranges, and how nodes are placed over them.
Every failure is a Gns3ProjectError naming the compute, the key, the value and the fix. What is done with
them is computes.py's. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.project_options import port_range
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement_input import POLICIES

# The node types a compute runs when its entry does not say, by project file revision: what the compute's
# /capabilities answers on Linux (every module of compute/__init__.py MODULES, Docker and IOU included),
# which is also the node_type enum of the controller's schema. 2.2 (revision 9) still has TraceNG; 3.x
# (revision 10) dropped it.
NODE_TYPES = {
    9: ("cloud", "nat", "ethernet_hub", "ethernet_switch", "frame_relay_switch", "atm_switch", "docker", "dynamips",
        "vpcs", "traceng", "virtualbox", "vmware", "iou", "qemu"),
    10: ("cloud", "nat", "ethernet_hub", "ethernet_switch", "frame_relay_switch", "atm_switch", "docker", "dynamips",
         "vpcs", "virtualbox", "vmware", "iou", "qemu"),
}
ALL_NODE_TYPES = tuple(sorted(set(NODE_TYPES[9]) | set(NODE_TYPES[10])))
# GNS3's own computes: never written in a project's computes list (controller/topology.py skips them).
BUILTIN_COMPUTES = ("local", "vm")
PROTOCOLS = ("http", "https")
PER = ("clone", "node")
DEFAULT_POLICY = "even"
DEFAULT_FROM = ("local",)
DEFAULT_COMPUTE_PORT = 3080

Compute = namedtuple("Compute", "id host port protocol name capacity node_types console_range vnc_range weight")
ComputeSetup = namedtuple("ComputeSetup", "computes by_id per policy from_ids")


def _bad(where, key, value, expected, fix):
    return Gns3ProjectError("%s: %s must be %s, got %r. %s" % (where, key, expected, value, fix))


def _text(spec, key, where, default=None, required=False):
    value = spec.get(key)
    if value is None:
        if required:
            raise Gns3ProjectError("%s has no %s: give it (%s)" % (where, key, _FIXES[key]))
        return default
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, key, value, "a non-empty string", _FIXES[key])
    return value.strip()


_FIXES = {
    "id": "the compute_id the controller knows it by, as GET /v2/computes or /v3/computes lists it",
    "host": "the address the controller reaches the compute at, for example 10.0.0.11",
    "name": "the compute's name on the controller",
}


def _node_types(spec, where):
    value = spec.get("node_types")
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise _bad(where, "node_types", value, "a non-empty list of GNS3 node types",
                   "For example [vpcs, qemu]; leave it out for every type the GNS3 version runs.")
    unknown = [item for item in value if item not in ALL_NODE_TYPES]
    if unknown:
        raise Gns3ProjectError("%s: node_types %s: %s is not a GNS3 node type; the types are %s"
                               % (where, list(value), ", ".join(repr(item) for item in unknown), ", ".join(ALL_NODE_TYPES)))
    return frozenset(value)


def _one_compute(spec, index, console_range, vnc_range):
    where = "computes[%d]" % index
    if not isinstance(spec, dict):
        raise Gns3ProjectError("%s must be a mapping with at least id and host, got %s" % (where, type_name(spec)))
    compute_id = _text(spec, "id", where, required=True)
    where = "computes[%d] (%s)" % (index, compute_id)
    builtin = compute_id in BUILTIN_COMPUTES
    host = _text(spec, "host", where, required=not builtin)
    name = _text(spec, "name", where, default=compute_id)
    try:
        port = parse_whole(DEFAULT_COMPUTE_PORT if spec.get("port") is None else spec["port"], "%s: port" % where,
                           1, 65535, "Give the compute's API port (3080 by default).")
        capacity = spec.get("capacity")
        if capacity is not None:
            capacity = parse_whole(capacity, "%s: capacity" % where, 0, None,
                                   "Give how many nodes this compute may hold, or leave it out for no limit.")
    except ValueError as exc:
        raise Gns3ProjectError(str(exc))
    protocol = spec.get("protocol") or "http"
    if protocol not in PROTOCOLS:
        raise _bad(where, "protocol", protocol, "http or https", "As the controller reaches the compute.")
    weight = spec.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0):
        raise _bad(where, "weight", weight, "a number > 0", "Leave it out to weigh computes by capacity.")
    return Compute(
        compute_id, host, port, protocol, name, capacity, _node_types(spec, where),
        port_range(spec["console_port_range"], "%s: console_port_range" % where)
        if spec.get("console_port_range") is not None else console_range,
        port_range(spec["vnc_port_range"], "%s: vnc_port_range" % where)
        if spec.get("vnc_port_range") is not None else vnc_range,
        weight)


def _overlap(first, second):
    return first[0] <= second[1] and second[0] <= first[1]


def _check_hosts(computes, vnc_given):
    """Two computes on one address bind their consoles on one machine: their console ranges must not overlap,
    nor their VNC ranges when one of them sets its own (the default VNC range is shared by computes that run no
    VNC node)."""
    for index, first in enumerate(computes):
        for second in computes[index + 1:]:
            if first.host is None or first.host != second.host:
                continue
            kinds = ("console_range", "vnc_range") if vnc_given & set([first.id, second.id]) else ("console_range",)
            for kind in kinds:
                a, b = getattr(first, kind), getattr(second, kind)
                if _overlap(a, b):
                    raise Gns3ProjectError(
                        "computes %s and %s are both on host %s and their %s overlap (%d-%d and %d-%d): a port is bound "
                        "once per host, so give each compute its own range" % (
                            first.id, second.id, first.host, kind.replace("_range", "_port_range"), a[0], a[1], b[0], b[1]))


def compute_setup(computes, placement, console_range, vnc_range):
    """The checked ComputeSetup of the options, or None when no compute is given (nodes stay where they are
    and console ports are unique across the whole projects root, as before 0.2.0)."""
    if not computes:
        return None   # compute_placement is then ignored: a role may pass its defaults whatever the topology
    if isinstance(computes, (str, dict)) or not isinstance(computes, (list, tuple)):
        raise Gns3ProjectError("computes must be a list of mappings (id, host, port...), got %s" % type_name(computes))
    records, ids, names = [], {}, {}
    for index, spec in enumerate(computes):
        compute = _one_compute(spec, index, console_range, vnc_range)
        if compute.id in ids:
            raise Gns3ProjectError("computes[%d] and computes[%d] both have id %r: give each compute once"
                                   % (ids[compute.id], index, compute.id))
        if compute.name in names:
            raise Gns3ProjectError("computes[%d] and computes[%d] are both named %r: the controller refuses two computes "
                                   "of one name (409 Compute name already exists); give each its own name"
                                   % (names[compute.name], index, compute.name))
        ids[compute.id] = index
        names[compute.name] = index
        records.append(compute)
    _check_hosts(records, set(spec.get("id") for spec in computes if spec.get("vnc_port_range") is not None))
    placement = placement or {}
    if not isinstance(placement, dict):
        raise Gns3ProjectError("compute_placement must be a mapping (per, policy, from), got %s" % type_name(placement))
    per = placement.get("per") or "clone"
    if per not in PER:
        raise _bad("compute_placement", "per", per, "clone or node",
                   "clone puts every node of a clone on one compute, node spreads each clone's nodes.")
    policy = placement.get("policy") or DEFAULT_POLICY
    if policy not in POLICIES:
        raise _bad("compute_placement", "policy", policy, "one of %s" % ", ".join(POLICIES), "")
    from_ids = placement.get("from")
    if from_ids is None:
        from_ids = DEFAULT_FROM
    if isinstance(from_ids, str) or not isinstance(from_ids, (list, tuple)) or \
            not all(isinstance(item, str) and item for item in from_ids):
        raise _bad("compute_placement", "from", from_ids, "a list of compute ids",
                   "The nodes of the source on these computes are placed; [local] by default.")
    return ComputeSetup(tuple(records), dict((compute.id, compute) for compute in records), per, policy,
                        frozenset(from_ids))
