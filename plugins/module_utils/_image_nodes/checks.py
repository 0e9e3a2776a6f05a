# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What the role labfarm.massclone.image_nodes refuses before any machine is touched, and its per-node results.

Pure: lists of node mappings in, messages and tables out. Every message names the node and the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import normalize_mac

REQUIRED = (("mac", "a MAC (mac)"), ("address", "an address (address or ansible_host)"),
            ("bmc", "a BMC address (bmc)"), ("bmc_user", "a BMC user (bmc_user)"),
            ("bmc_password", "a BMC password (bmc_password)"))
STAGES = ("preflight", "entry", "power", "netboot", "disk", "ring", "verify", "identity", "local", "reboot", "disk_boot")


def _text(value):
    return "" if value is None else str(value).strip()


def bmc_key(node):
    """The BMC's address:port (623 when none is given), the identity two nodes may not share."""
    return "%s:%s" % (_text(node.get("bmc")), _text(node.get("bmc_port")) or "623")


def node_problems(nodes):
    """One message per problem of nodes (mappings with name, mac, address, bmc, bmc_port, bmc_user,
    bmc_password): a missing field, a malformed MAC, and two nodes sharing a MAC, an address or a BMC."""
    problems = []
    seen = {"MAC": {}, "address": {}, "BMC": {}}
    for node in nodes:
        name = _text(node.get("name")) or "?"
        for field, what in REQUIRED:
            if not _text(node.get(field)):
                problems.append("node %s: no %s" % (name, what.split(" ", 1)[1]))
        mac = _text(node.get("mac"))
        if mac:
            normal = normalize_mac(mac)
            if normal is None:
                problems.append("node %s: malformed MAC %r" % (name, mac))
            mac = normal or ""
        keys = {"MAC": mac, "address": _text(node.get("address")), "BMC": bmc_key(node) if _text(node.get("bmc")) else ""}
        for kind, value in keys.items():
            if not value:
                continue
            if value in seen[kind]:
                problems.append("nodes %s and %s: the same %s %s" % (seen[kind][value], name, kind, value))
            else:
                seen[kind][value] = name
    return problems


def disk_problem(name, image, image_size, device, disk_size):
    """The message when the image does not fit the node's disk, else None (checked on the node, before writing)."""
    if int(disk_size) < int(image_size):
        return ("node %s: the image %s (%d bytes) is larger than its disk %s (%d bytes); nothing was written"
                % (name, image, int(image_size), device, int(disk_size)))
    return None


def pending(nodes, finished, image_digest, force=False):
    """(to image, already done): the names of nodes that a rerun images. finished maps a node's name to
    the marker the role wrote when that node ended booted from its disk ({image_digest, hostname, ...}); a node
    is done when its marker names the same image."""
    todo, done = [], []
    for name in nodes:
        marker = finished.get(name) or {}
        if not force and marker.get("image_digest") == image_digest and marker.get("ok"):
            done.append(name)
        else:
            todo.append(name)
    return todo, done


def results(nodes, states, skipped=()):
    """The run's result: {nodes: {name: {ok, stage, reason, ...}}, ok: [...], failed: [...], skipped: [...]}.
    states maps a node to what the role recorded (its last stage, ok, reason); a node without a record
    failed where the play lost it."""
    out = {"nodes": {}, "ok": [], "failed": [], "skipped": sorted(skipped)}
    for name in nodes:
        state = dict(states.get(name) or {"ok": False, "stage": "?", "reason": "the play lost this node (no record)"})
        state.setdefault("reason", "")
        if not state.get("ok") and not state.get("failed"):
            _lost(state)
        out["nodes"][name] = state
        (out["ok"] if state.get("ok") else out["failed"]).append(name)
    for name in skipped:
        state = dict(states.get(name) or {"ok": True, "stage": "done", "reason": "imaged by an earlier run; skipped"})
        state["skipped"] = True
        out["nodes"].setdefault(name, state)
    return out


def _lost(state):
    """A node that left the play without a recorded failure stopped answering (Ansible's UNREACHABLE, which no
    rescue catches: a machine that lost power): its stage is the last one it began."""
    began = [stage for stage in STAGES if stage in (state.get("started") or {})]
    if began:
        state["stage"] = began[-1]
    state["failed"] = True
    state["reason"] = state["reason"] or ("the node stopped answering during stage %s (unreachable); the other "
                                          "nodes went on" % state["stage"])


def table(result):
    """The ok/failed table of the job output, one line per node."""
    names = sorted(result["nodes"])
    width = max([4] + [len(n) for n in names])
    lines = ["%-*s  %-6s  %-9s  %s" % (width, "node", "result", "stage", "reason / identity")]
    for name in names:
        node = result["nodes"][name]
        state = "skip" if node.get("skipped") else "ok" if node.get("ok") else "FAILED"
        detail = node.get("reason") or " ".join("%s=%s" % (k, node[k]) for k in ("hostname", "machine_id") if node.get(k))
        lines.append("%-*s  %-6s  %-9s  %s" % (width, name, state, node.get("stage", ""), detail))
    lines.append("%d ok, %d failed, %d skipped" % (len(result["ok"]), len(result["failed"]), len(result["skipped"])))
    return lines
