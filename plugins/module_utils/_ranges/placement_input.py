# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Placement input: hosts, items, needs and options as users write them, checked and made exact.

Numbers arrive as ints, floats or numeric strings (inventory variables, AWX surveys). Whole counts
(``memory_mb``, ``used_memory_mb``, ``max_items``) follow the collection's one whole-number rule
(``_common.numbers.as_whole``); amounts that may be fractional (``vcpus``, ``used_vcpus``, ``weight``,
``cpu_overcommit``) become exact ``fractions.Fraction`` values, so that an overcommit ratio such as 1.2
never lets float rounding admit or refuse an item. Every error is a ``PlacementError`` naming the host or
item, the key, the value and the fix. The solver is placement.py.

Pure standard library and no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal
import math
from fractions import Fraction

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import as_whole

POLICIES = ("round_robin", "even", "concentrated", "weighted")


class PlacementError(ValueError):
    """Invalid placement input, or items that do not all fit.

    Raised before anything is placed. ``str(e)`` is a complete user-facing
    message. For capacity errors ``asked`` (items asked), ``fits`` (how many a
    greedy placement manages), ``missing_memory_mb`` (int) and
    ``missing_vcpus`` (int, or float when fractional) are set; for input errors
    (bad hosts, items, policy...) they are all None.
    """

    def __init__(self, message, asked=None, fits=None, missing_memory_mb=None, missing_vcpus=None):
        super(PlacementError, self).__init__(message)
        self.asked = asked
        self.fits = fits
        self.missing_memory_mb = missing_memory_mb
        self.missing_vcpus = missing_vcpus


# ---------------------------------------------------------------------------
# Value parsing


class Host(object):
    """One host, checked: its capacities, what is used, and what is free (None: unlimited)."""

    __slots__ = ("index", "name", "memory_mb", "vcpus", "used_memory_mb", "used_vcpus",
                 "max_items", "weight", "free_memory", "free_vcpus", "overcommit")


class Item(object):
    """One item, checked: its name, position and needs (memory in MiB, vCPUs as a Fraction)."""

    __slots__ = ("index", "name", "memory", "vcpus")

    def needs(self):
        return (self.memory, self.vcpus)


def _describe(value):
    return "%r (%s)" % (value, type_name(value))


def _to_fraction(value):
    """Exact value of a number given as int, float, Decimal or numeric string; None if it is not one."""
    # bool is an int subclass, but True as a capacity is always a mistake.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # repr() is the shortest string that round-trips: 1.2 reads as 6/5,
        # which is what the user wrote, not the binary approximation.
        return Fraction(repr(value))
    if isinstance(value, (Fraction, decimal.Decimal)):
        try:
            return Fraction(value)
        except (ValueError, OverflowError, TypeError):
            return None
    # Inventory variables often arrive as strings ("4096"); accept them.
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _bad_value(where, key, value, expected, fix):
    return PlacementError("%s: %s must be %s; got %r. %s" % (where, key, expected, value, fix))


def _parse_whole(where, key, value, fix):
    number = as_whole(value)
    if number is None or number < 0:
        raise _bad_value(where, key, value, "a whole number >= 0", fix)
    return number


def _parse_amount(where, key, value, fix):
    number = _to_fraction(value)
    if number is None or number < 0:
        raise _bad_value(where, key, value, "a number >= 0", fix)
    return number


def _claim_name(kind, index, name, seen):
    """Record that ``kind``s[index] is called ``name``; PlacementError when an earlier one already is."""
    if name in seen:
        raise PlacementError("%ss[%d]: duplicate %s name %r (also %ss[%d]); %s names must be unique. "
                             "Remove or rename one of them." % (kind, index, kind, name, kind, seen[name], kind))
    seen[name] = index


def plain(number):
    """A Fraction as the int or float a caller expects (JSON-friendly)."""
    if number is None:
        return None
    if isinstance(number, Fraction):
        if number.denominator == 1:
            return int(number)
        return float(number)
    return number


def _parse_overcommit(cpu_overcommit):
    ratio = _to_fraction(cpu_overcommit)
    if ratio is None or ratio <= 0:
        raise PlacementError("cpu_overcommit must be a number > 0 (1.0 means no overcommit); got %r. "
                             "Use for example 1.0, or 2.0 to allow twice as many vCPUs as the hosts have."
                             % (cpu_overcommit,))
    return ratio


# ---------------------------------------------------------------------------
# Hosts


def read_hosts(hosts, cpu_overcommit):
    """The checked Host records of ``hosts`` (see normalize_hosts())."""
    ratio = _parse_overcommit(cpu_overcommit)
    # A string or a mapping is iterable too, but iterating it would make
    # hosts out of characters or keys: refuse it up front.
    if isinstance(hosts, (str, bytes, dict)) or not isinstance(hosts, (list, tuple)):
        raise PlacementError("hosts must be a list of host names or of host mappings with a 'name' key; got %s."
                             % _describe(hosts))
    if not hosts:
        raise PlacementError("no hosts given: placement needs at least one host. Give a non-empty list of hosts.")
    records = []
    seen = {}
    for index, spec in enumerate(hosts):
        label = "hosts[%d]" % index
        if isinstance(spec, str):
            spec = {"name": spec}
        elif not isinstance(spec, dict):
            raise PlacementError("%s: each host must be a host name or a mapping with a 'name' key; got %s."
                                 % (label, _describe(spec)))
        name = spec.get("name")
        if name is None or (isinstance(name, str) and not name.strip()):
            raise PlacementError("%s: missing 'name' (got %r); every host needs a unique, non-empty name."
                                 % (label, spec))
        if not isinstance(name, str):
            raise PlacementError("%s: host name must be a string; got %s. Quote it in YAML." % (label, _describe(name)))
        _claim_name("host", index, name, seen)
        where = "host %r" % name
        host = Host()
        host.index = index
        host.name = name
        host.overcommit = ratio

        memory = spec.get("memory_mb")
        host.memory_mb = None if memory is None else _parse_whole(
            where, "memory_mb", memory, "Fix it in MiB, or leave memory_mb out (or null) for unlimited memory.")
        vcpus = spec.get("vcpus")
        host.vcpus = None if vcpus is None else _parse_amount(
            where, "vcpus", vcpus, "Fix it, or leave vcpus out (or null) for unlimited vCPUs.")
        used_memory = spec.get("used_memory_mb")
        host.used_memory_mb = 0 if used_memory is None else _parse_whole(
            where, "used_memory_mb", used_memory, "Fix it in MiB, or leave used_memory_mb out for 0.")
        used_vcpus = spec.get("used_vcpus")
        host.used_vcpus = Fraction(0) if used_vcpus is None else _parse_amount(
            where, "used_vcpus", used_vcpus, "Fix it, or leave used_vcpus out for 0.")
        cap = spec.get("max_items")
        host.max_items = None if cap is None else _parse_whole(
            where, "max_items", cap, "Fix it, or leave max_items out (or null) for no cap on items.")
        weight = spec.get("weight")
        if weight is None:
            host.weight = None
        else:
            host.weight = _to_fraction(weight)
            if host.weight is None or host.weight <= 0:
                raise _bad_value(where, "weight", weight, "a number > 0", "Fix it, or leave weight out.")

        # A host already used beyond its capacity has no room; a negative
        # "free" would also wrongly offset other hosts' room in the totals.
        host.free_memory = None if host.memory_mb is None else max(0, host.memory_mb - host.used_memory_mb)
        host.free_vcpus = None if host.vcpus is None else max(Fraction(0), host.vcpus * ratio - host.used_vcpus)
        records.append(host)
    return records


def normalize_hosts(hosts, cpu_overcommit=1.0):
    """Validate hosts and compute their free capacity.

    ``hosts`` is a list of host-name strings (unlimited hosts) and/or mappings
    ``{name, memory_mb, vcpus, used_memory_mb, used_vcpus, max_items, weight}``
    (only ``name`` is required; other keys are ignored, so richer inventory
    records can be passed as they are). Numbers may be ints, floats or numeric
    strings; ``memory_mb``, ``used_memory_mb`` and ``max_items`` must be whole.

    Returns a list of dicts in the given order with the keys ``name``,
    ``memory_mb``, ``vcpus``, ``used_memory_mb``, ``used_vcpus``,
    ``max_items``, ``weight`` (None when not given), ``free_memory_mb`` and
    ``free_vcpus`` (None when unlimited; ``vcpus * cpu_overcommit -
    used_vcpus``, floored at 0). The result is valid input again.

    Raises PlacementError (a ValueError) for an empty or non-list ``hosts``,
    a missing, non-string or duplicate name, a negative or non-numeric value
    (the message names the host, the key and the value) and
    ``cpu_overcommit <= 0``.
    """
    return [_host_record(host) for host in read_hosts(hosts, cpu_overcommit)]


def _host_record(host):
    return {
        "name": host.name,
        "memory_mb": host.memory_mb,
        "vcpus": plain(host.vcpus),
        "used_memory_mb": host.used_memory_mb,
        "used_vcpus": plain(host.used_vcpus),
        "max_items": host.max_items,
        "weight": plain(host.weight),
        "free_memory_mb": host.free_memory,
        "free_vcpus": plain(host.free_vcpus),
    }


# ---------------------------------------------------------------------------
# Items


def item_needs(item):
    """(memory, vcpus) of the default needs ``item``; (0, 0) for None."""
    if item is None:
        return 0, Fraction(0)
    if not isinstance(item, dict):
        raise PlacementError("item must be a mapping with memory_mb and/or vcpus (the needs of each item); got %s."
                             % _describe(item))
    memory = item.get("memory_mb")
    vcpus = item.get("vcpus")
    memory = 0 if memory is None else _parse_whole("item", "memory_mb", memory, "Fix it in MiB, or leave it out for 0.")
    vcpus = Fraction(0) if vcpus is None else _parse_amount("item", "vcpus", vcpus, "Fix it, or leave it out for 0.")
    return memory, vcpus


def read_items(items, item=None):
    """The checked Item records of ``items`` (see normalize_items())."""
    default_memory, default_vcpus = item_needs(item)
    if isinstance(items, bool) or not isinstance(items, (int, list, tuple)):
        raise PlacementError("items must be a count (int) or a list of item names or of item mappings "
                             "with a 'name' key; got %s." % _describe(items))
    if isinstance(items, int):
        if items < 0:
            raise PlacementError("items must be >= 0 when given as a count; got %d." % items)
        specs = [str(number) for number in range(1, items + 1)]
    else:
        specs = items
    records = []
    seen = {}
    for index, spec in enumerate(specs):
        label = "items[%d]" % index
        if isinstance(spec, dict):
            name = spec.get("name")
        else:
            name, spec = spec, {}
        # YAML turns unquoted clone numbers into ints: take them as names.
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.strip():
            raise PlacementError("%s: each item must be a non-empty name or a mapping with a non-empty 'name'; got %r."
                                 % (label, specs[index]))
        _claim_name("item", index, name, seen)
        where = "item %r" % name
        record = Item()
        record.index = index
        record.name = name
        memory = spec.get("memory_mb")
        vcpus = spec.get("vcpus")
        record.memory = default_memory if memory is None else _parse_whole(
            where, "memory_mb", memory, "Fix it in MiB, or leave it out to use the default.")
        record.vcpus = default_vcpus if vcpus is None else _parse_amount(
            where, "vcpus", vcpus, "Fix it, or leave it out to use the default.")
        records.append(record)
    return records


def normalize_items(items, item=None):
    """Validate items and resolve their needs.

    ``items`` is a count N (items named ``'1'`` .. ``'N'``), or a list whose
    elements are item names (str; ints are taken as names too, as YAML reads
    unquoted numbers) or mappings ``{name, memory_mb, vcpus}``. ``item`` gives
    the default needs ``{memory_mb, vcpus}`` for items that do not set their
    own; needs default to 0.

    Returns a list of dicts ``{name, memory_mb, vcpus}`` in the given order.
    Raises PlacementError for a negative count, a bad type, a missing or
    duplicate name, or a negative or non-numeric need.
    """
    return [{"name": it.name, "memory_mb": it.memory, "vcpus": plain(it.vcpus)}
            for it in read_items(items, item)]


# ---------------------------------------------------------------------------
# Policy and assignment


def check_policy(policy):
    if policy not in POLICIES:
        raise PlacementError("unknown placement policy %r; valid policies: %s." % (policy, ", ".join(POLICIES)))


def assignment_pairs(assignment):
    if isinstance(assignment, dict):
        return list(assignment.items())
    if isinstance(assignment, (list, tuple)):
        pairs = []
        for index, pair in enumerate(assignment):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise PlacementError("assignment[%d]: expected an (item_name, host_name) pair; got %r." % (index, pair))
            pairs.append((pair[0], pair[1]))
        return pairs
    raise PlacementError("assignment must be a list of (item_name, host_name) pairs or a mapping of item to host; "
                         "got %s." % _describe(assignment))
