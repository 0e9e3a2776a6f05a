# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The GNS3 project model: read project files, describe them, and reset clones of a project.

A reset makes a copy of a project (a ZFS clone of its dataset, or a plain copy) loadable on the
same GNS3 servers as its source and as every other copy: GNS3 keys projects by project_id and
name, the compute keys nodes by node_id across projects, and console ports and MAC addresses must
not collide on the farm (GNS3 silently reassigns conflicting ports and accepts duplicate MACs).

Everything here is plain Python (standard library only) so it runs on the GNS3 hosts and is
unit-tested directly. The whole batch is planned, and every input checked, before any file is
written; files are replaced atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write

# The record a reset leaves in each project directory, so that a rerun recognises its own work.
# GNS3 rewrites the .gns3 file from its own model and would drop an unknown key, so the record
# lives in a file of its own, which GNS3 ignores.
MARKER = ".labfarm-reset.json"
MARKER_FORMAT = 1
SUPPORTED_REVISIONS = (9, 10)   # GNS3 2.2 and 3.x
DEFAULT_CONSOLE_RANGE = (5000, 10000)   # GNS3's own defaults
DEFAULT_VNC_RANGE = (5900, 10000)
DEFAULT_MAC_PREFIX = "02:4c:46"
# Dynamips derives each interface MAC from the router's base MAC (mac_addr); give every router
# a whole aligned block so that no interface of one router can meet another router's.
DYNAMIPS_MAC_BLOCK = 256
DYNAMIPS_ID_RANGE = (1, 4096)        # GNS3 compute/dynamips: ids 1-4096
IOU_APPLICATION_ID_RANGE = (1, 512)  # GNS3 utils/application_id: 1-512 per compute
VNC_CONSOLE_TYPES = ("vnc", "spice", "spice+agent")
NO_CONSOLE_TYPES = (None, "none")
# Projects are read and written by a few threads at once: on FUSE (zfs-fuse) and network storage
# each file operation waits on the daemon, and a batch of 100 clones spends most of its time there.
IO_WORKERS = 8

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PLAIN_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


class Gns3ProjectError(Exception):
    """A project or an input cannot be used; the message names it and says what to do."""


# ---------------------------------------------------------------------------------------------
# MAC addresses
# ---------------------------------------------------------------------------------------------

def parse_mac(value):
    """Return the MAC address as an int. Accepts aa:bb:cc:dd:ee:ff, aa-bb-..., and dynamips'
    dotted aabb.ccdd.eeff. Raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    if len(value) == 17 and _PLAIN_MAC_RE.match(value):   # the usual form, without the general parse
        return int(value.replace(":", ""), 16)
    digits = value.strip().lower()
    if re.match(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$", digits):
        digits = digits.replace(".", "")
    elif re.match(r"^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}$", digits):
        digits = "".join(part.zfill(2) for part in re.split(r"[:-]", digits))
    else:
        raise ValueError("not a MAC address")
    return int(digits, 16)


def format_mac(number):
    digits = "%012x" % number
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def format_dynamips_mac(number):
    digits = "%012x" % number
    return ".".join(digits[i:i + 4] for i in range(0, 12, 4))


def parse_mac_prefix(value):
    """Return (prefix int, free bits) for a prefix of 1 to 5 octets that is locally administered
    and unicast, as a lab must use."""
    if not isinstance(value, str) or not re.match(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){0,4}$", value.strip()):
        raise Gns3ProjectError(
            "mac_prefix %r is not 1 to 5 octets written like 02:4c:46: give a prefix such as %s"
            % (value, DEFAULT_MAC_PREFIX))
    octets = [int(part, 16) for part in re.split(r"[:-]", value.strip())]
    if octets[0] & 0x01:
        raise Gns3ProjectError("mac_prefix %s is a multicast prefix (first octet odd): use a unicast "
                               "prefix such as %s" % (value, DEFAULT_MAC_PREFIX))
    if not octets[0] & 0x02:
        raise Gns3ProjectError("mac_prefix %s is not locally administered (bit 0x02 of the first octet is "
                               "clear), so it may collide with real hardware: use a prefix such as %s"
                               % (value, DEFAULT_MAC_PREFIX))
    prefix = 0
    for octet in octets:
        prefix = (prefix << 8) | octet
    free_bits = 8 * (6 - len(octets))
    return prefix << free_bits, free_bits


def parse_port_range(value, option):
    """"5000-10000" or [5000, 10000] -> (5000, 10000)."""
    bounds = None
    if isinstance(value, str) and re.match(r"^\s*\d+\s*-\s*\d+\s*$", value):
        bounds = tuple(int(part) for part in value.split("-"))
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        bounds = tuple(value)
    if not bounds or not 1 <= bounds[0] <= bounds[1] <= 65535:
        raise Gns3ProjectError("%s %r is not a port range: write it as FIRST-LAST with 1 <= FIRST <= LAST <= 65535, "
                               "for example 5000-10000" % (option, value))
    return bounds


def fold_numbers(numbers):
    """[5000, 5001, 5002, 5007] -> '5000-5002,5007': compact lists of ports in diffs."""
    runs = []
    for value in sorted(set(numbers)):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in runs)


# ---------------------------------------------------------------------------------------------
# Reading projects
# ---------------------------------------------------------------------------------------------

def find_topology_file(path):
    """The .gns3 file of a project: `path` itself, or the one .gns3 file in directory `path`."""
    if os.path.isfile(path):
        if not path.endswith(".gns3"):
            raise Gns3ProjectError("%s is not a .gns3 file: give the project directory or its .gns3 file" % path)
        return path
    if not os.path.isdir(path):
        raise Gns3ProjectError("project path %s does not exist: give the directory of a GNS3 project "
                               "(the one holding its .gns3 file)" % path)
    files = sorted(name for name in os.listdir(path) if name.endswith(".gns3") and not name.startswith("."))
    if not files:
        raise Gns3ProjectError("%s holds no .gns3 file, so it is not a GNS3 project directory" % path)
    if len(files) > 1:
        raise Gns3ProjectError("%s holds several .gns3 files (%s) and GNS3 would open whichever it lists first: "
                               "keep one, or give the path of the .gns3 file" % (path, ", ".join(files)))
    return os.path.join(path, files[0])


class Project:
    """One project on disk: its directory, its .gns3 file, the parsed topology and our marker."""

    def __init__(self, directory, topology_file, data, marker):
        self.directory = directory
        self.topology_file = topology_file
        self.data = data
        self.marker = marker

    @classmethod
    def load(cls, path):
        topology_file = os.path.abspath(find_topology_file(path))
        directory = os.path.dirname(topology_file)
        try:
            with open(topology_file, "rb") as handle:
                raw = handle.read()
        except (IOError, OSError) as exc:
            raise Gns3ProjectError("cannot read %s: %s" % (topology_file, exc))
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Gns3ProjectError("%s is not valid JSON (%s): restore it from a snapshot or a backup "
                                   "(GNS3 keeps <name>.gns3.backup)" % (topology_file, exc))
        check_topology(data, topology_file)
        return cls(directory, topology_file, data, read_marker(directory))

    def node_dirs(self):
        """{node type directory: set of entries} under project-files/, read once."""
        if getattr(self, "_node_dirs", None) is None:
            found = {}
            files_dir = os.path.join(self.directory, "project-files")
            if os.path.isdir(files_dir):
                for kind in os.listdir(files_dir):
                    kind_dir = os.path.join(files_dir, kind)
                    if os.path.isdir(kind_dir):
                        found[kind] = set(os.listdir(kind_dir))
            self._node_dirs = found
        return self._node_dirs

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
    if not isinstance(data.get("project_id"), str) or not _UUID_RE.match(data["project_id"]):
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


def read_marker(directory):
    try:
        with open(os.path.join(directory, MARKER)) as handle:
            marker = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return None
    return marker


def list_project_dirs(root):
    """Directories directly under root that hold a .gns3 file, as GNS3's projects_path scan sees them."""
    try:
        entries = sorted(os.listdir(root))
    except (IOError, OSError) as exc:
        raise Gns3ProjectError("cannot list projects_root %s: %s" % (root, exc))
    found = []
    for entry in entries:
        directory = os.path.join(root, entry)
        if os.path.isdir(directory):
            try:
                if any(name.endswith(".gns3") for name in os.listdir(directory)):
                    found.append(os.path.abspath(directory))
            except (IOError, OSError):
                continue
    return found


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


def _adapter_count(node):
    props = _props(node)
    count = props.get("adapters", props.get("ethernet_adapters", 1))
    return count if isinstance(count, int) and count > 0 else 1


def node_macs(node):
    """(base MAC int or None, [(adapter_number, MAC int)], reserved block size) as GNS3 computes
    the MACs from the file: base + adapter number unless a custom adapter sets its own."""
    props = _props(node)
    node_type = node.get("node_type")
    custom = {}
    for adapter in node.get("custom_adapters") or []:
        if isinstance(adapter, dict) and adapter.get("mac_address") and isinstance(adapter.get("adapter_number"), int):
            try:
                custom[adapter["adapter_number"]] = parse_mac(adapter["mac_address"])
            except ValueError:
                continue
    if node_type == "dynamips":
        try:
            base = parse_mac(props.get("mac_addr"))
        except ValueError:
            base = None
        return base, ([(0, base)] if base is not None else []), DYNAMIPS_MAC_BLOCK
    base = None
    if props.get("mac_address"):
        try:
            base = parse_mac(props["mac_address"])
        except ValueError:
            base = None
    adapters = []
    if base is not None or custom:
        for number in range(_adapter_count(node)):
            if number in custom:
                adapters.append((number, custom[number]))
            elif base is not None:
                adapters.append((number, base + number))
    return base, adapters, _adapter_count(node)


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


def summarise_nodes(nodes):
    """Folded console ports and MACs of described nodes, for one-line reports."""
    return {
        "consoles": fold_numbers([port for node in nodes for port in (node["console"], node["aux"]) if port is not None]),
        "macs": _fold_macs([adapter["mac_address"] for node in nodes for adapter in node["adapters"]]),
    }


def vpcs_warning(projects):
    count = sum(1 for project in projects for node in project.nodes if node.get("node_type") == "vpcs")
    if not count:
        return None
    return ("%d VPCS node(s): GNS3 assigns VPCS MAC addresses (00:50:79:66:68:xx) when a node starts, so they cannot "
            "be set or known from the project file; their adapters are reported without a MAC" % count)


# ---------------------------------------------------------------------------------------------
# Allocation of ports, MAC blocks and small ids
# ---------------------------------------------------------------------------------------------

class PortAllocator:
    """Console ports from the TOP of each range downwards: when a project opens, GNS3 gives VPCS and
    qemu telnet consoles a hidden internal port, the lowest free one in the console range, and would
    take a port that another, not yet opened, clone has in its file."""

    def __init__(self, used):
        self.used = set(used)
        self._cursor = {}

    def claim(self, port):
        if port in self.used:
            return False
        self.used.add(port)
        return True

    def allocate(self, bounds):
        port = self._cursor.get(bounds, bounds[1])
        while port >= bounds[0]:
            if port not in self.used:
                self.used.add(port)
                self._cursor[bounds] = port - 1
                return port
            port -= 1
        self._cursor[bounds] = bounds[0] - 1
        return None

    def free_count(self, bounds):
        return sum(1 for port in range(bounds[0], bounds[1] + 1) if port not in self.used)


class MacAllocator:
    """Blocks of MACs under a prefix: a node with n adapters takes base..base+n-1, and no address
    of the block may be in use anywhere on the farm."""

    def __init__(self, prefix, free_bits, used):
        self.prefix = prefix
        self.size = 1 << free_bits
        self.used = set(used)
        self._cursor = 1   # skip prefix:00:00:00

    def claim(self, base, block):
        block_range = range(base, base + block)
        if any(mac in self.used for mac in block_range):
            return False
        self.used.update(block_range)
        return True

    def allocate(self, block, align=1):
        offset = self._cursor
        while True:
            if offset % align:
                offset += align - offset % align
            if offset + block > self.size:
                return None
            base = self.prefix + offset
            clash = [mac for mac in range(base, base + block) if mac in self.used]
            if not clash:
                self.used.update(range(base, base + block))
                self._cursor = offset + block
                return base
            offset = clash[-1] - self.prefix + 1


class IdAllocator:
    def __init__(self, bounds, used):
        self.bounds = bounds
        self.used = set(used)
        self._next = bounds[0]

    def claim(self, value):
        if value in self.used or not self.bounds[0] <= value <= self.bounds[1]:
            return False
        self.used.add(value)
        return True

    def allocate(self):
        value = self._next
        while value <= self.bounds[1]:
            if value not in self.used:
                self.used.add(value)
                self._next = value + 1
                return value
            value += 1
        return None


# ---------------------------------------------------------------------------------------------
# Planning a batch
# ---------------------------------------------------------------------------------------------

def derive_project_id(source_project_id, name):
    return str(uuid.uuid5(uuid.UUID(source_project_id), name))


def derive_id(project_id, old_id):
    """Node, link and drawing ids of a clone: stable for a given clone and source id."""
    return str(uuid.uuid5(uuid.UUID(project_id), old_id))


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


def _reset_already(project):
    """The project's marker, if this very directory was reset by us and not replaced since."""
    marker = project.marker
    if not marker or marker.get("project_id") != project.project_id:
        return None
    if os.path.realpath(marker.get("path", "")) != os.path.realpath(project.directory):
        return None   # a copy of a project we reset (a clone of a clone): a new target
    return marker


def parallel(function, items, *args):
    """[function(item, *args) for item in items], run by IO_WORKERS threads; the first failure in
    item order is raised, so errors are the same as a plain loop's."""
    if len(items) < 2:
        return [function(item, *args) for item in items]
    with ThreadPoolExecutor(max_workers=min(IO_WORKERS, len(items))) as pool:
        return list(pool.map(lambda item: function(item, *args), items))


def _load_target(path):
    project = Project.load(path)
    project.node_dirs()
    return project


def _load_farm_project(path, projects_root):
    try:
        return Project.load(path)
    except Gns3ProjectError as exc:
        raise Gns3ProjectError("%s; it is under projects_root %s, whose projects all count when choosing "
                               "free ports and MACs: repair it or move it out" % (exc, projects_root))


def plan_reset(requests, projects_root=None, console_port_range=DEFAULT_CONSOLE_RANGE,
               vnc_port_range=DEFAULT_VNC_RANGE, mac_prefix=DEFAULT_MAC_PREFIX, used_console_ports=(),
               used_macs=(), snapshots="drop", owner_uid=None, owner_gid=None):
    """Check every input and project, then decide every new value. Returns (plans, warnings).
    Raises Gns3ProjectError before anything is written."""
    console_range = parse_port_range(console_port_range, "console_port_range") \
        if not isinstance(console_port_range, tuple) else console_port_range
    vnc_range = parse_port_range(vnc_port_range, "vnc_port_range") \
        if not isinstance(vnc_port_range, tuple) else vnc_port_range
    prefix, free_bits = parse_mac_prefix(mac_prefix)
    if snapshots not in ("drop", "keep"):
        raise Gns3ProjectError("snapshots=%r: use drop or keep" % (snapshots,))
    reserved_macs = set()
    for mac in used_macs or ():
        try:
            reserved_macs.add(parse_mac(mac))
        except ValueError:
            raise Gns3ProjectError("used_macs: %r is not a MAC address: write it like 02:4c:46:00:00:01" % (mac,))
    reserved_ports = set()
    for port in used_console_ports or ():
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise Gns3ProjectError("used_console_ports: %r is not a port number (1-65535)" % (port,))
        reserved_ports.add(port)

    # The batch: every project loads and every name, id and path is distinct.
    plans, seen_paths, seen_names, seen_ids = [], {}, {}, {}
    for index, request in enumerate(requests):
        if not request.name or not isinstance(request.name, str):
            raise Gns3ProjectError("projects[%d] (%s) has no name: give each clone its project name"
                                   % (index, request.path))
    loaded = parallel(_load_target, [request.path for request in requests])
    for index, request in enumerate(requests):
        project = loaded[index]
        real = os.path.realpath(project.topology_file)
        if real in seen_paths:
            raise Gns3ProjectError("projects[%d] and projects[%d] are the same project %s: give each clone its own directory"
                                   % (seen_paths[real], index, project.directory))
        seen_paths[real] = index
        if request.name in seen_names:
            raise Gns3ProjectError("projects[%d] and projects[%d] are both named %r: GNS3 refuses two projects of the "
                                   "same name (409), give each clone its own name"
                                   % (seen_names[request.name], index, request.name))
        seen_names[request.name] = index
        plan = Plan(project, request)
        marker = plan.already = _reset_already(project)
        if marker:
            plan.source_project_id = marker["source_project_id"]
            plan.source_name = marker.get("source_name")
            plan.old_node_ids = dict(marker.get("node_ids", {}))
        else:
            plan.source_project_id = project.project_id
            plan.source_name = project.name
            plan.old_node_ids = dict((node["node_id"], node["node_id"]) for node in project.nodes)
        if request.project_id:
            if not isinstance(request.project_id, str) or not _UUID_RE.match(request.project_id):
                raise Gns3ProjectError("projects[%d].project_id %r is not a UUID: give a UUID or leave it out to "
                                       "derive one from the source's id and the name" % (index, request.project_id))
            new_id = request.project_id.lower()
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

    # The farm: every other project under projects_root.
    targets = set(seen_paths)
    target_dirs = set(os.path.dirname(path) for path in targets)
    farm_ports, farm_macs, farm_app, farm_dyn = set(reserved_ports), set(reserved_macs), set(), set()
    farm_names, farm_ids = {}, {}
    others = []
    if projects_root:
        for directory in list_project_dirs(projects_root):
            if os.path.realpath(directory) in target_dirs:
                continue
            try:
                files = sorted(name for name in os.listdir(directory) if name.endswith(".gns3"))
            except (IOError, OSError):
                continue
            for name in files:
                path = os.path.join(directory, name)
                if os.path.realpath(path) not in targets:
                    others.append(path)
        for other in parallel(_load_farm_project, others, projects_root):
            ports, macs, app_ids, dyn_ids = used_by_project(other)
            farm_ports |= ports
            farm_macs |= macs
            farm_app |= app_ids
            farm_dyn |= dyn_ids
            farm_names.setdefault(other.name, other.topology_file)
            farm_ids.setdefault(other.project_id, other.topology_file)
    for plan in plans:
        if plan.request.name in farm_names:
            raise Gns3ProjectError("name %r is already used by %s: GNS3 refuses two projects of the same name (409); "
                                   "choose another clone name" % (plan.request.name, farm_names[plan.request.name]))
        if plan.new_project_id in farm_ids:
            raise Gns3ProjectError("project_id %s for %s is already used by %s: give another project_id or name"
                                   % (plan.new_project_id, plan.project.directory, farm_ids[plan.new_project_id]))

    ports = PortAllocator(farm_ports)
    macs = MacAllocator(prefix, free_bits, farm_macs)
    app_ids = IdAllocator(IOU_APPLICATION_ID_RANGE, farm_app)
    dyn_ids = IdAllocator(DYNAMIPS_ID_RANGE, farm_dyn)

    # Pass 1: a project we already reset keeps every value that is still free (idempotent rerun).
    kept = {}
    for plan in plans:
        if not plan.already or plan.new_project_id != plan.project.project_id:
            continue
        for node in plan.project.nodes:
            key = (id(plan), node["node_id"])
            keep = {}
            for field, port, kind in node_consoles(node):
                bounds = vnc_range if kind == "vnc" else console_range
                if bounds[0] <= port <= bounds[1] and ports.claim(port):
                    keep[field] = port
            base, _adapters, block = node_macs(node)
            if stores_mac(node) and base is not None and (base & ~((1 << free_bits) - 1)) == prefix \
                    and macs.claim(base, block):
                keep["mac"] = base
            if node.get("node_type") == "iou" and node_application_id(node) is not None \
                    and app_ids.claim(node_application_id(node)):
                keep["application_id"] = node_application_id(node)
            if node.get("node_type") == "dynamips" and node_dynamips_id(node) is not None \
                    and dyn_ids.claim(node_dynamips_id(node)):
                keep["dynamips_id"] = node_dynamips_id(node)
            kept[key] = keep

    # Pass 2: everything else gets fresh values, in batch and file order.
    shortage = {"console": 0, "vnc": 0}
    chosen = {}
    for plan in plans:
        for node in plan.project.nodes:
            key = (id(plan), node["node_id"])
            keep = kept.get(key, {})
            values = dict(keep)
            for field, _port, kind in node_consoles(node):
                if field in values:
                    continue
                port = ports.allocate(vnc_range if kind == "vnc" else console_range)
                if port is None:
                    shortage[kind] += 1
                values[field] = port
            if stores_mac(node) and "mac" not in values:
                block = DYNAMIPS_MAC_BLOCK if node.get("node_type") == "dynamips" else _adapter_count(node)
                align = DYNAMIPS_MAC_BLOCK if node.get("node_type") == "dynamips" else 1
                base = macs.allocate(block, align)
                if base is None:
                    raise Gns3ProjectError("mac_prefix %s has no free block of %d addresses left for node %s of %s: "
                                           "use a shorter prefix" % (mac_prefix, block, node.get("name"), plan.request.name))
                values["mac"] = base
            if node.get("node_type") == "iou" and node_application_id(node) is not None and "application_id" not in values:
                values["application_id"] = app_ids.allocate()
                if values["application_id"] is None:
                    raise Gns3ProjectError("no free IOU application_id (1-512 per compute) is left for node %s of %s: "
                                           "the farm holds too many IOU nodes for one server" % (node.get("name"), plan.request.name))
            if node.get("node_type") == "dynamips" and node_dynamips_id(node) is not None and "dynamips_id" not in values:
                values["dynamips_id"] = dyn_ids.allocate()
                if values["dynamips_id"] is None:
                    raise Gns3ProjectError("no free dynamips_id (1-4096) is left for node %s of %s"
                                           % (node.get("name"), plan.request.name))
            chosen[key] = values
    for kind, bounds, option in (("console", console_range, "console_port_range"), ("vnc", vnc_range, "vnc_port_range")):
        if shortage[kind]:
            needed = sum(1 for plan in plans for node in plan.project.nodes for _f, _p, k in node_consoles(node)
                         if k == kind and _f not in kept.get((id(plan), node["node_id"]), {}))
            raise Gns3ProjectError(
                "%s %d-%d is exhausted: the batch needs %d new %s ports and only %d are free (after every project under "
                "projects_root and used_console_ports); nothing was written. Widen %s or reset fewer projects"
                % (option, bounds[0], bounds[1], needed, kind, needed - shortage[kind], option))

    warnings = []
    for plan in plans:
        _build(plan, chosen, snapshots, owner_uid, owner_gid)
    warning = vpcs_warning([plan.project for plan in plans])
    if warning:
        warnings.append(warning)
    return plans, warnings


def _build(plan, chosen, snapshots, owner_uid, owner_gid):
    """Write the new topology in memory and list the file system changes for one project."""
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
    for node, old_node in zip(data["topology"]["nodes"], project.nodes):
        values = chosen[(id(plan), old_node["node_id"])]
        node["node_id"] = node_map[old_node["node_id"]]
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
        if "mac" in values:
            base = values["mac"]
            if not isinstance(props, dict):
                props = node["properties"] = {}
            if node.get("node_type") == "dynamips":
                props["mac_addr"] = format_dynamips_mac(base)
            else:
                props["mac_address"] = format_mac(base)
            for adapter in node.get("custom_adapters") or []:
                if isinstance(adapter, dict) and adapter.get("mac_address") and isinstance(adapter.get("adapter_number"), int):
                    adapter["mac_address"] = format_mac(base + adapter["adapter_number"])
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
        if "compute_id" in old_node:
            node["compute_id"] = old_node["compute_id"]   # never moves: remote computes stay remote
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
    for kind, entries in sorted(project.node_dirs().items()):
        kind_dir = os.path.join(files_dir, kind)
        for current in sorted(entries & set(node_map)):
            if current != node_map[current]:
                plan.renames.append((os.path.join(kind_dir, current), os.path.join(kind_dir, node_map[current])))
    plan.drop_snapshots = snapshots == "drop" and os.path.isdir(os.path.join(project.directory, "snapshots")) \
        and bool(os.listdir(os.path.join(project.directory, "snapshots")))

    # What links and drawings were in the source, so a rerun under another name derives from them.
    old_links = dict((new, orig) for new, orig in _pairs(plan, "links", data, project))
    old_drawings = dict((new, orig) for new, orig in _pairs(plan, "drawings", data, project))
    plan.marker = {
        "format": MARKER_FORMAT,
        "reset_by": "labfarm.massclone.gns3_project_reset",
        "path": os.path.realpath(project.directory),
        "project_id": new_pid,
        "name": plan.request.name,
        "source_project_id": plan.source_project_id,
        "source_name": plan.source_name,
        "node_ids": reverse_old,
        "link_ids": old_links,
        "drawing_ids": old_drawings,
    }
    if owner_uid is not None or owner_gid is not None:
        plan.chown = _ownership_changes(project.directory, owner_uid, owner_gid)

    before, after = describe_project(project), _describe_data(project, data)
    plan.changes = _summarise(before, after)
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


def _describe_data(project, data):
    clone = Project(project.directory, project.topology_file, data, None)
    return describe_project(clone)


def _summarise(before, after):
    def short(desc):
        return dict(summarise_nodes(desc["nodes"]), project_id=desc["project_id"], name=desc["name"])

    return {"before": short(before), "after": short(after)}


def _fold_macs(macs):
    """02:4c:46:00:00:01-02:4c:46:00:00:04 style runs, to keep diffs short."""
    runs = []
    for number in sorted(set(parse_mac(mac) for mac in macs)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(format_mac(a) if a == b else "%s-%s" % (format_mac(a), format_mac(b)) for a, b in runs)


def _ownership_changes(directory, uid, gid):
    changes = []
    for base, dirs, files in os.walk(directory):
        for name in [""] + dirs + files:
            path = os.path.join(base, name) if name else base
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (uid is not None and info.st_uid != uid) or (gid is not None and info.st_gid != gid):
                changes.append(path)
    return changes


# ---------------------------------------------------------------------------------------------
# Applying a plan
# ---------------------------------------------------------------------------------------------

def dump_topology(data):
    """Indented like a file GNS3 saved (sorted keys, 4 spaces) down to the lists of nodes, links and
    drawings, with one line per item. Python's indenting JSON encoder is pure Python and takes most
    of the reset time of a 1,000-node project; each item here goes through the C encoder."""
    return (_pretty(data, 0, 3) + "\n").encode("utf-8")


def _pretty(value, level, depth):
    if depth == 0 or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, sort_keys=True)
    pad, end = "    " * (level + 1), "    " * level
    if isinstance(value, dict):
        items = [pad + json.dumps(key) + ": " + _pretty(value[key], level + 1, depth - 1) for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    items = [pad + _pretty(item, level + 1, depth - 1) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + end + "]"


def apply_plan(plan, owner_uid=None, owner_gid=None):
    """Make the changes of one plan. Every step can be repeated: a run cut short converges on rerun
    (node directories already renamed are skipped, the topology file is replaced last but one,
    and the marker last)."""
    project = plan.project
    for source, target in plan.renames:
        if os.path.isdir(source) and not os.path.exists(target):
            os.rename(source, target)
    for node_id, old, new in plan.file_renames:
        _rename_dynamips_files(project.directory, node_id, old, new)
    if plan.drop_snapshots:
        shutil.rmtree(os.path.join(project.directory, "snapshots"))
        os.mkdir(os.path.join(project.directory, "snapshots"))
    if plan.new_data != project.data:
        atomic_write(project.topology_file, dump_topology(plan.new_data), like=project.topology_file,
                     uid=owner_uid, gid=owner_gid)
    if plan.marker != project.marker:
        marker_path = os.path.join(project.directory, MARKER)
        atomic_write(marker_path, json.dumps(plan.marker, indent=1, sort_keys=True).encode("utf-8"),
                     like=project.topology_file, uid=owner_uid, gid=owner_gid)
    if owner_uid is not None or owner_gid is not None:
        for path in _ownership_changes(project.directory, owner_uid, owner_gid):
            os.lchown(path, -1 if owner_uid is None else owner_uid, -1 if owner_gid is None else owner_gid)


def apply_plans(plans, owner_uid=None, owner_gid=None):
    """Apply the changed plans, a few projects at a time. Returns (done, failures): the directories
    finished, and [(directory, error)] for those that failed (each can be finished by a rerun)."""
    def one(plan):
        try:
            apply_plan(plan, owner_uid=owner_uid, owner_gid=owner_gid)
            return None
        except (IOError, OSError) as exc:
            return exc

    changed = [plan for plan in plans if plan.changed]
    errors = parallel(one, changed)
    done = [plan.project.directory for plan, error in zip(changed, errors) if error is None]
    failures = [(plan.project.directory, error) for plan, error in zip(changed, errors) if error is not None]
    return done, failures


def _rename_dynamips_files(directory, node_id, old, new):
    """Dynamips names its files after the router's dynamips_id (c7200_i1_nvram, configs/i1_startup-config.cfg)."""
    node_dir = os.path.join(directory, "project-files", "dynamips", node_id)
    for sub, pattern in (("", re.compile(r"^(.*_i)%d(_.*)$" % old)), ("configs", re.compile(r"^(i)%d(_.*)$" % old))):
        folder = os.path.join(node_dir, sub)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            match = pattern.match(name)
            if match:
                os.rename(os.path.join(folder, name), os.path.join(folder, "%s%d%s" % (match.group(1), new, match.group(2))))


def result_of(plan):
    """The module's view of one project after (or, in check mode, as of) the reset."""
    project = Project(plan.project.directory, plan.project.topology_file, plan.new_data, plan.marker)
    described = describe_project(project)
    described["changed"] = plan.changed
    described["source_project_id"] = plan.source_project_id
    described["summary"] = summarise_nodes(described["nodes"])
    return described
