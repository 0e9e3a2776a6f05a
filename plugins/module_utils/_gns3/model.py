# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The GNS3 project model: a project as read from its .gns3 file, the checks that refuse what is not a
project file of a known revision, and what each node holds (consoles, MACs, dynamips and IOU ids) as
GNS3 computes it from the file.

Pure: nothing here opens a file (disk.py reads projects, farm.py scans a projects root). Standard
library only: it runs on the GNS3 hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError, type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import MacError, format_mac, parse_mac
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import fold_numbers, runs

# The record a reset leaves in each project directory, so that a rerun recognises its own work.
# GNS3 rewrites the .gns3 file from its own model and would drop an unknown key, so the record
# lives in a file of its own, which GNS3 ignores.
MARKER = ".labfarm-reset.json"
MARKER_FORMAT = 1
SUPPORTED_REVISIONS = (9, 10)   # GNS3 2.2 and 3.x
# Dynamips derives each interface MAC from the router's base MAC (mac_addr); give every router
# a whole aligned block so that no interface of one router can meet another router's.
DYNAMIPS_MAC_BLOCK = 256
VNC_CONSOLE_TYPES = ("vnc", "spice", "spice+agent")
NO_CONSOLE_TYPES = (None, "none")

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Gns3ProjectError(ResultError):
    """A project or an input cannot be used; the message names it and says what to do. A failure
    while writing carries the result (what was planned, what is done) for the module to return."""


class Project:
    """One project as read from disk: its directory, its .gns3 file, the parsed topology and our marker.

    What the reset needs of the directory besides the file is read with it (disk.load_target):
    ``node_dirs`` ({node type directory: set of entries} under project-files/), ``has_snapshots``,
    ``real_file`` and ``real_directory`` (symlinks resolved) and ``marker_here`` (the marker was
    written for this very directory, not copied along with a project we reset)."""

    def __init__(self, directory, topology_file, data, marker, node_dirs=None, has_snapshots=False,
                 real_file=None, real_directory=None, marker_here=False):
        self.directory = directory
        self.topology_file = topology_file
        self.data = data
        self.marker = marker
        self.node_dirs = node_dirs or {}
        self.has_snapshots = has_snapshots
        self.real_file = real_file or topology_file
        self.real_directory = real_directory or directory
        self.marker_here = marker_here

    @property
    def project_id(self):
        return self.data["project_id"]

    @property
    def name(self):
        return self.data["name"]

    @property
    def nodes(self):
        return self.data["topology"]["nodes"]


def check_topology(data, where):
    """Refuse what is not a GNS3 project file of a revision we know, naming the file."""
    def bad(what):
        raise Gns3ProjectError("%s is not a GNS3 project file: %s" % (where, what))

    if not isinstance(data, dict):
        bad("the top level is a JSON %s, not an object" % type_name(data))
    if data.get("type") != "topology":
        bad('"type" is %r, not "topology"' % (data.get("type"),))
    revision = data.get("revision")
    if revision not in SUPPORTED_REVISIONS:
        raise Gns3ProjectError(
            "%s has revision %r; this module reads revisions 9 (GNS3 2.2) and 10 (GNS3 3.x): open and save the "
            "project once with GNS3 2.2 or later to upgrade it" % (where, revision))
    if not isinstance(data.get("project_id"), str) or not UUID_RE.match(data["project_id"]):
        bad('"project_id" %r is not a UUID' % (data.get("project_id"),))
    if not isinstance(data.get("name"), str) or not data["name"]:
        bad('"name" is missing or empty')
    topology = data.get("topology")
    if not isinstance(topology, dict):
        bad('"topology" is missing or not an object')
    for key in ("nodes", "links", "drawings", "computes"):
        if not isinstance(topology.get(key, []), list):
            bad('"topology.%s" is not a list' % key)
    for index, node in enumerate(topology.get("nodes", [])):
        if not isinstance(node, dict) or not isinstance(node.get("node_id"), str) or not node.get("node_type"):
            bad("node #%d has no node_id or node_type" % index)
        if not isinstance(node.get("properties", {}), dict):
            bad("node %s has properties that are not an object" % node.get("name", index))
        for key in ("console", "aux"):
            if node.get(key) is not None and not isinstance(node[key], int):
                bad("node %s has %s %r, not a port number" % (node.get("name", index), key, node[key]))
    for index, link in enumerate(topology.get("links", [])):
        if not isinstance(link, dict) or not isinstance(link.get("nodes", []), list):
            bad("link #%d is not an object with a nodes list" % index)
    for index, drawing in enumerate(topology.get("drawings", [])):
        if not isinstance(drawing, dict):
            bad("drawing #%d is not an object" % index)


def check_marker(marker):
    """Our marker if ``marker`` is one of this format, else None (a foreign or older file is ignored)."""
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return None
    return marker


# ---------------------------------------------------------------------------------------------
# What a node uses: consoles and MACs, as GNS3 computes them
# ---------------------------------------------------------------------------------------------

def _props(node):
    return node.get("properties") or {}


def node_console_type(node):
    return node.get("console_type", _props(node).get("console_type"))


def node_aux_type(node):
    return node.get("aux_type", _props(node).get("aux_type"))


def node_consoles(node):
    """[(field, port, kind)] for every console port the node holds; kind is console or vnc.
    Fields are "console" and "aux" (3.x keeps aux at the top level, 2.2 in properties)."""
    used = []
    console_type = node_console_type(node)
    if console_type not in NO_CONSOLE_TYPES and isinstance(node.get("console"), int):
        used.append(("console", node["console"], "vnc" if console_type in VNC_CONSOLE_TYPES else "console"))
    aux = node.get("aux")
    if aux is None:
        aux = _props(node).get("aux")
    if isinstance(aux, int) and node_aux_type(node) not in ("none",):
        used.append(("aux", aux, "console"))
    return used


def adapter_count(node):
    props = _props(node)
    count = props.get("adapters", props.get("ethernet_adapters", 1))
    return count if isinstance(count, int) and count > 0 else 1


def _mac_or_none(value):
    try:
        return parse_mac(value)
    except MacError:
        return None


def node_macs(node):
    """(base MAC int or None, [(adapter_number, MAC int)], reserved block size) as GNS3 computes
    the MACs from the file: base + adapter number unless a custom adapter sets its own."""
    props = _props(node)
    custom = {}
    for adapter in node.get("custom_adapters") or []:
        if isinstance(adapter, dict) and adapter.get("mac_address") and isinstance(adapter.get("adapter_number"), int):
            mac = _mac_or_none(adapter["mac_address"])
            if mac is not None:
                custom[adapter["adapter_number"]] = mac
    if node.get("node_type") == "dynamips":
        base = _mac_or_none(props.get("mac_addr"))
        return base, ([(0, base)] if base is not None else []), DYNAMIPS_MAC_BLOCK
    base = _mac_or_none(props["mac_address"]) if props.get("mac_address") else None
    adapters = []
    if base is not None or custom:
        for number in range(adapter_count(node)):
            if number in custom:
                adapters.append((number, custom[number]))
            elif base is not None:
                adapters.append((number, base + number))
    return base, adapters, adapter_count(node)


def stores_mac(node):
    """Whether the node keeps its MAC in the file (so a reset must give it a new one)."""
    props = _props(node)
    if node.get("node_type") == "dynamips":
        return "mac_addr" in props
    return node.get("node_type") in ("qemu", "docker") or "mac_address" in props


def node_application_id(node):
    value = node.get("application_id", _props(node).get("application_id"))
    return value if isinstance(value, int) else None


def node_dynamips_id(node):
    value = _props(node).get("dynamips_id", node.get("dynamips_id"))
    return value if isinstance(value, int) else None


def used_by_project(project):
    """Ports, MACs and ids the project holds, for the farm's reservations."""
    ports, macs, app_ids, dyn_ids = set(), set(), set(), set()
    for node in project.nodes:
        for _field, port, _kind in node_consoles(node):
            ports.add(port)
        base, adapters, block = node_macs(node)
        if node.get("node_type") == "dynamips" and base is not None:
            macs.update(range(base, base + block))
        for _number, mac in adapters:
            macs.add(mac)
        if node.get("node_type") == "iou" and node_application_id(node) is not None:
            app_ids.add(node_application_id(node))
        if node.get("node_type") == "dynamips" and node_dynamips_id(node) is not None:
            dyn_ids.add(node_dynamips_id(node))
    return ports, macs, app_ids, dyn_ids


def compute_usage(project):
    """({compute_id: set of console ports}, {compute_id: node count}) of the project: GNS3 reserves a node's
    consoles on the compute that runs it, each compute with its own port manager."""
    ports, counts = {}, {}
    for node in project.nodes:
        compute_id = node.get("compute_id")
        counts[compute_id] = counts.get(compute_id, 0) + 1
        ports.setdefault(compute_id, set()).update(port for _field, port, _kind in node_consoles(node))
    return ports, counts


# ---------------------------------------------------------------------------------------------
# Descriptions, as the modules return them
# ---------------------------------------------------------------------------------------------

def describe_node(node):
    base, adapters, _block = node_macs(node)
    consoles = dict((field, port) for field, port, _kind in node_consoles(node))
    return {
        "name": node.get("name"),
        "node_type": node.get("node_type"),
        "node_id": node.get("node_id"),
        "compute_id": node.get("compute_id"),
        "console_type": node_console_type(node),
        "console": consoles.get("console"),
        "aux": consoles.get("aux"),
        "mac_address": format_mac(base) if base is not None else None,
        "adapters": [{"adapter_number": number, "mac_address": format_mac(mac)} for number, mac in adapters],
    }


def describe_project(project):
    marker = project.marker if project.marker and project.marker.get("project_id") == project.project_id else None
    return {
        "path": project.directory,
        "file": project.topology_file,
        "project_id": project.project_id,
        "name": project.name,
        "revision": project.data.get("revision"),
        "reset_from": marker.get("source_project_id") if marker else None,
        "nodes": [describe_node(node) for node in project.nodes],
    }


def fold_macs(macs):
    """02:4c:46:00:00:01-02:4c:46:00:00:04 style runs, to keep diffs short."""
    return _fold_mac_numbers(set(parse_mac(mac) for mac in macs))


def summarise_topology_nodes(nodes):
    """summarise_nodes for the nodes of a topology file, without describing each first (a 500-clone reset
    summarises 16,000 nodes twice: the diff's before and after)."""
    computes, ports, macs = {}, [], set()
    for node in nodes:
        compute_id = node.get("compute_id")
        computes[compute_id] = computes.get(compute_id, 0) + 1
        ports.extend(port for dummy, port, dummy_kind in node_consoles(node))
        macs.update(mac for dummy, mac in node_macs(node)[1])
    return {"consoles": fold_numbers(ports), "macs": _fold_mac_numbers(macs), "computes": computes}


def _fold_mac_numbers(numbers):
    return ",".join(format_mac(a) if a == b else "%s-%s" % (format_mac(a), format_mac(b)) for a, b, _step in runs(sorted(numbers)))


def summarise_nodes(nodes):
    """Folded console ports and MACs of described nodes, and how many nodes each compute runs, for one-line
    reports."""
    computes = {}
    for node in nodes:
        computes[node["compute_id"]] = computes.get(node["compute_id"], 0) + 1
    return {
        "consoles": fold_numbers([port for node in nodes for port in (node["console"], node["aux"]) if port is not None]),
        "macs": fold_macs([adapter["mac_address"] for node in nodes for adapter in node["adapters"]]),
        "computes": computes,
    }


def vpcs_warning(projects):
    count = sum(1 for project in projects for node in project.nodes if node.get("node_type") == "vpcs")
    if not count:
        return None
    return ("%d VPCS node(s): GNS3 assigns VPCS MAC addresses (00:50:79:66:68:xx) when a node starts, so they cannot "
            "be set or known from the project file; their adapters are reported without a MAC" % count)
