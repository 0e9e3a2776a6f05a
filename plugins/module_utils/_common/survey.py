# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Role inputs as an AWX survey passes them: every value may come as a string ("false", "eth1,eth2", "12",
a JSON text). One rule for every role: normalise(values, kinds) turns each value into the kind its role uses,
or names every value that cannot be. Standard library only (ansible's own boolean rule)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re
from collections.abc import Mapping

from ansible.module_utils.parsing.convert_bool import BOOLEANS, boolean

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_whole

KINDS = ("bool", "int", "float", "str", "list", "dict", "items", "raw")
_SPLIT_RE = re.compile(r"[,\n]")
_NAME_BAD_RE = re.compile(r"[^A-Za-z0-9._-]+")


def as_bool(value, option):
    """True/False for a bool, 0/1, or yes/no/true/false/on/off/y/n/1/0 in any case (ansible's rule)."""
    text = value.strip().lower() if isinstance(value, str) else value
    try:
        if text in BOOLEANS:
            return boolean(text)
    except TypeError:   # unhashable: a list, a mapping
        pass
    raise ValueError("%s must be a boolean (true/false, yes/no, on/off, 1/0), got %r" % (option, value))


def as_int(value, option):
    """An int for 12 or "12"; ValueError naming ``option`` otherwise."""
    return parse_whole(value, option)


def as_float(value, option):
    """A float for 1, 1.5, "1.5"; ValueError naming ``option`` otherwise (booleans are refused)."""
    if not isinstance(value, bool):
        try:
            return float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            pass
    raise ValueError("%s must be a number, got %r" % (option, value))


def _json(value, option, wanted):
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError("%s must be %s, got a string that is not JSON: %r" % (option, wanted, value))


def as_list(value, option):
    """A list for a list, a JSON list text, or a string of entries separated by commas or new lines
    (blank entries dropped, each stripped); [] for None and "". A mapping is refused."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            parsed = _json(text, option, "a list")
            if isinstance(parsed, list):
                return parsed
        return [part.strip() for part in _SPLIT_RE.split(text) if part.strip()]
    raise ValueError("%s must be a list or a string of comma-separated entries, not %s" % (option, type_name(value)))


def as_dict(value, option):
    """A dict for a dict or a JSON object text; {} for None and ""."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        value = _json(value.strip(), option, "a mapping")
    if not isinstance(value, dict):
        raise ValueError("%s must be a mapping (or its JSON text), not %s" % (option, type_name(value)))
    return dict(value)


def as_str(value, option):
    """A str; None becomes ""; numbers as written (a survey may send 7100 for a port range)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("%s must be a string, not %s" % (option, type_name(value)))
    return str(value)


def item_of_pair(text, option):
    """One copy item from the dolly+ form ``source > target`` (spaces optional): {name, src, dest}, named after
    the target's base name (characters other than letters, digits, '.', '_', '-' become '_')."""
    source, sep, target = text.partition(">")
    source, target = source.strip(), target.strip()
    if not sep or not source or not target or ">" in target:
        raise ValueError("%s: %r must be 'source > target' (as dolly+ writes its iofiles), or a mapping {name, src, dest}"
                         % (option, text))
    name = _NAME_BAD_RE.sub("_", posixpath.basename(target.rstrip("/")) or "item").strip("_")[:64] or "item"
    return {"name": name, "src": source, "dest": target}


def as_items(value, option):
    """Copy items: a list whose entries are mappings (kept as they are) or ``source > target`` strings, or one
    string of such pairs separated by commas or new lines. Names made from targets are kept unique (``sda``,
    ``sda-2``)."""
    items = []
    taken = set(item.get("name") for item in as_list(value, option) if isinstance(item, dict))
    for entry in as_list(value, option):
        if isinstance(entry, dict):
            items.append(entry)
            continue
        if not isinstance(entry, str):
            raise ValueError("%s: every entry must be a mapping or a 'source > target' string, not %s" % (option, type_name(entry)))
        item = item_of_pair(entry, option)
        base, count = item["name"], 1
        while item["name"] in taken:
            count += 1
            item["name"] = "%s-%d" % (base[:60], count)
        taken.add(item["name"])
        items.append(item)
    return items


CONVERTERS = {"bool": as_bool, "int": as_int, "float": as_float, "str": as_str, "list": as_list, "dict": as_dict,
              "items": as_items, "raw": lambda value, option: value}


def normalise(values, kinds, prefix=""):
    """``values`` ({name: raw value}) converted by ``kinds`` ({name: one of KINDS}): (normalised dict, [problems]).
    Every value named in ``kinds`` must be in ``values``; messages name the variable as ``prefix + name``."""
    if not isinstance(values, Mapping):
        return {}, ["the inputs must be a mapping, not %s" % type_name(values)]
    out, problems = {}, []
    for name, kind in kinds.items():
        if kind not in CONVERTERS:
            problems.append("%s%s: unknown kind %r (one of %s)" % (prefix, name, kind, ", ".join(KINDS)))
            continue
        if name not in values:
            problems.append("%s%s is missing" % (prefix, name))
            continue
        try:
            out[name] = CONVERTERS[kind](values[name], prefix + name)
        except ValueError as exc:
            problems.append(str(exc))
    for name in values:
        if name not in kinds:
            out[name] = values[name]
    return out, problems


def nodes_of_hosts(hosts):
    """Reservations {name, mac, ip[, boot]} from inventory hosts' variables (``hosts``: a list of hostvars):
    ``mac`` (or ``netboot_mac``), ``ip`` (or ``ansible_host``) and ``netboot_boot``; hosts without a MAC are
    left out (they cannot be reserved)."""
    nodes = []
    for host in hosts:
        if not isinstance(host, Mapping):
            raise ValueError("every host must be a mapping of host variables, not %s" % type_name(host))
        mac = host.get("mac") or host.get("netboot_mac")
        if not mac:
            continue
        node = {"name": host.get("inventory_hostname"), "mac": mac, "ip": host.get("ip") or host.get("ansible_host")}
        if host.get("netboot_boot"):
            node["boot"] = host["netboot_boot"]
        nodes.append(node)
    return nodes
