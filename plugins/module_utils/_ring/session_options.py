# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The disk_ring role's inputs, checked all at once before anything starts: every problem is a message
that names the variable, the value and the fix. Standard library only.

The role hands its variables over as one mapping (see ``check_session_inputs``); what comes back is the
same inputs normalised (whole numbers as ints, the port range as a pair, each node's address resolved),
ready for ``session.plan_session``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_port_range, parse_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import item_errors, key_bytes

NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NAME_RULE = "1-64 letters, digits, '.', '_' or '-'"
# Seconds and counts the role waits on: none of them means anything at 0.
AT_LEAST_ONE = ("timeout", "wait_timeout", "poll_interval", "async_timeout", "poll_max")
NETBOOT_REQUIRED = ("backend", "dest", "subnets")


def node_address(host, address, ansible_host):
    """Where a node listens and is reached: its disk_ring_address, else its ansible_host, else its name."""
    return address or ansible_host or host


def _port(value, option, fix, errors):
    try:
        return parse_whole(value, option, 0, 65535, fix)
    except ValueError as exc:
        errors.append(str(exc))
        return None


def _check_group(inputs, errors):
    group = inputs.get("group")
    name = inputs.get("receivers_group")
    if group is None:
        known = sorted(g for g in inputs.get("groups") or [] if g not in ("all", "ungrouped"))
        errors.append("disk_ring_receivers_group %r is not a group of the inventory; known: %s" % (name, ", ".join(known)))
        return
    members = set(group)
    outside = [host for host in inputs.get("play_hosts") or [] if host not in members]
    if outside:
        errors.append("hosts %s of the play are not in the group %s: run the play on that group (hosts: %s)"
                      % (", ".join(outside), name, name))


def _check_source(inputs, errors):
    source = inputs.get("source") or {}
    name = source.get("host")
    if not name or not source.get("known"):
        errors.append("disk_ring_source %r is not a host of the inventory: give the golden node's inventory name" % (name or "",))
    elif name in (inputs.get("play_hosts") or []):
        errors.append("disk_ring_source %s is also a receiver: leave it out of the play (-l '!%s')" % (name, name))


def _text(value):
    return value if isinstance(value, str) or value is None else repr(value)


def _check_items(items, errors):
    """[{name, src, format}] for the source, from disk_ring_items; messages for every bad item. The ring's own
    rules (names unique, a dest for every receiver, absolute) come from the ring's options; the role adds what it
    needs before the session is planned (names it can put in paths, a src the source can find without a cwd)."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        errors.append("disk_ring_items must be a list of mappings {name, src, dest, format}, not %s"
                      % (type_name(items) if not isinstance(items, list) else "a list of " + ", ".join(type_name(i) for i in items)))
        return []
    if not items:
        errors.append("disk_ring_items is empty: give at least one {name, src, dest, format}")
        return []
    for index, item in enumerate(items):
        name = item.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors.append("disk_ring_items[%d]: name %r must be %s" % (index, name, NAME_RULE))
        if not isinstance(item.get("src"), str) or not item["src"].startswith("/"):
            errors.append("disk_ring_items[%d] (%s): src %r must be an absolute path" % (index, name, item.get("src")))
    receiver_view = [{"name": _text(item.get("name")), "dest": _text(item.get("dest"))} for item in items]
    errors.extend("disk_ring_items: %s" % error for error in item_errors(receiver_view, send=False))
    return [{"name": item.get("name"), "src": item.get("src"), "format": item.get("format") or "raw"} for item in items]


def _check_netboot(inputs, nodes, errors):
    if not inputs.get("netboot_local"):
        return
    server = inputs.get("netboot_server")
    if not server or not inputs.get("netboot_server_known"):
        errors.append("disk_ring_netboot_server %r is not a host of the inventory: name the netboot server "
                      "(disk_ring_netboot_local is true)" % (server or "",))
    config = inputs.get("netboot_config") or {}
    for key in NETBOOT_REQUIRED:
        if key not in config:
            errors.append("disk_ring_netboot_config has no %s: give the netboot_config parameters the netboot server uses "
                          "(backend, dest, subnets, tftp_root, ...)" % key)
    if "hosts" in config:
        errors.append("disk_ring_netboot_config has hosts: give them in disk_ring_netboot_hosts")
    known = set(host.get("name") for host in inputs.get("netboot_hosts") or [] if isinstance(host, dict))
    missing = [node["netboot_name"] for node in nodes if node["netboot_name"] not in known]
    if missing:
        errors.append("receivers %s are not in disk_ring_netboot_hosts (the netboot server's whole host list): "
                      "add them or set disk_ring_netboot_name" % ", ".join(missing))


def _nodes(inputs, errors):
    order_by = inputs.get("order_by") or ""
    nodes = []
    for node in inputs.get("nodes") or []:
        host = node["host"]
        nodes.append({
            "host": host,
            "address": node_address(host, node.get("address"), node.get("ansible_host")),
            "port": _port(node.get("port") or 0, "%s: disk_ring_port" % host,
                          "Give 1-65535, or 0 to derive it from the session.", errors),
            "order_key": node.get("order_key"),
            "netboot_name": node.get("netboot_name") or host,
        })
        if order_by and node.get("order_key") is None:
            errors.append("%s has no variable %s (disk_ring_order_by): set it on every receiver, or order by another one"
                          % (host, order_by))
    return nodes


def check_session_inputs(inputs):
    """(options, errors): the role's inputs normalised, and every problem with them, in the order the role lists them.

    ``inputs`` holds the role's variables without their ``disk_ring_`` prefix (``items``, ``session``, ``key``,
    ``port_range``, ``source_port``, ``order_by``, ``timeout`` ..., ``state_dir``, ``netboot_*``), and what only
    the play knows: ``receivers_group`` with ``group`` (its members, None when there is no such group) and
    ``groups`` (every group's name), ``play_hosts``, ``nodes`` (per receiver: ``host``, ``address``,
    ``ansible_host``, ``port``, ``order_key``, ``netboot_name`` as the host's own variables give them),
    ``source`` (``host``, ``known``, and the same ``address``, ``ansible_host``, ``port``) and
    ``netboot_server_known``. A value that fails its check is None in ``options``.
    """
    errors = []
    _check_group(inputs, errors)
    _check_source(inputs, errors)
    send_items = _check_items(inputs.get("items"), errors)
    session = inputs.get("session") or ""
    if session and not (isinstance(session, str) and NAME_RE.match(session)):
        errors.append("disk_ring_session %r must be %s" % (session, NAME_RULE))
        session = None
    if inputs.get("key"):
        try:
            key_bytes(inputs["key"], "disk_ring_key")
        except RingError as exc:
            errors.append(str(exc))
    try:
        port_range = parse_port_range(inputs.get("port_range"), "disk_ring_port_range")
    except ValueError as exc:
        errors.append(str(exc))
        port_range = None
    source_port = _port(inputs.get("source_port") or 0, "disk_ring_source_port",
                        "Give 1-65535, or 0 for the session's port.", errors)
    nodes = _nodes(inputs, errors)
    source = inputs.get("source") or {}
    source_host = source.get("host") or ""
    source = {"host": source_host, "known": bool(source.get("known")),
              "address": node_address(source_host, source.get("address"), source.get("ansible_host")),
              "port": _port(source.get("port") or 0, "the source %s: disk_ring_port" % source_host,
                            "Give 1-65535, or 0 for the session's port.", errors)}
    numbers = {}
    for name in AT_LEAST_ONE:
        try:
            numbers[name] = parse_whole(inputs.get(name), "disk_ring_" + name, minimum=1)
        except ValueError as exc:
            errors.append(str(exc))
            numbers[name] = None
    _check_netboot(inputs, nodes, errors)
    options = {
        "group": list(inputs.get("group") or []),
        "play_hosts": list(inputs.get("play_hosts") or []),
        "nodes": nodes,
        "source": source,
        "source_port": source_port,
        "send_items": send_items,
        "session": session,
        "port_range": port_range,
        "order_by": inputs.get("order_by") or "",
        "state_dir": inputs.get("state_dir") or "",
    }
    options.update(numbers)
    return options, errors
