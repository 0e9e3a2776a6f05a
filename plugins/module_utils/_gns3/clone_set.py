# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A set of clones of one GNS3 project spread over servers (the mass_clone role): each clone's project
id, dataset and directory, and the MAC prefix each server hands out, so that no two clones of the farm
share a project id or a MAC. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import parse_mac_prefix
# derive_project_id is the reset's own rule: the role must name each clone as gns3_project_reset will.
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import derive_project_id

# One octet per server: a MAC has six, so the prefix the servers share may have four at most.
MAX_SHARED_PREFIX_OCTETS = 4
MAX_SERVERS = 256
# A host name (and a DHCP reservation's name) holds letters, digits and '-'.
_HOST_NAME_BAD_RE = re.compile(r"[^A-Za-z0-9-]")


class CloneSetError(ValueError):
    """A clone set that cannot be planned; the message describes the value at fault and how to fix it."""


def clone_records(names, source_project_id, projects_root, projects_dataset):
    """One record per clone name, in order: ``{name, project_id, dataset, path}``.

    The project id is derived from the source's id and the clone's name (uuid5), as gns3_project_reset
    derives it, so a rerun finds the same clones; each clone is a dataset under ``projects_dataset``
    mounted at ``projects_root``/project id, where GNS3 looks for a project of that id.
    """
    records = []
    for name in names:
        project_id = derive_project_id(source_project_id, name)
        records.append(dict(clone_home(project_id, projects_root, projects_dataset), name=name, project_id=project_id))
    return records


def clone_home(project_id, projects_root, projects_dataset):
    """``{dataset, path}`` of the clone ``project_id``: a dataset under ``projects_dataset`` mounted at
    ``projects_root``/project id, the directory GNS3 gives a project of that id."""
    return {"dataset": "%s/%s" % (projects_dataset, project_id), "path": "%s/%s" % (projects_root, project_id)}


def clone_set_record(rows, source, source_project_id, snapshot, storage_host=None, computes=None):
    """The clone set as the role publishes it (``labfarm_mass_clone``) and writes it (the JSON summary).

    ``rows`` are the summary's rows, one per clone: the project gns3_project_reset returned
    (``name, project_id, path, summary: {consoles, macs}, nodes``) with ``server`` and ``console_host``.
    Each node gets ``console_host`` (its compute's host when ``computes`` [{id, host}] names its compute_id,
    else its clone's) and ``console_address`` (host:port, or None for a node without a console).
    Computed here rather than in a template: a Jinja loop over the nodes of 100 clones costs seconds.
    """
    compute_hosts = dict((compute.get("id"), compute.get("host") or "") for compute in computes or [])
    clones = []
    for row in rows:
        nodes = []
        for node in row.get("nodes") or []:
            host = compute_hosts.get(node.get("compute_id")) or row.get("console_host")
            console = node.get("console")
            # copy(), not dict(node, ...): in a filter, ansible-core 2.19 hands over lazy containers, whose copy()
            # is one C-level copy where dict() would render each of the node's values (seconds for 100 clones)
            entry = node.copy()
            entry["console_host"] = host
            entry["console_address"] = None if console is None else "%s:%s" % (host, console)
            nodes.append(entry)
        summary = row.get("summary") or {}
        clones.append({"name": row.get("name"), "project_id": row.get("project_id"), "server": row.get("server"),
                       "console_host": row.get("console_host"), "path": row.get("path"),
                       "consoles": summary.get("consoles"), "macs": summary.get("macs"), "nodes": nodes})
    return {"source": source, "source_project_id": source_project_id, "snapshot": snapshot,
            "storage_host": storage_host or None, "clones": clones}


def server_mac_prefix(mac_prefix, index):
    """The MAC prefix of the server at ``index``: ``mac_prefix`` extended by one octet, the index, so that
    no two servers hand out the same MAC ('02:4c:46', 1 -> '02:4c:46:01'). MacError for a prefix that
    is not a locally administered unicast one; CloneSetError when no octet is left or index is out of range."""
    prefix = parse_mac_prefix(mac_prefix)
    if len(prefix.octets) > MAX_SHARED_PREFIX_OCTETS:
        raise CloneSetError("%s has %d octets: one octet per server is added to it and a MAC has 6, so give at "
                            "most %d, such as 02:4c:46" % (prefix.text, len(prefix.octets), MAX_SHARED_PREFIX_OCTETS))
    if not 0 <= index < MAX_SERVERS:
        raise CloneSetError("%s cannot number server %d: the one octet added per server numbers at most %d servers"
                            % (prefix.text, index, MAX_SERVERS))
    return ":".join("%02x" % octet for octet in prefix.octets + (index,))


def node_reservations(clones, network):
    """The clones' nodes as reservations ``[{name, mac, ip}]`` (the labfarm_nodes a netboot job takes).

    ``clones`` are the summary's records (``{name, nodes: [{name, mac_address}]}``), in their order; every node
    with a MAC, in its clone's order, gets the next address of ``network``. ``network`` is an IPv4 network
    (``10.40.0.0/24``: from its first host address) or an address in one (``10.40.0.21/24``: from that
    address); the last address given is the one before the broadcast. A node is named ``<clone>-<node>`` with
    every character a host name cannot hold made '-'. CloneSetError for a bad network or one too small.
    """
    try:
        interface = ipaddress.IPv4Interface(u"%s" % (network,))
    except ValueError as exc:
        raise CloneSetError("%r is not an IPv4 network such as 10.40.0.0/24 (or a first address in one, "
                            "10.40.0.21/24): %s" % (network, exc))
    net = interface.network
    hosts_first, hosts_last = (net.network_address, net.broadcast_address) if net.prefixlen >= 31 else \
        (net.network_address + 1, net.broadcast_address - 1)
    first = max(interface.ip, hosts_first)
    nodes = [(clone["name"], node) for clone in clones for node in clone.get("nodes") or [] if node.get("mac_address")]
    free = int(hosts_last) - int(first) + 1
    if len(nodes) > free:
        raise CloneSetError("%s holds %d addresses from %s, and the clones have %d nodes with a MAC: give a larger "
                            "network" % (net, max(free, 0), first, len(nodes)))
    return [{"name": _HOST_NAME_BAD_RE.sub("-", "%s-%s" % (clone, node["name"])), "mac": node["mac_address"],
             "ip": str(first + index)} for index, (clone, node) in enumerate(nodes)]
