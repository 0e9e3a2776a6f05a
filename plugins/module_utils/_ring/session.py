# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One ring session as the disk_ring role runs it: the plan (name, port, order, who listens where, each
node's chain), what the preflight checks refused, the progress lines, and the ok/failed table at the end.

Pure computation on the role's checked inputs (``session_options.check_session_inputs``) and on the
results the nodes registered; nothing here listens, connects or reads a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import numbers

from ansible.module_utils.common.text.formatters import bytes_to_human


def _sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def session_name(source, items):
    """'ring-' and a hash of the source and the items: the same on a rerun, so the rerun resumes."""
    return "ring-" + _sha1("%s|%s|%s" % (source, ",".join(str(i["name"]) for i in items),
                                         ",".join(str(i["src"]) for i in items)))[:10]


def session_port(session, port_range):
    """The port a session's name lands on within ``port_range`` (first, last): other names, other ports."""
    first, last = port_range
    return first + int(_sha1(session)[:8], 16) % (last - first + 1)


def session_port_of(options):
    """The session's port from checked options, None when the inputs it depends on were refused."""
    session = options["session"]
    if not options["port_range"] or session is None:   # refused: no port to compare
        return None
    if not session:
        items = options["send_items"]
        if not options["source"]["host"] or not items or not all(isinstance(i["name"], str) and i["src"] for i in items):
            return None
        session = session_name(options["source"]["host"], items)
    return session_port(session, options["port_range"])


def _order_key(value):
    # strings sort without regard to case (as Jinja's sort did); numbers before strings instead of a TypeError
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, "" if value is None else str(value).lower())


def ring_order(options):
    """The receivers in ring order: the group's order restricted to the play, sorted by disk_ring_order_by (stable)."""
    play = set(options["play_hosts"])
    keys = dict((node["host"], node["order_key"]) for node in options["nodes"])
    order = [host for host in options["group"] if host in play]
    if options["order_by"]:
        order.sort(key=lambda host: _order_key(keys.get(host)))
    return order


def _where(address, port):
    return "%s:%s" % (address, port)


DERIVED = " (the session's port, derived from its name within disk_ring_port_range)"


def _names(hosts):
    return hosts[0] + " and " + hosts[1] + " both" if len(hosts) == 2 else ", ".join(hosts[:-1]) + " and " + hosts[-1] + " all"


def listen_clashes(options, port):
    """Messages for the nodes that would listen on one address and port: the ports every node will really use,
    the session's port (``port``) where a node leaves disk_ring_port at 0. ``port`` is None when it is unknown
    (bad inputs): then only the ports given explicitly are compared."""
    listens = {}
    derived = set()
    for node in options["nodes"]:
        node_port = node["port"] or port
        if node_port:
            where = _where(node["address"], node_port)
            listens.setdefault(where, []).append(node["host"])
            if not node["port"]:
                derived.add(where)
    errors = []
    for where, hosts in listens.items():
        if len(hosts) == 2 and where not in derived:
            errors.append("%s and %s both listen on %s: give one of them another disk_ring_port or disk_ring_address"
                          % (hosts[0], hosts[1], where))
        elif len(hosts) > 1:
            errors.append("%s listen on %s%s: give each of them its own disk_ring_port, or its own disk_ring_address"
                          % (_names(hosts), where, DERIVED if where in derived else ""))
    source = options["source"]
    source_port = options["source_port"] or source["port"] or port
    if source["known"] and source_port:
        where = _where(source["address"], source_port)
        if where in listens:
            errors.append("the source %s and the receiver %s both listen on %s%s: give the source another disk_ring_source_port"
                          % (source["host"], listens[where][0], where,
                             DERIVED if where in derived or not (options["source_port"] or source["port"]) else ""))
    return errors


def plan_session(options):
    """The session as the role runs it: name, port, ring order, each receiver's listen address and chain,
    the source's listen address and items, where the progress file and the resume state are."""
    session = options["session"] or session_name(options["source"]["host"], options["send_items"])
    port = session_port_of(options)
    nodes = dict((node["host"], node) for node in options["nodes"])
    order = ring_order(options)
    listen = {}
    hosts_by_listen = {}
    for host in order:
        where = _where(nodes[host]["address"], nodes[host]["port"] or port)
        listen[host] = where
        hosts_by_listen[where] = host
    chain = [listen[host] for host in order]
    source = options["source"]
    state_dir = options["state_dir"]
    return {
        "session": session,
        "send_items": options["send_items"],
        "port": port,
        "order": order,
        "listen": listen,
        "hosts_by_listen": hosts_by_listen,
        "chains": dict((host, chain[index + 1:]) for index, host in enumerate(order)),
        "chain": chain,
        "source_listen": _where(source["address"], options["source_port"] or source["port"] or port),
        "progress_file": "%s/%s.progress.json" % (state_dir, session),
        "state_dir": "%s/%s" % (state_dir, session),
    }


def _failed(result):
    return isinstance(result, dict) and bool(result.get("failed"))


def preflight_errors(checks, dirs, source, source_check):
    """What ring_copy's check mode refused on each node and on the source, and target directories that do not
    exist. ``checks`` maps each receiver to its check's result, ``dirs`` to the results of its stat loop."""
    errors = []
    for host, check in checks.items():
        if _failed(check):
            errors.append("%s: %s" % (host, check.get("msg", "check failed")))
        for result in (dirs or {}).get(host) or []:
            if not (result.get("stat") or {}).get("isdir", False):
                item = result.get("item") or {}
                dest = item.get("dest") or ""
                errors.append("%s: item %s: the directory %s of dest %s does not exist; make it first"
                              % (host, item.get("name"), dest.rpartition("/")[0], dest))
    if _failed(source_check):
        errors.append("source %s: %s" % (source, source_check.get("msg", "check failed")))
    return errors


def progress_wait(progress, interval):
    """Seconds to wait beyond ``interval`` before the next report: none at first, then enough that reports come
    every 1/40 of the session's elapsed time, so a session of hours prints a few hundred reports, not thousands."""
    return max(0.0, float(progress.get("elapsed") or 0) / 40 - float(interval))


def progress_lines(session, order, progress, finished=False):
    """The progress report: a heading, then per receiver in ring order bytes written of total, percent, rate,
    ETA and state, from the source's progress file ({nodes: {name: {written, total, rate, eta, state}}, elapsed})."""
    nodes = progress.get("nodes") or {}
    heading = "session %s, %.0f s" % (session, float(progress.get("elapsed") or 0))
    if finished:
        return ["%s: the source's job has ended" % heading]
    if not nodes:
        return ["%s: no node has reported yet" % heading]
    lines = [heading]
    for host in order:
        node = nodes.get(host) or {}
        total = int(node.get("total") or 0)
        written = int(node.get("written") or 0)
        eta = node.get("eta")
        lines.append("%-20s %10s / %-10s %5.1f%%  %10s/s  ETA %-8s %s" % (
            host, bytes_to_human(written), bytes_to_human(total), (100.0 * written / total) if total else 0.0,
            bytes_to_human(int(node.get("rate") or 0)),
            "%d s" % int(eta) if isinstance(eta, numbers.Number) else "-", node.get("state", "waiting")))
    return lines


def _row(host, address, entry, own, sender):
    """One receiver's line of the table: the source's view of it, completed by the receiver's own result."""
    error = entry.get("error")
    if not entry:
        error = "the source reported nothing: " + sender.get("msg", "its job did not finish")
    elif not entry.get("ok") and not error:
        error = own["error"] if "error" in own else own.get("msg", "failed")
    if own and not own.get("finished", False):
        error = (error + "; " if error else "") + "its job was still running after the session and was stopped"
    mine = own.get("items") or {}
    items = {}
    for name, res in (entry.get("items") or {}).items():
        held = mine.get(name) or {}
        items[name] = {"ok": res.get("ok", False), "dest": res["dest"] if "dest" in res else held.get("dest"),
                       "digest": res.get("digest"), "error": res.get("error"), "verified_offset": held.get("verified_offset")}
    return {"node": host, "address": address, "ok": bool(entry.get("ok", False) and not error), "error": error, "items": items}


def session_result(plan, source, sender, receivers):
    """The session's outcome per receiver, in ring order, from the source's table (``sender``, its job's
    result) and each receiver's own (``receivers``: host -> its job's result)."""
    sender = sender or {}
    by_address = {}
    for entry in sender.get("nodes") or []:
        by_address[entry.get("address") or entry.get("node")] = entry
    rows = [_row(host, plan["listen"][host], by_address.get(plan["listen"][host]) or {}, (receivers or {}).get(host) or {}, sender)
            for host in plan["order"]]
    return {
        "session": plan["session"],
        "source": source,
        "order": plan["order"],
        "ok": [row["node"] for row in rows if row["ok"]],
        "failed": [row["node"] for row in rows if not row["ok"]],
        "nodes": rows,
        "digests": sender.get("digests") or {},
        "bytes": sender.get("bytes", 0),
        "sent_bytes": sender.get("sent_bytes", 0),
        "filesystems": sender.get("filesystems") or {},
        "seconds": sender.get("seconds"),
    }
