# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.mass_clone_clones, labfarm.massclone.mass_clone_server_mac_prefix,
labfarm.massclone.mass_clone_record and labfarm.massclone.mass_clone_nodes: the mass_clone role's plan and
hand-over, computed by the collection's own rules (_gns3/clone_set.py).

This file checks the values the role hands over; their documentation lives in mass_clone_clones.yml,
mass_clone_server_mac_prefix.yml, mass_clone_record.yml and mass_clone_nodes.yml beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six import string_types

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.clone_set import (
    CloneSetError,
    clone_records,
    clone_set_record,
    node_reservations,
    server_mac_prefix,
)


def _text(value, what, plugin):
    if not isinstance(value, string_types) or not value:
        raise AnsibleFilterError("labfarm.massclone.%s: %s must be a non-empty string, got %s"
                                 % (plugin, what, type_name(value) if value != "" else "''"))
    return to_native(value)


def _clone_rows(rows, plugin, what, node_keys=""):
    """Refuse what is not a list of clone mappings with a name, each with a list of node mappings (or none)."""
    if isinstance(rows, string_types) or not isinstance(rows, (list, tuple)) \
            or not all(isinstance(row, dict) and isinstance(row.get("name"), string_types) for row in rows):
        raise AnsibleFilterError("labfarm.massclone.%s: the input must be %s, got %s" % (plugin, what, type_name(rows)))
    for row in rows:
        nodes = row.get("nodes") or []
        if not isinstance(nodes, (list, tuple)) or not all(isinstance(node, dict) for node in nodes):
            raise AnsibleFilterError("labfarm.massclone.%s: the nodes of %s must be a list of mappings%s"
                                     % (plugin, row["name"], node_keys))


def mass_clone_clones(names, source_project_id, projects_root, projects_dataset):
    """[{name, project_id, dataset, path}] of the clones ``names`` of the source project."""
    plugin = "mass_clone_clones"
    if isinstance(names, string_types) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("labfarm.massclone.%s: the input must be a list of clone names (expand a range "
                                 "with labfarm.massclone.noderange first), got %s" % (plugin, type_name(names)))
    names = [_text(name, "every clone name", plugin) for name in names]
    source_project_id = _text(source_project_id, "source_project_id", plugin)
    try:
        uuid.UUID(source_project_id)
    except ValueError:
        raise AnsibleFilterError("labfarm.massclone.%s: source_project_id %r is not a GNS3 project id (a UUID)"
                                 % (plugin, source_project_id))
    return clone_records(names, source_project_id, _text(projects_root, "projects_root", plugin),
                         _text(projects_dataset, "projects_dataset", plugin))


def mass_clone_server_mac_prefix(mac_prefix, servers, server):
    """The MAC prefix of ``server``: ``mac_prefix`` (the role's mass_clone_mac_prefix) and the server's index."""
    plugin = "mass_clone_server_mac_prefix"
    if isinstance(servers, string_types) or not isinstance(servers, (list, tuple)):
        raise AnsibleFilterError("labfarm.massclone.%s: servers must be the list of servers (mass_clone_servers), "
                                 "got %s" % (plugin, type_name(servers)))
    servers = [to_native(name) if isinstance(name, string_types) else name for name in servers]
    if server not in servers:
        raise AnsibleFilterError("labfarm.massclone.%s: %s is not one of mass_clone_servers (%s)"
                                 % (plugin, server, ", ".join("%s" % (name,) for name in servers)))
    try:
        return server_mac_prefix(mac_prefix, servers.index(server))
    except ValueError as exc:
        raise AnsibleFilterError("labfarm.massclone.%s: mass_clone_mac_prefix %s" % (plugin, to_native(exc)))


def mass_clone_record(rows, source, source_project_id, snapshot, storage_host=None, computes=None):
    """The clone set's record ``{source, source_project_id, snapshot, storage_host, clones}`` from the summary's rows."""
    plugin = "mass_clone_record"
    _clone_rows(rows, plugin, "the list of the summary's rows ({name, project_id, nodes, ...})")
    if computes is not None and (isinstance(computes, string_types) or not isinstance(computes, (list, tuple))
                                 or not all(isinstance(compute, dict) for compute in computes)):
        raise AnsibleFilterError("labfarm.massclone.%s: computes must be a list of mappings {id, host}, got %s"
                                 % (plugin, type_name(computes)))
    return clone_set_record(rows, _text(source, "source", plugin), _text(source_project_id, "source_project_id", plugin),
                            _text(snapshot, "snapshot", plugin), storage_host=storage_host or None, computes=computes)


def mass_clone_nodes(clones, network):
    """``[{name, mac, ip}]``: every node with a MAC of ``clones`` (the summary's records) an address of ``network``."""
    plugin = "mass_clone_nodes"
    _clone_rows(clones, plugin, "the list of clone records (labfarm_mass_clone.clones: {name, nodes})",
                " {name, mac_address}")
    try:
        return node_reservations(clones, _text(network, "network", plugin))
    except CloneSetError as exc:
        raise AnsibleFilterError("labfarm.massclone.%s: mass_clone_nodes_network %s" % (plugin, to_native(exc)))


class FilterModule(object):
    """The mass_clone role's plan."""

    def filters(self):
        return {"mass_clone_clones": mass_clone_clones, "mass_clone_server_mac_prefix": mass_clone_server_mac_prefix,
                "mass_clone_record": mass_clone_record, "mass_clone_nodes": mass_clone_nodes}
