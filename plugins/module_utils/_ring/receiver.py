# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One receiver of a ring session (dolly's ring, fault tolerant).

    source --> R1 --> R2 --> ... --> Rn

* Set-up runs down the chain: a receiver, once an authenticated upstream gave it the MANIFEST,
  connects to the first live node of its own ``chain`` and answers READY with the lowest stream
  position its part of the ring needs (a resumed node needs less than a fresh one). The stream is
  one ordered sequence of frames; a position is (item index, offset).
* It reads each frame into a slot of its buffer pool, checks the chunk checksum, and hands the slot
  to the writer thread (disk and network decoupled) and to the forwarder thread, which sends the
  same bytes downstream and bypasses a dead downstream (``relay``).
* A receiver whose upstream is gone waits ``timeout`` seconds for another to connect (its upstream's
  upstream bypassing it); then it fails and sends ABORT downstream. So a source killed in
  mid-stream leaves every receiver failed, never one reporting success for partial data.
* At END it finishes its items (durable, digest compared with the source's) and sends its REPORT,
  with those of the nodes below, upstream. Twice a second it sends an ACK upstream with its
  progress and its downstream's (``report``).

The classes it uses: Listener and Upstreams (accept), BufferPool (the pool and replay window),
Writer, Relay and Forwarder (the downstream side), Acker and Reporter (what goes back up).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError, LinkLost, Stalled
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import ItemState, Target, check_targets, make_state_dir
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.listener import Listener
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import (
    chain_errors, item_errors, key_bytes, parse_address, raise_errors)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.pool import BufferPool
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.relay import END_POS, EventLog, Forwarder, Relay
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.report import Acker, Progress, Reporter
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import KIND_DATA, KIND_HOLE, KIND_UNUSED
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.upstream import Upstreams
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.writer import Writer


class Receiver:
    """One receiver of the ring: writes its targets ({item name: dest}) and forwards everything to
    its downstream. Listens from construction on; run() returns its result."""

    def __init__(self, session, key, listen, targets, chain=(), timeout=30, wait_timeout=600, force=False,
                 state_dir="/var/tmp/labfarm-ring", direct=True, replay_buffer=256 << 20, name=None,
                 progress_file=None, log=None):
        self.session = session
        self.sid = wire.session_bytes(session)
        key = key_bytes(key)
        self.listen = parse_address(listen, "listen")
        self.targets_spec = dict(targets)
        chain = list(chain)
        raise_errors(chain_errors(chain, listen) +
                     item_errors([{"name": item, "dest": dest} for item, dest in self.targets_spec.items()], send=False))
        check_targets(self.targets_spec, force)
        self.timeout = float(timeout)
        self.wait_timeout = float(wait_timeout)
        self.name = name or listen
        self.state_dir = state_dir
        self.direct = direct
        self.replay_bytes = replay_buffer
        self.progress_file = progress_file
        self.log = EventLog(self.name, log)
        self.relay = Relay(self.sid, key, chain, self.timeout, self.log)
        self.upstreams = Upstreams(session, self.timeout, self.log)
        self.manifest = None
        self.checksum = None
        self.targets = {}           # item index -> Target
        self.results = {}           # item index -> (ok, digest, error)
        self.reporter = Reporter(self.name, "%s:%d" % self.listen, self.targets, self.results)
        self.progress = Progress(self.name, 0)
        self.pool = self.writer = self.forwarder = None
        self.pos = (0, 0)
        self.activity = 0           # frames read: the ACKs show the upstream that we make progress
        self.finishing = False
        self.stop = threading.Event()
        self.listener = Listener(self.listen, self.sid, key, min(self.timeout, 10.0), self.upstreams.offer,
                                 self.upstreams.refuse)

    @property
    def rejected(self):
        return self.upstreams.refused(self.listener.turned_away)

    def run(self):
        self.listener.start(self.stop)
        acker = Acker(self.progress, self.upstreams, self.relay, self._status, self.progress_file, self.stop)
        try:
            return self._run()
        finally:
            self.stop.set()
            self.listener.close()
            self.relay.close()
            self.upstreams.close()
            for target in self.targets.values():
                if not target.complete:
                    target.abandon()
            acker.write()

    def _status(self):
        """The ACK's own fields: busy tells our upstream to keep waiting (bypassing, forwarding, or
        making the items durable and waiting for the report)."""
        sending = self.forwarder is not None and self.forwarder.sending
        return {"activity": self.activity, "busy": self.relay.busy or sending or self.finishing}

    # -- set-up ------------------------------------------------------------------------------------

    def _run(self):
        link, manifest = self.upstreams.next(self.wait_timeout)
        if link is None:
            return self._failed("no upstream connected within %.0f s (wait_timeout)" % self.wait_timeout)
        try:
            self._setup(manifest)
            for target in self.targets.values():
                target.open()
        except (RingError, OSError) as exc:
            try:
                link.send_control(wire.ABORT, {"reason": "%s: %s" % (self.name, exc)})
            except RingError:
                pass
            return self._failed(str(exc))
        self.progress.state = "receiving"
        started = dict(manifest, started=True)
        down = self.relay.connect(started, 0)
        need = self._my_need()
        if down is not None:
            need = min(need, down.need)
        self.pos = need
        self.upstreams.ready(link, need, self.name)
        self.writer = Writer(self.targets, self.progress, self.results)
        self.forwarder = Forwarder(self.pool, self.relay, started, lambda: self.pos)
        self.pool.consumers = (self.writer, self.forwarder)
        try:
            return self._stream(link)
        finally:
            self.writer.stop()
            self.forwarder.stop()

    def _setup(self, manifest):
        names = [item["name"] for item in manifest["items"]]
        unknown = sorted(set(self.targets_spec) - set(names))
        if unknown:
            raise RingError("items %s are not in session %s (its items: %s)" % (", ".join(unknown), self.session, ", ".join(names)))
        self.checksum = wire.checksum_function(manifest["checksum"])
        if manifest.get("compress", "none") == "zstd" and not wire.HAS_ZSTD:
            wire.compressor("zstd")   # raises the message that says what to install
        make_state_dir(self.state_dir)
        for index, item in enumerate(manifest["items"]):
            dest = self.targets_spec.get(item["name"])
            if dest is not None:
                self.targets[index] = Target(item["name"], dest, item, ItemState(self.state_dir, item["name"], dest), self.direct)
        self.progress.total = sum(t.size for t in self.targets.values())
        self.progress.written = sum(t.resume_offset for t in self.targets.values())
        self.manifest = manifest
        self.pool = BufferPool(int(manifest["chunk"]), self.replay_bytes)

    def _my_need(self):
        for index in range(len(self.manifest["items"])):
            target = self.targets.get(index)
            if target is not None and not target.complete:
                return (index, target.resume_offset)
        return END_POS

    # -- the stream --------------------------------------------------------------------------------

    def _stream(self, link):
        while True:
            buf = self.pool.next_slot()
            try:
                frame = link.read_frame(into=buf)
            except (LinkLost, Stalled) as exc:
                link.close()
                link = self._wait_upstream(exc)
                if link is None:
                    self._abort_down("upstream of %s lost" % self.name)
                    return self._failed("upstream lost at position %s (%s); none came back within %.0f s"
                                        % (list(self.pos), exc, self.timeout))
                self.upstreams.ready(link, self.pos, self.name)
                continue
            self.activity += 1
            if frame.ftype in (wire.DATA, wire.HOLE):
                self._take_segment(frame, link)
            elif frame.ftype == wire.ITEM_END:
                end = frame.json()
                if (frame.item, frame.offset) != self.pos or end.get("size") != frame.offset:
                    link.close()
                    continue
                self.writer.put(("end", frame.item, end["digest"], self.pool.seq))
                self.pool.append(self.pos, frame.header, bytes(frame.payload))
                self.pos = (frame.item + 1, 0)
            elif frame.ftype == wire.END:
                self.writer.put(("release", None, None, self.pool.seq))
                self.pool.append(END_POS, frame.header, b"")
                return self._finish(link)
            elif frame.ftype == wire.ABORT:
                reason = frame.json().get("reason")
                self._abort_down(reason)
                return self._failed("the session was aborted upstream: %s" % reason)
            elif frame.ftype != wire.WAIT:   # WAIT: our upstream is alive; our forwarder keeps ours waiting
                self.log("unexpected %s from upstream; dropping the link" % frame.name)
                link.close()

    def _take_segment(self, frame, link):
        """Check one DATA/HOLE frame, then queue it for the writer and the forwarder."""
        pos = (frame.item, frame.offset)
        if pos != self.pos:
            self.log("upstream sent position %s where %s was expected; dropping it" % (list(pos), list(self.pos)))
            link.close()
            return
        if frame.ftype == wire.DATA:
            try:
                raw = wire.decompress(frame.flags, frame.payload, frame.raw_len)
            except Exception as exc:  # pylint: disable=broad-except  # zlib/zstd errors: a corrupt frame
                self.log("a chunk at %s does not unpack (%s); dropping the link" % (list(pos), exc))
                link.close()
                return
            if self.checksum(raw) != frame.checksum:
                self.log("a chunk at %s failed its checksum; dropping the link" % list(pos))
                link.close()
                return
            kind = KIND_DATA
        else:
            raw, kind = None, KIND_UNUSED if frame.flags & wire.FLAG_UNUSED else KIND_HOLE
        self.writer.put(("seg", frame.item, (frame.offset, frame.raw_len, kind, frame.checksum, raw), self.pool.seq))
        self.pool.append(pos, frame.header, frame.payload)
        self.pos = (frame.item, frame.offset + frame.raw_len)

    def _wait_upstream(self, exc):
        """Our upstream is gone: wait for another (the forwarder keeps our downstream waiting)."""
        self.log("upstream lost at %s: %s" % (list(self.pos), exc))
        self.upstreams.lost()
        link, dummy = self.upstreams.next(self.timeout)
        if link is not None:
            self.log("new upstream %s" % link.peer)
        return link

    def _abort_down(self, reason):
        """ABORT goes down through the forwarder, after what it still has to send."""
        if self.forwarder is None:
            return
        self.pool.append(END_POS, wire.control_frame(wire.ABORT, self.sid, {"reason": reason}), b"")
        self.forwarder.drain(self.timeout)

    # -- the end -----------------------------------------------------------------------------------

    def _finish(self, link):
        self.finishing = True     # busy making the items durable, then waiting on the downstream
        try:
            self.writer.drain()
            mine = self.reporter.report()
            self.progress.state = "done" if mine["ok"] else "failed"
            below = []
            self.forwarder.drain(None)
            while self.relay.down is not None:
                try:
                    below = self.relay.down.wait_report()
                    break
                except (LinkLost, Stalled) as exc:
                    self.forwarder.bypass(exc, self.pool.seq - 1)
        finally:
            self.finishing = False
        below = Reporter.below(below, self.relay.bypassed)
        with link.lock:
            try:
                link.send_control(wire.REPORT, {"nodes": [mine] + below})
            except RingError as exc:
                self.log("could not send the report upstream: %s" % exc)
        return self._result(mine["ok"], mine["error"], below)

    def _failed(self, error):
        self.progress.state = "failed"
        return self._result(False, error, [])

    def _result(self, ok, error, below):
        return self.reporter.result(ok, error, below, self.rejected, self.relay.bypassed, self.log.last())
