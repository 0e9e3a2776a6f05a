# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Placement: distribute N items (project clones, VMs) over hosts with capacities.

The job vm5k does for Grid'5000 VM deployments, with the gaps closed: the
remainder of an even split is placed instead of dropped, capacities are never
exceeded, heterogeneous items are handled, and "not enough room" is reported
with figures before anything is placed.

Hosts have free memory (MiB), free vCPUs (``vcpus * cpu_overcommit -
used_vcpus``) and an optional hard cap on items (``max_items``, e.g. console
ports). A host without ``memory_mb`` / ``vcpus`` / ``max_items`` is unlimited
in that dimension. An item fits on a host when its memory and vCPUs fit in
what is left there and the host is below its item cap.

Policies (``POLICIES``):

* ``round_robin``: item by item, cycle over the hosts in order, skipping hosts
  that have no room for that item: items are interleaved.
* ``even``: vm5k's ``n_by_hosts``: N // H items per host and one more for the
  first N % H hosts; what a host cannot take is spread evenly over the hosts
  that still have room (water filling), so hosts that are not full differ by
  at most one item. Contiguous blocks in host order.
* ``concentrated``: fill the first host to capacity, then the next (first fit).
* ``weighted``: shares proportional to each host's capacity for these items
  (or its ``weight`` when every host gives one), rounded by the largest
  remainder method, capped by capacity with the overflow shared again by the
  same rule. Contiguous blocks in host order.

When a policy's own layout cannot hold heterogeneous items, the left-over items
go to the first host with room; then other item orders, plain first fit and,
as a last resort, a bounded depth-first search are tried. ``PlacementError``
is raised only when none of these places every item. Identical items never
need that: for them the policies are exact (they fail only when the capacity
really is short).

Everything is deterministic: ties are broken by host order, then item order.
vCPU arithmetic is exact (``fractions.Fraction``) so that overcommit ratios such
as 1.2 never let float rounding admit or refuse an item. Public functions take
and return plain ``int`` / ``float`` / ``str`` values only.

The checks of hosts, items and numbers as users give them live in
placement_input.py; this file is the solver and the figures.

Pure standard library and no I/O: this runs on managed nodes and in controller
plugins alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fractions import Fraction

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement_input import (
    POLICIES,
    Item,
    PlacementError,
    assignment_pairs,
    check_policy,
    item_needs,
    normalize_hosts,
    normalize_items,
    plain,
    read_hosts,
    read_items,
)

# What callers use; the input functions are re-exported so that one import serves.
__all__ = ["POLICIES", "PlacementError", "max_items", "normalize_hosts", "normalize_items", "place", "summarize"]

_HINT = "Add hosts or capacity, raise cpu_overcommit, or ask for fewer items."
# How many oversized items an error message names before it says "...".
_MAX_NAMED = 5


def _fmt(number):
    """A number for a message: 2, 1.5, 0.333333."""
    number = plain(number)
    if isinstance(number, float):
        return ("%.6f" % number).rstrip("0").rstrip(".")
    return str(number)


# ---------------------------------------------------------------------------
# Capacity arithmetic


def _max_count(host, memory, vcpus):
    """How many items needing (memory, vcpus) fit on an empty ``host``; None if unbounded."""
    limits = []
    if host.max_items is not None:
        limits.append(host.max_items)
    if memory > 0 and host.free_memory is not None:
        limits.append(int(host.free_memory // memory))
    if vcpus > 0 and host.free_vcpus is not None:
        limits.append(int(host.free_vcpus // vcpus))
    return min(limits) if limits else None


def _homogeneous(items):
    first = items[0].needs()
    return all(it.needs() == first for it in items)


class _State(object):
    """What has been put on each host so far in one placement attempt."""

    def __init__(self, hosts, count):
        self.hosts = hosts
        self.memory = [0] * len(hosts)
        self.vcpus = [Fraction(0)] * len(hosts)
        self.count = [0] * len(hosts)
        self.assignment = [None] * count
        self.placed = 0

    def fits(self, h, item):
        host = self.hosts[h]
        if host.max_items is not None and self.count[h] >= host.max_items:
            return False
        if host.free_memory is not None and self.memory[h] + item.memory > host.free_memory:
            return False
        if host.free_vcpus is not None and self.vcpus[h] + item.vcpus > host.free_vcpus:
            return False
        return True

    def put(self, h, item):
        self.memory[h] += item.memory
        self.vcpus[h] += item.vcpus
        self.count[h] += 1
        self.assignment[item.index] = h
        self.placed += 1


def _capacities(hosts, items):
    """How many of ``items`` each host can take on its own, at most len(items).

    Exact for identical items. For mixed items, smallest first (by memory, then
    vCPUs) on that host alone: an estimate that only sets the block sizes, the
    placement itself still checks every item.
    """
    n = len(items)
    if _homogeneous(items):
        memory, vcpus = items[0].needs()
        caps = []
        for host in hosts:
            count = _max_count(host, memory, vcpus)
            caps.append(n if count is None else min(n, count))
        return caps
    smallest_first = sorted(items, key=lambda it: (it.memory, it.vcpus, it.index))
    caps = []
    for host in hosts:
        state = _State([host], n)
        for it in smallest_first:
            if state.fits(0, it):
                state.put(0, it)
        caps.append(state.placed)
    return caps


def _largest_remainder(total, weights):
    """Split ``total`` in proportion to ``weights`` (Fractions, sum > 0); ties by position."""
    weight_sum = sum(weights)
    quotas = [total * w / weight_sum for w in weights]
    shares = [int(q) for q in quotas]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def _even_counts(total, caps):
    """vm5k's n_by_hosts with capacities: water filling to a level, remainder to the first hosts."""
    if sum(caps) <= total:
        return list(caps)

    def filled(level):
        return sum(min(cap, level) for cap in caps)

    # Largest level L with filled(L) <= total; filled() only grows with L.
    low, high = 0, total
    while low < high:
        middle = (low + high + 1) // 2
        if filled(middle) <= total:
            low = middle
        else:
            high = middle - 1
    level = low
    counts = [min(cap, level) for cap in caps]
    left = total - sum(counts)
    # filled(level + 1) > total guarantees more than `left` hosts above the level.
    for h, cap in enumerate(caps):
        if left == 0:
            break
        if cap > level:
            counts[h] += 1
            left -= 1
    return counts


def _weighted_counts(total, weights, caps):
    """Largest-remainder shares capped by capacity, the overflow shared again by the same rule."""
    if sum(caps) <= total:
        return list(caps)
    counts = [None] * len(caps)
    active = list(range(len(caps)))
    left = total
    while True:
        active_weights = [weights[h] for h in active]
        if sum(active_weights) == 0:
            # Only hosts whose capacity rounds down to no "average" item are
            # left (mixed items); they may still hold small ones: share evenly.
            active_weights = [Fraction(1) if caps[h] > 0 else Fraction(0) for h in active]
        shares = _largest_remainder(left, active_weights)
        over = [h for h, share in zip(active, shares) if share > caps[h]]
        if not over:
            for h, share in zip(active, shares):
                counts[h] = share
            return counts
        # Each capped host takes less than its share, so `left` stays
        # positive and, as sum(caps) > total, some host always stays active.
        for h in over:
            counts[h] = caps[h]
            left -= caps[h]
        active = [h for h in active if h not in over]


def _weights(hosts, items):
    given = [host.weight is not None for host in hosts]
    if all(given):
        return [host.weight for host in hosts]
    if any(given):
        with_weight = hosts[given.index(True)].name
        without = hosts[given.index(False)].name
        raise PlacementError("policy weighted: host %r has a weight but host %r has none; "
                             "give every host a weight, or none to weigh hosts by capacity." % (with_weight, without))
    n = len(items)
    # Capacity in "average items" keeps proportions for mixed items too; for
    # identical items it is exactly max_items() per host.
    memory = Fraction(sum(it.memory for it in items), n)
    vcpus = sum(it.vcpus for it in items) / n
    counts = [_max_count(host, memory, vcpus) for host in hosts]
    finite = [count for count in counts if count is not None]
    # An unbounded host could take every item; weigh it like the largest host.
    unbounded = max([n] + finite)
    return [Fraction(unbounded if count is None else count) for count in counts]


# ---------------------------------------------------------------------------
# Policies


def _round_robin(state, order):
    hosts_count = len(state.hosts)
    start = 0
    left = []
    for it in order:
        for step in range(hosts_count):
            h = (start + step) % hosts_count
            if state.fits(h, it):
                state.put(h, it)
                start = (h + 1) % hosts_count
                break
        else:
            left.append(it)
    return left


def _fill_blocks(state, order, targets):
    """Give items in order to hosts in order, each up to its target (None: no target).

    An item that does not fit on the current host goes to the next host with
    room below its target; the current host keeps taking the following items.
    """
    hosts_count = len(state.hosts)
    current = 0
    left = []
    for it in order:
        while current < hosts_count and targets[current] is not None and state.count[current] >= targets[current]:
            current += 1
        for h in range(current, hosts_count):
            if (targets[h] is None or state.count[h] < targets[h]) and state.fits(h, it):
                state.put(h, it)
                break
        else:
            left.append(it)
    return left


def _first_fit(state, order):
    return _fill_blocks(state, order, [None] * len(state.hosts))


class _Planner(object):
    """One placement problem; block targets are computed once and reused across attempts."""

    def __init__(self, items, hosts):
        self.items = items
        self.hosts = hosts
        self._targets = {}
        self._caps = None

    def caps(self):
        if self._caps is None:
            self._caps = _capacities(self.hosts, self.items)
        return self._caps

    def targets(self, policy):
        if policy not in self._targets:
            n = len(self.items)
            if policy == "concentrated":
                value = [None] * len(self.hosts)
            elif policy == "even":
                value = _even_counts(n, self.caps())
            else:
                value = _weighted_counts(n, _weights(self.hosts, self.items), self.caps())
            self._targets[policy] = value
        return self._targets[policy]

    def attempt(self, policy, order):
        state = _State(self.hosts, len(self.items))
        if policy == "round_robin":
            left = _round_robin(state, order)
        else:
            left = _fill_blocks(state, order, self.targets(policy))
        # Mixed items can miss the policy's layout; any host with room will do.
        _first_fit(state, left)
        return state


def _item_orders(items):
    """The given order, then largest first by memory and by vCPUs (distinct orders only)."""
    orders = [list(items)]
    if not _homogeneous(items):
        for key in (lambda it: (-it.memory, -it.vcpus, it.index), lambda it: (-it.vcpus, -it.memory, it.index)):
            order = sorted(items, key=key)
            if all(order != other for other in orders):
                orders.append(order)
    return orders


def _verify(state, items):
    """Guard against a bug ever over-committing a host: recount from scratch."""
    check = _State(state.hosts, len(items))
    for it in items:
        h = state.assignment[it.index]
        if h is None or not check.fits(h, it):
            raise RuntimeError("internal placement error: item %r on host %r" % (it.name, h))
        check.put(h, it)


def _solve(items, hosts, policy):
    """Host index per item, in item order; raises PlacementError when not all fit."""
    planner = _Planner(items, hosts)
    orders = _item_orders(items)
    best = 0
    strategies = [policy] if policy == "concentrated" else [policy, "concentrated"]
    for strategy in strategies:
        for order in orders:
            state = planner.attempt(strategy, order)
            if state.placed == len(items):
                _verify(state, items)
                return state.assignment
            best = max(best, state.placed)
    # Smallest first places the most items: the error's `fits`, and now and
    # then (mixed items) a complete placement the other orders missed.
    for key in (lambda it: (it.memory, it.vcpus, it.index), lambda it: (it.vcpus, it.memory, it.index)):
        state = _State(hosts, len(items))
        _first_fit(state, sorted(items, key=key))
        if state.placed == len(items):
            _verify(state, items)
            return state.assignment
        best = max(best, state.placed)
    shortage = _Shortage(items, hosts)
    if not _homogeneous(items) and not shortage.exists():
        # Identical items never need this: for them the greedy passes above
        # are exact. Mixed items are bin packing; a bounded search settles
        # the small hard cases greedy misses before we call them unplaceable.
        state = _search(items, hosts)
        if state is not None:
            _verify(state, items)
            return state.assignment
    raise _capacity_error(policy, items, hosts, best, shortage)


# Nodes the last-resort search may visit: tens of milliseconds at most.
_SEARCH_BUDGET = 20000


def _search(items, hosts):
    """Depth-first search for a complete placement, largest items first; None if not found within budget.

    Iterative, so that long item lists cannot hit the recursion limit.
    """
    order = sorted(items, key=lambda it: (-it.memory, -it.vcpus, it.index))
    state = _State(hosts, len(items))
    budget = _SEARCH_BUDGET
    chosen = [None] * len(order)
    next_host = [0] * len(order)
    tried = [set() for _position in order]
    depth = 0
    while depth < len(order):
        it = order[depth]
        h = next_host[depth]
        while h < len(hosts):
            # Two hosts left in the same condition lead to the same subtrees.
            shape = (hosts[h].free_memory, hosts[h].free_vcpus, hosts[h].max_items,
                     state.memory[h], state.vcpus[h], state.count[h])
            if shape not in tried[depth] and state.fits(h, it):
                tried[depth].add(shape)
                break
            h += 1
        if h < len(hosts):
            budget -= 1
            if budget < 0:
                return None
            state.put(h, it)
            chosen[depth] = h
            next_host[depth] = h + 1
            depth += 1
            if depth < len(order):
                next_host[depth] = 0
                tried[depth] = set()
            continue
        # No host left for this item: undo the previous choice and try its next host.
        depth -= 1
        if depth < 0:
            return None
        undo, h = order[depth], chosen[depth]
        state.memory[h] -= undo.memory
        state.vcpus[h] -= undo.vcpus
        state.count[h] -= 1
        state.assignment[undo.index] = None
        state.placed -= 1
    return state


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


class _Shortage(object):
    """Why items cannot all fit, whatever the arrangement."""

    def __init__(self, items, hosts):
        need_memory = sum(it.memory for it in items)
        need_vcpus = sum(it.vcpus for it in items)
        if any(host.free_memory is None for host in hosts):
            self.memory = 0
        else:
            self.memory = max(0, need_memory - sum(host.free_memory for host in hosts))
        if any(host.free_vcpus is None for host in hosts):
            self.vcpus = Fraction(0)
        else:
            self.vcpus = max(Fraction(0), need_vcpus - sum(host.free_vcpus for host in hosts))
        if any(host.max_items is None for host in hosts):
            self.slots = None
        else:
            self.slots = sum(host.max_items for host in hosts)
        self.slots_short = self.slots is not None and self.slots < len(items)
        empty = _State(hosts, len(items))
        self.too_big = [it for it in items if not any(empty.fits(h, it) for h in range(len(hosts)))]

    def exists(self):
        return bool(self.memory or self.vcpus or self.slots_short or self.too_big)


def _capacity_error(policy, items, hosts, fits, shortage):
    asked = len(items)
    missing_memory, missing_vcpus, too_big = shortage.memory, shortage.vcpus, shortage.too_big
    message = "placement (policy %s): %s asked, %d fit on %s; missing %d MiB memory and %s vCPUs" % (
        policy, _plural(asked, "item"), fits, _plural(len(hosts), "host"), missing_memory, _fmt(missing_vcpus))
    if shortage.slots_short:
        message += "; max_items allows only %s on these hosts" % _plural(shortage.slots, "item")
    if too_big:
        named = ", ".join("%r (%d MiB, %s vCPUs)" % (it.name, it.memory, _fmt(it.vcpus)) for it in too_big[:_MAX_NAMED])
        if len(too_big) > _MAX_NAMED:
            named += ", ..."
        message += "; %s fit on no host at all: %s" % (_plural(len(too_big), "item"), named)
    if not shortage.exists():
        message += ("; the hosts have enough free memory, vCPUs and item slots in total, but it is fragmented: "
                    "what is left on each host is too small for the remaining items")
    if _homogeneous(items):
        needs = "each item needs %d MiB, %s vCPUs" % (items[0].memory, _fmt(items[0].vcpus))
    else:
        needs = "items need %d MiB, %s vCPUs in total" % (
            sum(it.memory for it in items), _fmt(sum(it.vcpus for it in items)))
    message += " (%s; cpu_overcommit %r). %s" % (needs, float(hosts[0].overcommit), _HINT)
    return PlacementError(message, asked=asked, fits=fits, missing_memory_mb=missing_memory,
                          missing_vcpus=plain(missing_vcpus))


# ---------------------------------------------------------------------------
# Public entry points

def place(items, hosts, policy="round_robin", item=None, cpu_overcommit=1.0):
    """Place ``items`` on ``hosts`` with ``policy`` (one of ``POLICIES``).

    ``items``, ``item`` as for normalize_items(); ``hosts``, ``cpu_overcommit``
    as for normalize_hosts(). Returns a list of ``(item_name, host_name)``
    tuples in item order; no host is ever given more than its free memory,
    free vCPUs or ``max_items``. No items gives ``[]``.

    Raises PlacementError before returning anything for an unknown policy, bad
    input, or items that do not all fit (then with ``asked``, ``fits``,
    ``missing_memory_mb`` and ``missing_vcpus`` set).
    """
    check_policy(policy)
    host_records = read_hosts(hosts, cpu_overcommit)
    item_records = read_items(items, item)
    if not item_records:
        return []
    assignment = _solve(item_records, host_records, policy)
    return [(it.name, host_records[h].name) for it, h in zip(item_records, assignment)]


def summarize(assignment, hosts, item=None, items=None, cpu_overcommit=1.0):
    """Per-host figures of an assignment (as returned by place()).

    Item needs come from ``items`` (as for normalize_items(), looked up by
    name) when given, else every item has the needs in ``item`` (zero if
    None). Returns one dict per host, in host order, hosts without items
    included: ``{host, items (count), memory_mb, vcpus (used by the placed
    items), free_memory_mb, free_vcpus (left after placement; None when
    unlimited; negative if the assignment over-commits the host)}``.
    """
    host_records = read_hosts(hosts, cpu_overcommit)
    by_host = dict((host.name, h) for h, host in enumerate(host_records))
    needs = None
    if items is not None:
        needs = dict((it.name, it) for it in read_items(items, item))
    else:
        default = Item()
        default.memory, default.vcpus = item_needs(item)
    count = [0] * len(host_records)
    memory = [0] * len(host_records)
    vcpus = [Fraction(0)] * len(host_records)
    seen = set()
    for item_name, host_name in assignment_pairs(assignment):
        if host_name not in by_host:
            raise PlacementError("assignment: item %r is placed on unknown host %r; known hosts: %s."
                                 % (item_name, host_name, ", ".join(host.name for host in host_records)))
        key = str(item_name)
        if key in seen:
            raise PlacementError("assignment: item %r is placed more than once." % (item_name,))
        seen.add(key)
        if needs is not None:
            if key not in needs:
                raise PlacementError("assignment: item %r is not in items." % (item_name,))
            record = needs[key]
        else:
            record = default
        h = by_host[host_name]
        count[h] += 1
        memory[h] += record.memory
        vcpus[h] += record.vcpus
    summary = []
    for h, host in enumerate(host_records):
        summary.append({
            "host": host.name,
            "items": count[h],
            "memory_mb": memory[h],
            "vcpus": plain(vcpus[h]),
            "free_memory_mb": None if host.free_memory is None else host.free_memory - memory[h],
            "free_vcpus": None if host.free_vcpus is None else plain(host.free_vcpus - vcpus[h]),
        })
    return summary


def max_items(hosts, item, cpu_overcommit=1.0):
    """How many items needing ``item`` (``{memory_mb, vcpus}``, None for no needs) fit: vm5k's get_max_vms.

    Returns ``{"total": int, "per_host": [{"host": name, "max_items": int}, ...]}``
    in host order. A host on which the count is unbounded (no limit in any
    dimension the item needs, and no ``max_items``; e.g. an unlimited host, or
    a zero-need item on a host without ``max_items``) reports None, and then
    ``total`` is None too. A zero-need item on a capped host is bounded by its
    ``max_items``.
    """
    host_records = read_hosts(hosts, cpu_overcommit)
    memory, vcpus = item_needs(item)
    per_host = []
    total = 0
    for host in host_records:
        count = _max_count(host, memory, vcpus)
        per_host.append({"host": host.name, "max_items": count})
        total = None if (total is None or count is None) else total + count
    return {"total": total, "per_host": per_host}
