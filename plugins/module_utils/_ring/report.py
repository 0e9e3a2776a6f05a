# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What travels back up the ring, and what each node returns.

* ``Progress``: a node's bytes written, rate and ETA; ``Acker`` sends it upstream twice a second in
  an ACK, with what the nodes below reported, and writes it to the progress file (progress_file.py).
* ``Reporter``: a receiver's REPORT (ok, digest and error per item) and its result.
* ``source_table``: the source's table of every node of the chain, from the REPORTs that came back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.progress_file import write_progress_file
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import item_digest

ACK_INTERVAL = 0.5


class Progress:
    """Bytes written, rate and ETA of one node, as sent in its ACKs."""

    def __init__(self, name, total):
        self.name = name
        self.total = total
        self.written = 0
        self.state = "waiting"
        self.started = None
        self.samples = collections.deque(maxlen=20)

    def snapshot(self):
        now = time.monotonic()
        self.samples.append((now, self.written))
        rate = 0.0
        if len(self.samples) > 1 and self.samples[-1][0] > self.samples[0][0]:
            rate = (self.samples[-1][1] - self.samples[0][1]) / (self.samples[-1][0] - self.samples[0][0])
        left = max(self.total - self.written, 0)
        return {"written": self.written, "total": self.total, "state": self.state,
                "rate": int(rate), "eta": round(left / rate, 1) if rate > 0 else None}


class Acker:
    """A receiver's ACK thread: every ACK_INTERVAL, until ``stop`` is set, sends upstream this node's
    progress and its downstream's, with ``status()`` (the ACK's ``activity`` and ``busy``), and
    rewrites the progress file. upstreams: whose ``up`` is the current upstream link; relay: whose
    ``nodes()`` are the nodes below."""

    def __init__(self, progress, upstreams, relay, status, progress_file, stop):
        self.progress = progress
        self.upstreams = upstreams
        self.relay = relay
        self.status = status
        self.progress_file = progress_file
        self.stop = stop
        self.thread = daemon_thread(self._run, "ring-ack")

    def _run(self):
        while not self.stop.wait(ACK_INTERVAL):
            nodes = self.relay.nodes()
            nodes[self.progress.name] = self.progress.snapshot()
            link = self.upstreams.up
            if link is not None:
                body = dict(self.status(), nodes=nodes)
                with link.lock:
                    try:
                        link.send_control(wire.ACK, body)
                    except RingError:
                        pass
            self.write(nodes)

    def write(self, nodes=None):
        """The progress file: ``nodes`` as the last ACK had them, or this node alone."""
        write_progress_file(self.progress_file, {"nodes": nodes or {self.progress.name: self.progress.snapshot()},
                                                 "time": time.time()})


class Reporter:
    """A receiver's REPORT and result. targets: item index -> items.Target; results: item index ->
    (ok, digest, error), as the writer finished the items."""

    def __init__(self, name, address, targets, results):
        self.name = name
        self.address = address
        self.targets = targets
        self.results = results

    def report(self):
        """This node's entry of the REPORT: ok, and per item ok, digest, error, dest, bytes written."""
        items = {}
        for index, target in sorted(self.targets.items()):
            if index not in self.results and target.complete:
                # complete from an earlier run of the same source item: nothing was sent for it
                self.results[index] = (True, item_digest(target.records), None)
            ok, digest, error = self.results.get(index, (False, None, "the item never ended"))
            items[target.name] = {"ok": ok, "digest": digest, "error": error, "dest": target.dest,
                                  "bytes_written": target.bytes_written}
        ok = all(entry["ok"] for entry in items.values())
        return {"node": self.name, "ok": ok, "items": items, "address": self.address,
                "error": None if ok else "; ".join(e["error"] for e in items.values() if e["error"])}

    @staticmethod
    def below(report, bypassed):
        """The REPORT of the nodes below, with an entry for each node bypassed that did not report."""
        report = list(report)
        for address, why in bypassed.items():
            if all(node.get("address") != address for node in report):
                report.append({"node": address, "address": address, "ok": False, "error": why, "items": {}})
        return report

    def result(self, ok, error, below, rejected, bypassed, log):
        """What the receiver returns."""
        items = {}
        for index, target in sorted(self.targets.items()):
            res = self.results.get(index)
            done = bool(res and res[0])
            items[target.name] = {"ok": done, "digest": res[1] if res else None, "dest": target.dest,
                                  "verified_offset": target.size if done else target.durable,
                                  "size": target.size, "bytes_written": target.bytes_written,
                                  "error": res[2] if res else None}
        return {"ok": ok, "node": self.name, "error": error, "items": items, "downstream": below,
                "rejected": list(rejected), "bypassed": dict(bypassed), "log": log}


def source_table(chain, report, bypassed, digests):
    """The source's view of every node of its chain (addresses, in ring order): each node's REPORT
    entry, its items failed where their digest is not the source's; a node that did not report is
    failed with why it was bypassed."""
    by_address = dict((entry.get("address"), entry) for entry in report)
    table = []
    for text in chain:
        entry = by_address.get(text)
        if entry is None:
            why = bypassed.get(text) or "did not report (bypassed or unreachable)"
            table.append({"node": text, "address": text, "ok": False, "error": why, "items": {}})
            continue
        entry = dict(entry)
        for name, res in entry.get("items", {}).items():
            if res.get("ok") and res.get("digest") != digests.get(name):
                res["ok"] = False
                res["error"] = "digest differs from the source's"
                entry["ok"] = False
        table.append(entry)
    return table
