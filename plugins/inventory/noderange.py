# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: noderange
short_description: Groups of hosts declared by node ranges, with per-host addresses and placement
version_added: 0.1.0
description:
  - Builds an inventory from groups declared by range expressions such as C(Cexam_[01-40]), C(node[001-500]) or
    C(rack[1-2]-node[01-03]), in the syntax of P(labfarm.massclone.noderange#filter).
  - Each host gets variables computed from its position in its group - an index, a zero-padded number,
    an IP address from a subnet, a MAC address from a locally administered prefix, and the server it is
    placed on (a GNS3 server, a hypervisor) by a placement policy over servers with capacities.
  - The source is a YAML file whose name ends in C(noderange.yml) or C(noderange.yaml).
  - Errors name the file, the group and the key at fault, before any host is added.
  - See C(docs/inventory.md) in the collection for a complete example.
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin. It must be V(labfarm.massclone.noderange) for the file to be read.
    type: str
    required: true
    choices: [labfarm.massclone.noderange]
  limit:
    description: The most hosts one group range may expand to; checked before names are made.
    type: int
    default: 1000000
  ranges:
    description:
      - >-
        The groups to create, in order - a mapping of B(group name) to its definition. The suboptions below are the
        keys of each definition (C(ranges.exam.range), C(ranges.exam.ip.subnet)); a plain string is short for
        C({range: <string>}).
      - A range may name groups defined above it (V(exam,-exam_spare)) and use V(all) for every host defined so far.
    type: dict
    required: true
    suboptions:
      range:
        description: A node range expression, or a list of them.
        type: raw
        required: true
      vars:
        description: Variables given to the group.
        type: dict
      children:
        description: Other groups of this file to make children of this group.
        type: list
        elements: str
      index_start:
        description: The index of the first host of the range.
        type: int
        default: 1
      index_var:
        description: Name of the per-host variable holding the host's index; V('') to not set it.
        type: str
        default: clone_index
      number_var:
        description: Name of the per-host variable holding the index zero-padded to the width of the
          largest index (V(01) .. V(40)); V('') to not set it.
        type: str
        default: clone_number
      ip:
        description: Give each host an IP address from a subnet, in range order.
        type: dict
        suboptions:
          subnet:
            description: The subnet, V(10.40.0.0/16) or V(fd40::/64).
            type: str
            required: true
          offset:
            description: Offset from the network address of the first host's address.
            type: int
            default: 1
          start:
            description: The first host's address (instead of O(ranges.ip.offset)).
            type: str
          var:
            description: Name of the variable; use V(ansible_host) to connect to that address.
            type: str
            default: ip_address
      mac:
        description: Give each host a MAC address from a locally administered, unicast prefix, in range order.
        type: dict
        suboptions:
          prefix:
            description: One to five octets, V(02:42:0a). The first octet must have the locally administered
              bit set and the multicast bit clear (V(02), V(06), V(0a), V(0e), ...).
            type: str
            required: true
          offset:
            description: Number added to the host's position to make the rest of the address.
            type: int
            default: 0
          var:
            description: Name of the variable.
            type: str
            default: mac_address
      placement:
        description: Place each host of the range on one server by a placement policy.
        type: dict
        suboptions:
          hosts:
            description: The servers, as a node range or a list of names or of dicts
              (V(name), V(memory_mb), V(vcpus), V(used_memory_mb), V(used_vcpus), V(max_items), V(weight)).
            type: raw
            required: true
          policy:
            description: V(round_robin) cycles over servers; V(even) gives each server the same share in
              contiguous blocks; V(concentrated) fills one server before the next; V(weighted) shares by free capacity.
            type: str
            default: round_robin
            choices: [round_robin, even, concentrated, weighted]
          capacity:
            description: Default V(memory_mb), V(vcpus) and V(max_items) of every server that does not set its own.
            type: dict
          item:
            description: What each host of the range needs, V(memory_mb) and V(vcpus).
            type: dict
          cpu_overcommit:
            description: vCPUs that may be given per physical CPU.
            type: float
            default: 1.0
          var:
            description: Name of the per-host variable holding the server's name.
            type: str
            default: placement_host
          group:
            description:
              - Also add the servers to the inventory, in this group. Each server then gets a variable
                C(placement_<group>) that says what this group put on it - V(items), V(memory_mb) and V(vcpus)
                used, V(free_memory_mb), V(free_vcpus), V(memory_total_mb), V(vcpus_total), V(cpu_overcommit), V(policy).
            type: str
"""

EXAMPLES = r"""
# exam.noderange.yml: 40 GNS3 clones on 4 servers, each with an address and a MAC
plugin: labfarm.massclone.noderange
ranges:
  exam:
    range: Cexam_[01-40]
    vars:
      gns3_project_source: exam-template
    ip:
      subnet: 10.40.0.0/24
      offset: 10
    mac:
      prefix: "02:42:0a"
    placement:
      hosts: gns3-[1-4]
      policy: even
      capacity: {memory_mb: 65536, vcpus: 32}
      item: {memory_mb: 2048, vcpus: 2}
      var: gns3_host
      group: gns3_servers
  spare:
    range: exam@Cexam_[37-40]
compose:
  ansible_connection: "'local'"
keyed_groups:
  - key: gns3_host
    prefix: server

---
# cluster.noderange.yml: xCAT-style nodes, addresses used to connect
plugin: labfarm.massclone.noderange
ranges:
  compute:
    range: rack[1-4]-node[01-16]
    ip: {subnet: 172.16.0.0/20, start: 172.16.1.1, var: ansible_host}
  login:
    range: login[1-2]
  gpu:
    range: compute@/rack.-node1[56]
"""

import os

from ansible.errors import AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.vars import combine_vars, isidentifier

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import as_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.columns import ColumnError, index_columns, ip_column, mac_column
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import NodeRangeError, expand
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges import placement as placement_engine

_RANGE_KEYS = frozenset(["range", "vars", "children", "index_start", "index_var", "number_var", "ip", "mac", "placement"])
_IP_KEYS = frozenset(["subnet", "offset", "start", "var"])
_MAC_KEYS = frozenset(["prefix", "offset", "var"])
_PLACEMENT_KEYS = frozenset(["hosts", "policy", "capacity", "item", "cpu_overcommit", "var", "group"])


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = "labfarm.massclone.noderange"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        return os.path.basename(path).endswith(("noderange.yml", "noderange.yaml"))

    def parse(self, inventory, loader, path, cache=False):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        self._path = path
        ranges = self.get_option("ranges")
        if not isinstance(ranges, dict) or not ranges:
            raise self._error(None, "ranges", "must be a mapping of group names to range definitions")
        limit = self.get_option("limit")

        # Everything is computed first: a bad key anywhere adds no host at all.
        plans = []
        groups = {}
        universe = {}
        for group, spec in ranges.items():
            plan = self._plan_group(str(group), spec, groups, list(universe), limit)
            # A host's position variables come from the group that first defines it; a later
            # group naming it again (a subset like exam@Cexam_[37-40]) sets only what it asks for.
            plan["new"] = [host not in universe for host in plan["hosts"]]
            plans.append(plan)
            groups[plan["group"]] = plan["hosts"]
            universe.update(dict.fromkeys(plan["hosts"]))
        # Checks that need every group, still before any host is added.
        for plan in plans:
            self._check_references(plan, ranges, groups)
        for plan in plans:
            self._populate(plan)
        for plan in plans:
            for child in plan["children"]:
                self.inventory.add_child(plan["group"], child)
        self._construct(universe)

    def _check_references(self, plan, ranges, groups):
        group = plan["group"]
        # A word naming a group of this file that is not defined above reads as a host name.
        clash = [h for h in plan["hosts"] if h in ranges]
        if clash and clash[0] == group:
            raise self._error(group, "range", "names the group itself; a group cannot contain itself")
        if clash:
            raise self._error(group, "range", "%r is a group of this file, defined below %s; groups can only use the "
                              "groups above them: move %s above %s" % (clash[0], group, clash[0], group))
        for child in plan["children"]:
            if child not in groups:
                raise self._error(group, "children", "names %r, which is not a group of this file" % child)

    # -- errors ---------------------------------------------------------------
    def _error(self, group, key, message):
        where = "ranges.%s.%s" % (group, key) if group is not None else key
        return AnsibleParserError("%s: %s: %s" % (self._path, where, message))

    # -- planning -------------------------------------------------------------
    def _plan_group(self, group, spec, groups, universe, limit):
        if isinstance(spec, str):
            spec = {"range": spec}
        if not isinstance(spec, dict):
            raise self._error(group, "range", "expected a mapping with a 'range' key (or a range string), got %s"
                              % type_name(spec))
        unknown = sorted(set(spec) - _RANGE_KEYS)
        if unknown:
            raise self._error(group, unknown[0], "unknown key; valid keys are %s" % ", ".join(sorted(_RANGE_KEYS)))
        if "range" not in spec:
            raise self._error(group, "range", "is required (e.g. range: %s_[01-40])" % group)
        try:
            hosts = expand(spec["range"], groups=groups, universe=universe, limit=limit)
        except NodeRangeError as exc:
            raise self._error(group, "range", to_native(exc))
        group_vars = spec.get("vars") or {}
        if not isinstance(group_vars, dict):
            raise self._error(group, "vars", "must be a mapping, got %s" % type_name(group_vars))
        children = spec.get("children") or []
        if not isinstance(children, list):
            raise self._error(group, "children", "must be a list of group names")
        index_start = self._int(group, "index_start", spec.get("index_start", 1))
        columns = []
        index_var = self._var_name(group, "index_var", spec.get("index_var", "clone_index"), allow_empty=True)
        number_var = self._var_name(group, "number_var", spec.get("number_var", "clone_number"), allow_empty=True)
        explicit = bool(set(spec) & set(["index_start", "index_var", "number_var"]))
        if index_var or number_var:
            indexes, numbers = index_columns(len(hosts), index_start)
            if index_var:
                columns.append((index_var, indexes, explicit))
            if number_var:
                columns.append((number_var, numbers, explicit))
        if spec.get("ip") is not None:
            columns.append(self._plan_ip(group, spec["ip"], hosts) + (True,))
        if spec.get("mac") is not None:
            columns.append(self._plan_mac(group, spec["mac"], hosts) + (True,))
        servers = None
        if spec.get("placement") is not None:
            var, servers, assigned = self._plan_placement(group, spec["placement"], hosts, limit)
            columns.append((var, assigned, True))
        return {"group": group, "hosts": hosts, "vars": group_vars, "children": children,
                "columns": columns, "servers": servers}

    def _int(self, group, key, value):
        number = as_whole(value)
        if number is None:
            raise self._error(group, key, "must be a whole number, got %r" % (value,))
        return number

    def _var_name(self, group, key, value, allow_empty=False):
        if allow_empty and value in ("", None):
            return ""
        if not isinstance(value, str) or not isidentifier(value):
            raise self._error(group, key, "%r is not a valid variable name (letters, digits and _, not starting with "
                              "a digit)%s" % (value, "; use '' to not set it" if allow_empty else ""))
        return value

    def _check_keys(self, group, key, spec, valid):
        if not isinstance(spec, dict):
            raise self._error(group, key, "must be a mapping, got %s" % type_name(spec))
        unknown = sorted(set(spec) - valid)
        if unknown:
            raise self._error(group, "%s.%s" % (key, unknown[0]), "unknown key; valid keys are %s" % ", ".join(sorted(valid)))

    def _plan_ip(self, group, spec, hosts):
        self._check_keys(group, "ip", spec, _IP_KEYS)
        if not spec.get("subnet"):
            raise self._error(group, "ip.subnet", "is required (e.g. subnet: 10.40.0.0/24)")
        offset = self._int(group, "ip.offset", spec.get("offset", 1)) if spec.get("start") is None else 1
        try:
            addresses = ip_column(len(hosts), spec["subnet"], start=spec.get("start"), offset=offset)
        except ColumnError as exc:
            raise self._error(group, exc.key, to_native(exc))
        return (self._var_name(group, "ip.var", spec.get("var") or "ip_address"), addresses)

    def _plan_mac(self, group, spec, hosts):
        self._check_keys(group, "mac", spec, _MAC_KEYS)
        offset = self._int(group, "mac.offset", spec.get("offset", 0))
        try:
            macs = mac_column(len(hosts), str(spec.get("prefix") or ""), offset)
        except ColumnError as exc:
            raise self._error(group, exc.key, to_native(exc))
        return (self._var_name(group, "mac.var", spec.get("var") or "mac_address"), macs)

    def _plan_placement(self, group, spec, hosts, limit):
        self._check_keys(group, "placement", spec, _PLACEMENT_KEYS)
        servers = spec.get("hosts")
        if not servers:
            raise self._error(group, "placement.hosts", "is required: the servers to place the hosts on (e.g. gns3-[1-4])")
        if isinstance(servers, str):
            try:
                servers = expand(servers, limit=limit)
            except NodeRangeError as exc:
                raise self._error(group, "placement.hosts", to_native(exc))
        if not isinstance(servers, list):
            raise self._error(group, "placement.hosts", "must be a node range or a list, got %s" % type_name(servers))
        capacity = spec.get("capacity") or {}
        if not isinstance(capacity, dict):
            raise self._error(group, "placement.capacity", "must be a mapping (memory_mb, vcpus, max_items)")
        records = []
        for server in servers:
            record = dict(capacity)
            if isinstance(server, dict):
                record.update(server)
            else:
                record["name"] = server
            records.append(record)
        policy = spec.get("policy") or "round_robin"
        overcommit = spec.get("cpu_overcommit", 1.0)
        try:
            pairs = placement_engine.place(hosts, records, policy=policy, item=spec.get("item"), cpu_overcommit=overcommit)
            summary = placement_engine.summarize(pairs, records, item=spec.get("item"), items=hosts,
                                                 cpu_overcommit=overcommit)
        except placement_engine.PlacementError as exc:
            raise self._error(group, "placement", to_native(exc))
        for record, used in zip(records, summary):
            used["memory_total_mb"] = record.get("memory_mb")
            used["vcpus_total"] = record.get("vcpus")
            used["policy"] = policy
            used["cpu_overcommit"] = overcommit
            used["group"] = group
        var = self._var_name(group, "placement.var", spec.get("var") or "placement_host")
        return var, (summary, spec.get("group")), [server for _item, server in pairs]

    # -- populating -----------------------------------------------------------
    def _populate(self, plan):
        inventory = self.inventory
        group = inventory.add_group(plan["group"])
        for key, value in plan["vars"].items():
            inventory.set_variable(group, key, value)
        columns = plan["columns"]
        for pos, host in enumerate(plan["hosts"]):
            inventory.add_host(host, group=group)
            new = plan["new"][pos]
            for var, values, explicit in columns:
                if new or explicit:
                    inventory.set_variable(host, var, values[pos])
        servers = plan.get("servers")
        if servers and servers[1]:
            summary, server_group = servers
            inventory.add_group(server_group)
            for used in summary:
                inventory.add_host(used["host"], group=server_group)
                # what this group put on the server: counts, memory and vCPUs used and left
                inventory.set_variable(used["host"], "placement_%s" % plan["group"], used)

    def _construct(self, hosts):
        compose = self.get_option("compose")
        conditional = self.get_option("groups")
        keyed = self.get_option("keyed_groups")
        if not (compose or conditional or keyed):
            return  # the per-host variable merge below costs more than the rest of the parse
        strict = self.get_option("strict")
        for name in hosts:
            host = self.inventory.get_host(name)
            # group vars first, host vars over them: what a play would see
            hostvars = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._set_composite_vars(compose, hostvars, name, strict=strict)
            hostvars = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._add_host_to_composed_groups(conditional, hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(keyed, hostvars, name, strict=strict)
