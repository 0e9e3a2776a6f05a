# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A node's way down the ring, the same for the source and for a receiver.

* ``Relay`` knows the chain after the node. It connects to the first live node of it (set-up runs
  down the chain before that node answers READY with the position it needs), and bypasses a
  downstream that died or stalled: it connects to the next live node and catches it up, and
  bypasses that one too when it fails in turn.
* ``Downstream`` is the link to that node, with a thread that reads its ACKs (how it and the nodes
  below it progress) and, at the end, its REPORT.
* ``Forwarder`` is a receiver's forwarding thread: it sends every frame of the receiver's buffer
  pool downstream, in order; after a bypass it catches the new downstream up from the pool, and
  what is older than the pool from the source (``Relay.fetch``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import errno
import threading
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError, LinkLost, Stalled
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import parse_address

END_POS = (1 << 16, 0)       # the stream position of END: after every item


class EventLog:
    """A node's events (connections, bypasses, fetches), each line stamped with the time and the
    node's name; the last 200 are kept for the result, and every line also goes to ``sink``."""

    KEEP = 200

    def __init__(self, name, sink=None):
        self.name = name
        self.sink = sink
        self.lines = collections.deque(maxlen=self.KEEP)

    def __call__(self, text):
        line = "%.3f %s: %s" % (time.time(), self.name, text)
        self.lines.append(line)
        if self.sink:
            self.sink(line)

    def last(self):
        return list(self.lines)


class Downstream:
    """The link to the next live node, with a thread reading its ACKs and its final REPORT."""

    def __init__(self, link, index, address, need, timeout):
        self.link = link
        self.index = index          # position in our chain
        self.address = address
        self.need = tuple(need)     # frames before this position are not sent to it
        self.timeout = timeout
        self.last_ack = self.last_sent = time.monotonic()
        self.activity = None
        self.last_activity = 0.0
        self.busy = False
        self.nodes = {}
        self.report = None
        self.error = None
        self.done = threading.Event()
        self.thread = daemon_thread(self._read, "ring-down-acks")

    def _read(self):
        try:
            while True:
                frame = self.link.read_frame(timeout=10 ** 9)
                body = frame.json() if frame.ftype in (wire.ACK, wire.REPORT, wire.ABORT) else None
                if frame.ftype == wire.ACK:
                    self.last_ack = time.monotonic()
                    self.busy = bool(body.get("busy"))
                    self.nodes = body.get("nodes", {})
                    if body.get("activity") != self.activity:
                        self.activity = body.get("activity")
                        self.last_activity = self.last_ack
                elif frame.ftype == wire.REPORT:
                    self.report = body.get("nodes", [])
                    self.done.set()
                    return
                elif frame.ftype == wire.ABORT:
                    self.error = body.get("reason") or "aborted"
                    self.done.set()
                    return
        except RingError as exc:
            if self.error is None:
                self.error = str(exc)
            self.done.set()

    def alive(self):
        """True while the peer shows life: an ACK with new activity, or busy with its own downstream."""
        now = time.monotonic()
        if self.error is not None or now - self.last_ack > self.timeout:
            return False
        return now - self.last_activity < 1.5 or self.busy

    def send(self, pos, *parts):
        if self.error is not None:
            raise LinkLost(self.error)
        now = time.monotonic()
        if tuple(pos) >= self.need:
            self.link.send_all(*parts, progress=self.alive)
            self.last_sent = now
        elif now - self.last_sent > 1.0:
            # it needs nothing of this part of the stream: a WAIT keeps its upstream timer from expiring
            self.link.send_all(wire.pack_header(wire.WAIT, self.link.sid), progress=self.alive)
            self.last_sent = now

    def wait_report(self):
        """The REPORT of our part of the ring, or raise Stalled/LinkLost."""
        last = time.monotonic()
        while not self.done.wait(1.0):
            if self.alive():
                last = time.monotonic()
            elif time.monotonic() - last > self.timeout:
                raise Stalled("%s sent no report for %.0f s" % (self.link.peer, self.timeout))
        if self.report is None:
            raise LinkLost(self.error or "no report")
        return self.report

    def close(self):
        self.link.close()


class Relay:
    """The chain after a node, its live downstream (``down``) and the nodes it bypassed, with why."""

    def __init__(self, sid, key, chain, timeout, log):
        self.sid = sid
        self.key = key
        self.chain = [parse_address(address, "chain entry") for address in chain]
        self.chain_text = list(chain)
        self.timeout = timeout
        self.log = log
        self.down = None
        self.bypassed = {}          # chain address -> why it was bypassed
        self.busy = False           # bypassing: our ACKs say so, and our upstream keeps waiting
        self.starting = True        # until the first connect is over: nodes may not listen yet

    def _connect_one(self, index, deadline):
        """Connect and authenticate to chain[index]. While the session starts, a node that refuses the
        connection is still starting its receiver (a machine just booted into the imaging system may
        listen seconds after the source): it is tried again until ``deadline``. Later, refused means gone."""
        while True:
            try:
                return wire.connect_handshake(self.chain[index], self.sid, self.key, self.timeout,
                                              connect_timeout=min(self.timeout, 10.0))
            except OSError as exc:
                if exc.errno != errno.ECONNREFUSED or deadline is None or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def connect(self, manifest, start_index):
        """Connect to the first live node of the chain from start_index; give it the manifest and
        read its READY. Returns the new ``down``, or None when no live node is left."""
        deadline = time.monotonic() + self.timeout if self.starting else None
        self.starting = False
        for index in range(start_index, len(self.chain)):
            text = self.chain_text[index]
            if text in self.bypassed:
                continue
            try:
                link = self._connect_one(index, deadline)
            except (OSError, RingError) as exc:
                self.bypassed[text] = "unreachable: %s" % exc
                self.log("%s unreachable (%s), trying the next node" % (text, exc))
                continue
            try:
                link.send_control(wire.MANIFEST, manifest)
                # set-up runs down the rest of the chain before READY comes back
                ready = link.expect(wire.READY, timeout=self.timeout * (len(self.chain) - index + 1) + 10)
                need = tuple(ready["position"])
            except (RingError, KeyError, TypeError, ValueError) as exc:
                self.bypassed[text] = "refused the session: %s" % exc
                self.log("%s refused the session (%s), trying the next node" % (text, exc))
                link.close()
                continue
            self.log("downstream is %s, from position %s" % (text, list(need)))
            self.down = Downstream(link, index, text, need, self.timeout)
            return self.down
        self.down = None
        return None

    def bypass(self, exc, manifest, catch_up=None):
        """``down`` died or stalled (``exc`` says how): connect the next live node of the chain and,
        when given, catch_up(new downstream); a node that fails its catch-up is bypassed in turn.
        Returns the new ``down``, or None when no live node is left."""
        self.busy = True
        try:
            while True:
                dead = self.down
                self.bypassed[dead.address] = "bypassed: %s" % exc
                self.log("bypassing %s: %s" % (dead.address, exc))
                dead.close()
                if self.connect(manifest, dead.index + 1) is None or catch_up is None:
                    return self.down
                try:
                    catch_up(self.down)
                    return self.down
                except (LinkLost, Stalled) as again:
                    exc = again
        finally:
            self.busy = False

    def fetch(self, down, start, end, address):
        """Send ``down`` the frames from position start to end (exclusive), fetched from the source's
        fetch service at ``address`` (host:port)."""
        self.log("fetching %s..%s from the source for %s" % (list(start), list(end), down.address))
        try:
            link = wire.connect_handshake(parse_address(address, "fetch"), self.sid, self.key, self.timeout, role="fetch")
        except (OSError, RingError) as exc:
            raise LinkLost("the source cannot serve the range %s..%s: %s" % (list(start), list(end), exc))
        try:
            link.send_control(wire.FETCH, {"from": list(start), "to": list(end)})
            while True:
                frame = link.read_frame()
                if frame.ftype == wire.END:
                    return
                down.send((frame.item, frame.offset), frame.header, frame.payload)
        except RingError as exc:
            if isinstance(exc, (LinkLost, Stalled)) and down.error is not None:
                raise
            raise LinkLost("fetching from the source: %s" % exc)
        finally:
            link.close()

    def nodes(self):
        """The progress of the nodes below, as our downstream's last ACK gave it."""
        return dict(self.down.nodes) if self.down is not None else {}

    def close(self):
        if self.down is not None:
            self.down.close()


class Forwarder:
    """A receiver's forwarding thread: sends each frame of the pool's window downstream in order, so
    receiving and forwarding overlap; bypasses a dead downstream; sends WAIT when idle.

    pool: the receiver's BufferPool; manifest: what a new downstream is given; position(): where the
    receiver's stream is (where a catch-up ends when the pool holds nothing)."""

    def __init__(self, pool, relay, manifest, position):
        self.pool = pool
        self.relay = relay
        self.manifest = manifest
        self.position = position
        self.released = -1
        self.running = True
        self.done = False
        self.sending = False
        self.thread = daemon_thread(self._run, "ring-forwarder")

    def wait_released(self, seq):
        """Wait until frame `seq` was sent downstream (or the forwarder stopped)."""
        with self.pool.cv:
            while self.released < seq and self.running:
                self.pool.cv.wait(0.5)

    def drain(self, timeout):
        """Wait until everything queued so far was forwarded (or bypassed to nobody)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.pool.cv:
            while self.released < self.pool.seq - 1 and self.running and not self.done:
                if deadline is not None and time.monotonic() > deadline:
                    return
                self.pool.cv.wait(0.5)

    def stop(self):
        with self.pool.cv:
            self.running = False
            self.pool.cv.notify_all()

    def _run(self):
        seq = 0
        idle_since = time.monotonic()
        while self.running:
            entry = self.pool.entry(seq, 1.0)
            if entry is None:
                if self.relay.down is not None and time.monotonic() - idle_since > 1.0:
                    idle_since = time.monotonic()
                    self._send(seq - 1, None, wire.pack_header(wire.WAIT, self.relay.sid), b"")
                continue
            dummy, pos, header, payload = entry
            if self.relay.down is not None:
                self._send(seq, pos, header, payload)
            with self.pool.cv:
                self.released = seq
                self.pool.cv.notify_all()
            seq += 1
            idle_since = time.monotonic()
            if pos == END_POS:
                self.done = True
                return

    def _send(self, seq, pos, header, payload):
        self.sending = True
        try:
            down = self.relay.down
            if pos is None:
                down.link.send_all(header, progress=down.alive)
            else:
                down.send(pos, header, payload)
        except (LinkLost, Stalled) as exc:
            # the new downstream gets everything up to and including this frame from the pool
            self.bypass(exc, seq)
        finally:
            self.sending = False

    def bypass(self, exc, upto):
        """The downstream is dead or stalled: connect the next live node and catch it up with every
        frame up to seq `upto`."""
        self.relay.bypass(exc, self.manifest, lambda down: self._catch_up(down, upto))

    def _catch_up(self, down, upto):
        """Send `down` everything from its position up to seq `upto`: what is older than the pool's
        window from the source, then the window (held meanwhile, so no slot of it is reused)."""
        window, first = self.pool.hold(upto, self.position())
        try:
            if down.need < first:
                self.relay.fetch(down, down.need, first, self.manifest["fetch"])
            for dummy, pos, header, payload in window:
                down.send(pos, header, payload)
        finally:
            self.pool.release()
