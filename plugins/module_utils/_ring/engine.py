# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Disk ring duplication: the source and the receivers of one session (dolly's ring, fault tolerant).

    source --> R1 --> R2 --> ... --> Rn

* Set-up runs down the chain: each node, once an authenticated upstream gave it the MANIFEST,
  connects to the first live node of its own ``chain`` and answers READY with the lowest stream
  position its part of the ring needs (a resumed node needs less than a fresh one). The stream is
  one ordered sequence of frames; a position is (item index, offset).
* A receiver reads a frame into a buffer of its pool, checks the chunk checksum, hands the buffer
  to the writer thread (disk and network decoupled) and forwards the same bytes downstream. The
  pool is also the replay buffer: the last ``replay_buffer`` bytes forwarded stay there.
* A downstream that closes, resets, or neither takes bytes nor acknowledges for ``timeout`` seconds
  is bypassed: the node connects to the next live node of its chain, which answers READY with its
  own position; the node replays from its pool, and what is older than the pool it fetches from
  the source (which serves ranges on its ``listen`` address).
* A receiver whose upstream is gone waits ``timeout`` seconds for another to connect (its upstream's
  upstream bypassing it); then it fails and sends ABORT downstream. So a source killed in
  mid-stream leaves every receiver failed, never one reporting success for partial data.
* At END every receiver finishes its items (durable, digest compared with the source's) and the
  REPORTs travel back up; the source's result has the ok/failed table for every node of the ring.
* Each node sends ACK upstream twice a second with its progress and its downstream's: bytes, rate
  and ETA per node reach the source, which writes them to ``progress_file`` for the role to show.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import mmap
import os
import socket
import threading
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write
from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire as wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import (
    KIND_DATA, KIND_HOLE, SourceItem, Target, ItemState, check_targets, item_digest)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.wire import RingError, LinkLost, Stalled

ACK_INTERVAL = 0.5
END_POS = (1 << 16, 0)


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
        return now - getattr(self, "last_activity", 0) < 1.5 or self.busy

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


class Node:
    """What the source and a receiver share: the session, the chain and how to bypass a dead node."""

    def __init__(self, session, key, chain, timeout, name, log=None):
        self.session = session
        self.sid = wire.session_bytes(session)
        self.key = wire.key_bytes(key)
        self.chain = [wire.parse_address(a, "chain entry") for a in chain]
        self.chain_text = list(chain)
        self.timeout = float(timeout)
        self.name = name
        self.down = None
        self.bypassed = {}          # chain address -> why it was bypassed
        self.log_lines = []
        self._log = log
        self.busy = False
        self.sending = False

    def log(self, text):
        line = "%.3f %s: %s" % (time.time(), self.name, text)
        self.log_lines.append(line)
        if self._log:
            self._log(line)

    def connect_down(self, manifest, start_index):
        """Connect to the first live node of the chain from start_index; give it the manifest and
        read its READY. Returns a Downstream, or None when no live node is left."""
        for index in range(start_index, len(self.chain)):
            address = self.chain[index]
            text = self.chain_text[index]
            if text in self.bypassed:
                continue
            try:
                link = wire.connect_handshake(address, self.sid, self.key, self.timeout,
                                              connect_timeout=min(self.timeout, 10.0))
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
            return Downstream(link, index, text, need, self.timeout)
        return None


class Receiver(Node):
    """One receiver of the ring: writes its targets and forwards everything to its downstream."""

    def __init__(self, session, key, listen, targets, chain=(), timeout=30, wait_timeout=600, force=False,
                 state_dir="/var/tmp/labfarm-ring", direct=True, replay_buffer=256 << 20, name=None,
                 progress_file=None, log=None):
        Node.__init__(self, session, key, chain, timeout, name or listen, log)
        self.listen = wire.parse_address(listen, "listen")
        self.targets_spec = dict(targets)
        check_targets(self.targets_spec, force)
        self.wait_timeout = float(wait_timeout)
        self.state_dir = state_dir
        self.direct = direct
        self.replay_bytes = replay_buffer
        self.progress_file = progress_file
        self.manifest = None
        self.targets = {}           # item index -> Target
        self.results = {}           # item index -> (ok, digest, error)
        self.pending = collections.deque()   # new upstream links: (link, manifest)
        self.pending_cv = threading.Condition()
        self.up = None
        self.rejected = []
        self.pos = (0, 0)
        self.activity = 0
        self.stop = threading.Event()
        self.progress = Progress(self.name, 0)
        self.writer_error = None
        self.server = listen_socket(self.listen, "%s:%d" % self.listen)

    # -- upstream links --------------------------------------------------------------------------------

    def _accept_loop(self):
        accept_loop(self.server, self.stop, self._accept_one)

    def _accept_one(self, sock, peer):
        try:
            link, role = wire.accept_handshake(sock, self.sid, self.key, peer, min(self.timeout, 10.0))
            if role != "upstream":
                raise LinkLost("%s connected as %s; receivers take only upstream links" % (peer, role))
            frame = link.read_frame(timeout=self.timeout)
            if frame.ftype != wire.MANIFEST:
                raise LinkLost("%s sent %s before the manifest" % (peer, frame.name))
            manifest = frame.json()
            if manifest.get("session") != self.session:
                raise LinkLost("%s sent the manifest of session %r" % (peer, manifest.get("session")))
        except (RingError, OSError) as exc:
            self.rejected.append("%s: %s" % (peer, exc))
            self.log("rejected a connection from %s: %s" % (peer, exc))
            try:
                sock.close()
            except OSError:
                pass
            return
        with self.pending_cv:
            self.pending.append((link, manifest))
            old = self.up
            self.pending_cv.notify_all()
        if old is not None:
            old.close()   # a new authenticated upstream replaces the old one (it was bypassed)

    def _next_upstream(self, wait):
        deadline = time.monotonic() + wait
        with self.pending_cv:
            while not self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.pending_cv.wait(min(left, 1.0))
            link, manifest = self.pending.popleft()
            while self.pending:      # only the newest counts
                link.close()
                link, manifest = self.pending.popleft()
            return link, manifest

    # -- the session -------------------------------------------------------------------------------------

    def _setup(self, manifest):
        names = [item["name"] for item in manifest["items"]]
        unknown = sorted(set(self.targets_spec) - set(names))
        if unknown:
            raise RingError("items %s are not in session %s (its items: %s)" % (", ".join(unknown), self.session, ", ".join(names)))
        self.checksum = wire.checksum_function(manifest["checksum"])
        if manifest.get("compress", "none") == "zstd" and not wire.HAS_ZSTD:
            wire.compressor("zstd")   # raises the message that says what to install
        if not os.path.isdir(self.state_dir):
            os.makedirs(self.state_dir, 0o700)
        for index, item in enumerate(manifest["items"]):
            dest = self.targets_spec.get(item["name"])
            if dest is not None:
                self.targets[index] = Target(item["name"], dest, item, ItemState(self.state_dir, item["name"], dest), self.direct)
        self.progress.total = sum(t.size for t in self.targets.values())
        self.progress.written = sum(t.resume_offset for t in self.targets.values())
        self.manifest = manifest
        chunk = int(manifest["chunk"])
        # room for a compressed chunk that grew; a multiple of the page size, so that every slot of
        # the page-aligned pool can be written with O_DIRECT
        self.slot = (chunk + (chunk >> 4) + 65536 + 4095) & ~4095
        count = max(8, self.replay_bytes // chunk)
        self.pool = mmap.mmap(-1, self.slot * count)  # page-aligned buffers (O_DIRECT wants that)
        self.nslots = count

    def _my_need(self):
        for index in range(len(self.manifest["items"])):
            target = self.targets.get(index)
            if target is not None and not target.complete:
                return (index, target.resume_offset)
        return END_POS

    def run(self):
        accept = daemon_thread(self._accept_loop, "ring-accept")
        acker = daemon_thread(self._ack_loop, "ring-ack")
        try:
            return self._run()
        finally:
            self.stop.set()
            close_listener(self.server, accept)
            if self.down is not None:
                self.down.close()
            if self.up is not None:
                self.up.close()
            for target in self.targets.values():
                if not target.complete:
                    target.abandon()
            self._write_progress()

    def _run(self):
        link, manifest = self._next_upstream(self.wait_timeout)
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
        self.down = self.connect_down(dict(manifest, started=True), 0)
        need = self._my_need()
        if self.down is not None:
            need = min(need, self.down.need)
        self.pos = need
        self._reply_ready(link, need)
        self.replay = collections.deque()     # (seq, pos, header bytes, payload view or bytes), seq in order
        self.replay_cv = threading.Condition()
        self.seq = 0
        self.writer = _Writer(self)
        self.forwarder = _Forwarder(self)
        try:
            return self._stream(link)
        finally:
            self.writer.stop()
            self.forwarder.stop()

    def _reply_ready(self, link, position):
        """READY, then the link becomes our upstream (the ACK thread writes to it from then on)."""
        with link_lock(link):
            link.send_control(wire.READY, {"position": list(position), "node": self.name})
        self.up = link

    def _wait_upstream(self, exc):
        """Our upstream is gone: wait for another (the forwarder keeps our downstream waiting)."""
        self.log("upstream lost at %s: %s" % (list(self.pos), exc))
        self.up = None
        link, _manifest = self._next_upstream(self.timeout)
        if link is not None:
            self.log("new upstream %s" % link.peer)
        return link

    def _free_slot(self):
        """Wait until the writer and the forwarder are done with the slot the next frame goes into,
        then drop what the slot held from the replay window."""
        oldest = self.seq - self.nslots
        if oldest >= 0:
            self.writer.wait_released(oldest)
            self.forwarder.wait_released(oldest)
        with self.replay_cv:
            while self.replay and self.replay[0][0] <= oldest:
                self.replay.popleft()

    def _append(self, pos, header, payload):
        """A frame for the forwarder (and the replay window)."""
        with self.replay_cv:
            self.replay.append((self.seq, pos, header, payload))
            self.replay_cv.notify_all()
        self.seq += 1

    def _stream(self, link):
        while True:
            self._free_slot()
            slot = self.seq % self.nslots
            buf = memoryview(self.pool)[slot * self.slot:(slot + 1) * self.slot]
            try:
                frame = link.read_frame(into=buf)
            except (LinkLost, Stalled) as exc:
                link.close()
                link = self._wait_upstream(exc)
                if link is None:
                    self._abort_down("upstream of %s lost" % self.name)
                    return self._failed("upstream lost at position %s (%s); none came back within %.0f s"
                                        % (list(self.pos), exc, self.timeout))
                self._reply_ready(link, self.pos)
                continue
            self.activity += 1
            if frame.ftype in (wire.DATA, wire.HOLE):
                self._take_segment(frame, link)
            elif frame.ftype == wire.ITEM_END:
                end = frame.json()
                if (frame.item, frame.offset) != self.pos or end.get("size") != frame.offset:
                    link.close()
                    continue
                self.writer.put(("end", frame.item, end["digest"], self.seq))
                self._append(self.pos, frame.header, bytes(frame.payload))
                self.pos = (frame.item + 1, 0)
            elif frame.ftype == wire.END:
                self.writer.put(("release", None, None, self.seq))
                self._append(END_POS, frame.header, b"")
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
            except Exception as exc:  # zlib/zstd errors: a corrupt frame
                self.log("a chunk at %s does not unpack (%s); dropping the link" % (list(pos), exc))
                link.close()
                return
            if self.checksum(raw) != frame.checksum:
                self.log("a chunk at %s failed its checksum; dropping the link" % list(pos))
                link.close()
                return
            kind = KIND_DATA
        else:
            raw, kind = None, KIND_HOLE
        self.writer.put(("seg", frame.item, (frame.offset, frame.raw_len, kind, frame.checksum, raw), self.seq))
        self._append(pos, frame.header, frame.payload)
        self.pos = (frame.item, frame.offset + frame.raw_len)

    def _bypass(self, exc, upto):
        """The downstream is dead or stalled: connect the next live node and catch it up with every
        frame up to seq `upto`."""
        dead = self.down
        self.bypassed[dead.address] = "bypassed: %s" % exc
        self.log("bypassing %s: %s" % (dead.address, exc))
        dead.close()
        self.busy = True
        try:
            while True:
                self.down = self.connect_down(dict(self.manifest, started=True), dead.index + 1)
                if self.down is None:
                    return
                try:
                    self._catch_up(self.down, upto)
                    return
                except (LinkLost, Stalled) as again:
                    self.bypassed[self.down.address] = "bypassed: %s" % again
                    self.log("bypassing %s: %s" % (self.down.address, again))
                    self.down.close()
                    dead = self.down
        finally:
            self.busy = False

    def _catch_up(self, down, upto):
        """Send `down` everything from its position up to seq `upto`: what is older than the replay
        window from the source, then the window (pinned meanwhile, so no slot of it is reused)."""
        with self.replay_cv:
            window = [entry for entry in self.replay if entry[0] <= upto]
            later = [entry for entry in self.replay if entry[0] > upto]
            self.forwarder.pin = window[0][0] if window else None
            # the position the window starts at: older than that comes from the source
            first = window[0][1] if window else (later[0][1] if later else self.pos)
        try:
            if down.need < first:
                self._fetch(down, down.need, first)
            for _seq, pos, header, payload in window:
                down.send(pos, header, payload)
        finally:
            self.forwarder.pin = None

    def _fetch(self, down, start, end):
        host, port = wire.parse_address(self.manifest["fetch"], "fetch")
        self.log("fetching %s..%s from the source for %s" % (list(start), list(end), down.address))
        try:
            link = wire.connect_handshake((host, port), self.sid, self.key, self.timeout, role="fetch")
        except (OSError, RingError) as exc:
            raise LinkLost("the source cannot serve the range %s..%s: %s" % (list(start), list(end), exc))
        try:
            link.send_control(wire.FETCH, {"from": list(start), "to": list(end)})
            while True:
                frame = link.read_frame()
                if frame.ftype == wire.END:
                    return
                pos = (frame.item, frame.offset)
                down.send(pos, frame.header, frame.payload)
        except RingError as exc:
            if isinstance(exc, (LinkLost, Stalled)) and down.error is not None:
                raise
            raise LinkLost("fetching from the source: %s" % exc)
        finally:
            link.close()

    def _abort_down(self, reason):
        """ABORT goes down through the forwarder, after what it still has to send."""
        if getattr(self, "forwarder", None) is None:
            return
        self._append(END_POS, wire.control_frame(wire.ABORT, self.sid, {"reason": reason}), b"")
        self.forwarder.drain(self.timeout)

    def _finish(self, link):
        self.sending = True     # busy making the items durable: the upstream waits for the report
        self.writer.drain()
        items = {}
        for index, target in sorted(self.targets.items()):
            if index not in self.results and target.complete:
                # complete from an earlier run of the same source item: nothing was sent for it
                self.results[index] = (True, item_digest(target.records), None)
            ok, digest, error = self.results.get(index, (False, None, "the item never ended"))
            items[target.name] = {"ok": ok, "digest": digest, "error": error, "dest": target.dest,
                                  "bytes_written": target.bytes_written}
        ok = all(entry["ok"] for entry in items.values())
        mine = {"node": self.name, "ok": ok, "items": items,
                "error": None if ok else "; ".join(e["error"] for e in items.values() if e["error"])}
        self.progress.state = "done" if ok else "failed"
        below = []
        self.sending = True     # waiting on the downstream: our upstream keeps waiting too
        try:
            self.forwarder.drain(None)
            while self.down is not None:
                try:
                    below = self.down.wait_report()
                    break
                except (LinkLost, Stalled) as exc:
                    self._bypass(exc, self.seq - 1)
        finally:
            self.sending = False
        for address, why in self.bypassed.items():
            if all(n.get("address") != address for n in below):
                below.append({"node": address, "address": address, "ok": False, "error": why, "items": {}})
        mine["address"] = "%s:%d" % self.listen
        with link_lock(link):
            try:
                link.send_control(wire.REPORT, {"nodes": [mine] + below})
            except RingError as exc:
                self.log("could not send the report upstream: %s" % exc)
        return self._result(ok, mine["error"], below)

    def _failed(self, error):
        self.progress.state = "failed"
        return self._result(False, error, [])

    def _result(self, ok, error, below):
        items = {}
        for index, target in sorted(self.targets.items()):
            res = self.results.get(index)
            items[target.name] = {"ok": bool(res and res[0]), "digest": res[1] if res else None,
                                  "dest": target.dest, "verified_offset": target.durable if not (res and res[0]) else target.size,
                                  "size": target.size, "bytes_written": target.bytes_written,
                                  "error": (res[2] if res else None)}
        return {"ok": ok, "node": self.name, "error": error, "items": items, "downstream": below,
                "rejected": list(self.rejected), "bypassed": dict(self.bypassed), "log": self.log_lines[-200:]}

    # -- progress --------------------------------------------------------------------------------------

    def _ack_loop(self):
        while not self.stop.wait(ACK_INTERVAL):
            nodes = dict(self.down.nodes) if self.down is not None else {}
            nodes[self.name] = self.progress.snapshot()
            link = self.up
            if link is not None and self.manifest is not None:
                with link_lock(link):
                    try:
                        link.send_control(wire.ACK, {"activity": self.activity, "busy": self.busy or self.sending,
                                                     "nodes": nodes})
                    except RingError:
                        pass
            self._write_progress(nodes)

    def _write_progress(self, nodes=None):
        if self.progress_file:
            nodes = nodes or {self.name: self.progress.snapshot()}
            try:
                atomic_write(self.progress_file, json.dumps({"nodes": nodes, "time": time.time()}).encode("utf-8"), fsync=False)
            except OSError:
                pass


def daemon_thread(target, name, *args):
    """A started daemon thread: a node's helpers must never keep a failed module process alive."""
    thread = threading.Thread(target=target, name=name, args=args)
    thread.daemon = True
    thread.start()
    return thread


def listen_socket(address, text):
    """A listening TCP socket on (host, port), or a RingError that names the address."""
    try:
        server = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(address)
        server.listen(16)
    except OSError as exc:
        raise RingError("cannot listen on %s: %s" % (text, exc.strerror or exc))
    return server


def accept_loop(server, stop, handle):
    """Accept connections until `stop` is set or the socket is closed; each is handled in a thread
    of its own: handle(sock, "host:port")."""
    server.settimeout(0.5)
    while not stop.is_set():
        try:
            sock, peer = server.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        daemon_thread(handle, "ring-link", sock, "%s:%d" % peer[:2])


def close_listener(sock, thread):
    """Close a listening socket so that its port is free when run() returns: shutdown wakes the
    thread blocked in accept() at once (a plain close would leave the socket listening until that
    thread's poll times out, and a session started right after would find the port taken)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
    thread.join(2.0)


_LOCKS = {}
_LOCKS_GUARD = threading.Lock()


def link_lock(link):
    """One send lock per link: the ACK thread and the main thread both write upstream."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(link), threading.Lock())


class _Writer:
    """The receiver's writer thread: targets are written in stream order, off the network path."""

    def __init__(self, node):
        self.node = node
        self.queue = collections.deque()
        self.cv = threading.Condition()
        self.released = -1
        self.running = True
        self.thread = daemon_thread(self._run, "ring-writer")

    def put(self, task):
        with self.cv:
            self.queue.append(task)
            self.cv.notify_all()

    def wait_released(self, seq):
        if seq < 0:
            return
        with self.cv:
            while self.released < seq and self.running:
                self.cv.wait(0.5)

    def drain(self):
        with self.cv:
            while (self.queue or self.busy) and self.running:
                self.cv.wait(0.5)

    def stop(self):
        with self.cv:
            self.running = False
            self.cv.notify_all()

    busy = False

    def _run(self):
        node = self.node
        while True:
            with self.cv:
                while not self.queue and self.running:
                    self.cv.wait(0.5)
                if not self.queue:
                    return
                kind, item, arg, seq = self.queue.popleft()
                self.busy = True
            target = node.targets.get(item) if item is not None else None
            try:
                if kind == "seg" and target is not None:
                    offset, length, seg_kind, checksum, raw = arg
                    target.write(offset, length, seg_kind, checksum, raw)
                    node.progress.written = sum(t.offset for t in node.targets.values())
                    target.checkpoint()
                elif kind == "end" and target is not None:
                    node.results[item] = target.finish(arg)
            except (OSError, RingError) as exc:
                if target is not None:
                    target.error = target.error or "writing %s: %s" % (target.dest, getattr(exc, "strerror", None) or exc)
            with self.cv:
                self.released = seq
                self.busy = False
                self.cv.notify_all()


class _Forwarder:
    """The receiver's forwarding thread: sends each frame of the replay window downstream in order,
    so receiving and forwarding overlap; bypasses a dead downstream; sends WAIT when idle."""

    def __init__(self, node):
        self.node = node
        self.released = -1
        self.pin = None
        self.running = True
        self.done = False
        self.thread = daemon_thread(self._run, "ring-forwarder")

    def wait_released(self, seq):
        node = self.node
        with node.replay_cv:
            while (self.released < seq or (self.pin is not None and self.pin <= seq)) and self.running:
                node.replay_cv.wait(0.5)

    def drain(self, timeout):
        """Wait until everything queued so far was forwarded (or bypassed to nobody)."""
        node = self.node
        deadline = None if timeout is None else time.monotonic() + timeout
        with node.replay_cv:
            while self.released < node.seq - 1 and self.running and not self.done:
                if deadline is not None and time.monotonic() > deadline:
                    return
                node.replay_cv.wait(0.5)

    def stop(self):
        with self.node.replay_cv:
            self.running = False
            self.node.replay_cv.notify_all()

    def _next(self, seq):
        node = self.node
        with node.replay_cv:
            if not node.replay or node.replay[-1][0] < seq:
                node.replay_cv.wait(1.0)
            if node.replay and node.replay[0][0] <= seq <= node.replay[-1][0]:
                return node.replay[seq - node.replay[0][0]]
        return None

    def _run(self):
        node = self.node
        seq = 0
        idle_since = time.monotonic()
        while self.running:
            entry = self._next(seq)
            if entry is None:
                if node.down is not None and time.monotonic() - idle_since > 1.0:
                    idle_since = time.monotonic()
                    self._send(seq - 1, None, wire.pack_header(wire.WAIT, node.sid), b"")
                continue
            _seq, pos, header, payload = entry
            if node.down is not None:
                self._send(seq, pos, header, payload)
            with node.replay_cv:
                self.released = seq
                node.replay_cv.notify_all()
            seq += 1
            idle_since = time.monotonic()
            if pos == END_POS:
                self.done = True
                return

    def _send(self, seq, pos, header, payload):
        node = self.node
        node.sending = True
        try:
            if pos is None:
                node.down.link.send_all(header, progress=node.down.alive)
            else:
                node.down.send(pos, header, payload)
        except (LinkLost, Stalled) as exc:
            # the new downstream gets everything up to and including this frame from the replay
            node._bypass(exc, seq)
        finally:
            node.sending = False


class Sender(Node):
    """The golden node: names the items, streams them down the chain, serves ranges to relays."""

    def __init__(self, session, key, items, chain, listen=None, timeout=30, compress="none", checksum="auto",
                 chunk=4 << 20, sparse=True, name="source", progress_file=None, log=None):
        Node.__init__(self, session, key, chain, timeout, name, log)
        if not self.chain:
            raise RingError("chain is empty: give the receivers' address:port in ring order")
        if checksum == "auto":
            checksum = wire.checksum_names()[0]
        self.checksum_name = checksum
        self.checksum = wire.checksum_function(checksum)
        self.compress_name = compress
        self.compress = wire.compressor(compress)
        self.flags = wire.COMPRESSIONS[compress]
        if chunk < 65536 or chunk > wire.MAX_CHUNK or chunk % 4096:
            raise RingError("chunk %r must be a multiple of 4096 between 64 KiB and 64 MiB" % chunk)
        self.chunk = chunk
        self.progress_file = progress_file
        names = set()
        for spec in items:
            if spec["name"] in names:
                raise RingError("item name %r is given twice" % spec["name"])
            names.add(spec["name"])
        self.items = [SourceItem(i, spec, chunk, checksum, self.checksum, sparse) for i, spec in enumerate(items)]
        self.listen = wire.parse_address(listen, "listen") if listen else ("0.0.0.0", 0)
        self.server = listen_socket(self.listen, "%s:%d" % self.listen)
        self.stop = threading.Event()
        self.started = time.monotonic()

    def manifest(self, fetch):
        return {"session": self.session, "items": [item.manifest() for item in self.items], "chunk": self.chunk,
                "checksum": self.checksum_name, "compress": self.compress_name, "fetch": fetch}

    # -- frames ---------------------------------------------------------------------------------------

    def frames(self, start, end=END_POS):
        """Yield (pos, header, payload) from position start to end (exclusive)."""
        for index in range(start[0], min(end[0] + 1, len(self.items))):
            item = self.items[index]
            offset = start[1] if index == start[0] else 0
            stop = end[1] if index == end[0] else None
            for off, length, kind, value in item.segments(offset, stop):
                if kind == KIND_HOLE:
                    yield (index, off), wire.pack_header(wire.HOLE, self.sid, index, off, 0, 0, length), None
                elif self.compress is not None:
                    packed = self.compress(memoryview(item.map)[off:off + length])
                    yield (index, off), wire.pack_header(wire.DATA, self.sid, index, off, value, len(packed), length, self.flags), packed
                else:
                    yield (index, off), wire.pack_header(wire.DATA, self.sid, index, off, value, length, length), (item.fd, off, length)
            if stop is None:
                body = json.dumps({"size": item.size, "digest": item.digest()}).encode("utf-8")
                import zlib
                yield (index, item.size), wire.pack_header(wire.ITEM_END, self.sid, index, item.size, zlib.crc32(body),
                                                           len(body), len(body)) + body, None

    def _send(self, link, header, payload, progress=None):
        if payload is None:
            link.send_all(header, progress=progress)
        elif isinstance(payload, tuple):
            link.send_all(header, progress=progress)
            link.send_file(payload[0], payload[1], payload[2], progress=progress)
        else:
            link.send_all(header, payload, progress=progress)

    # -- fetch service ----------------------------------------------------------------------------------

    def _serve(self):
        accept_loop(self.server, self.stop, self._serve_one)

    def _serve_one(self, sock, peer):
        try:
            link, role = wire.accept_handshake(sock, self.sid, self.key, peer, min(self.timeout, 10.0))
            if role != "fetch":
                raise LinkLost("%s connected as %s; the source serves only fetches" % (peer, role))
            request = link.expect(wire.FETCH, timeout=self.timeout)
            start, end = tuple(request["from"]), tuple(request["to"])
            self.log("serving %s..%s to %s" % (list(start), list(end), peer))
            for _pos, header, payload in self.frames(start, end):
                self._send(link, header, payload)
            link.send_all(wire.pack_header(wire.END, self.sid))
            link.close()
        except (RingError, OSError, KeyError, TypeError, ValueError) as exc:
            self.log("fetch from %s refused: %s" % (peer, exc))
            sock.close()

    # -- the session ------------------------------------------------------------------------------------

    def run(self):
        server = daemon_thread(self._serve, "ring-fetch")
        watcher = daemon_thread(self._progress_loop, "ring-progress")
        try:
            return self._run()
        finally:
            self.stop.set()
            close_listener(self.server, server)
            if self.down is not None:
                self.down.close()
            for item in self.items:
                item.close()

    def _run(self):
        port = self.server.getsockname()[1]
        self.down = None
        start_index = 0
        report = None
        while True:
            self.down = self.connect_down(self._manifest_for(start_index), start_index)
            if self.down is None:
                break
            try:
                for pos, header, payload in self.frames(self.down.need):
                    self._send(self.down.link, header, payload, progress=self.down.alive)
                self.down.link.send_all(wire.pack_header(wire.END, self.sid), progress=self.down.alive)
                report = self.down.wait_report()
                break
            except (LinkLost, Stalled) as exc:
                self.bypassed[self.down.address] = "bypassed: %s" % exc
                self.log("bypassing %s: %s" % (self.down.address, exc))
                self.down.close()
                start_index = self.down.index + 1
        del port
        return self._table(report or [])

    def _manifest_for(self, start_index):
        # relays fetch from the address the source's own link uses, on the fetch port
        port = self.server.getsockname()[1]
        host = self.listen[0]
        if host in ("0.0.0.0", "::", ""):
            host = self._route_to(self.chain[start_index] if start_index < len(self.chain) else self.chain[0])
        return self.manifest("%s:%d" % (host, port))

    @staticmethod
    def _route_to(address):
        probe = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect(address)
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
        finally:
            probe.close()

    def _table(self, report):
        by_address = {entry.get("address"): entry for entry in report}
        digests = {item.name: item.digest() for item in self.items}
        table = []
        for text in self.chain_text:
            entry = by_address.get(text)
            if entry is None:
                why = self.bypassed.get(text) or "did not report (bypassed or unreachable)"
                table.append({"node": text, "address": text, "ok": False, "error": why, "items": {}})
                continue
            entry = dict(entry)
            for name, res in entry.get("items", {}).items():
                if res.get("ok") and res.get("digest") != digests.get(name):
                    res["ok"] = False
                    res["error"] = "digest differs from the source's"
                    entry["ok"] = False
            table.append(entry)
        ok = [e["node"] for e in table if e["ok"]]
        failed = [e["node"] for e in table if not e["ok"]]
        return {"ok_nodes": ok, "failed_nodes": failed, "nodes": table, "digests": digests,
                "seconds": round(time.monotonic() - self.started, 3),
                "bytes": sum(item.size for item in self.items), "checksum": self.checksum_name,
                "progress": self._nodes(), "log": self.log_lines[-200:]}

    def _nodes(self):
        return dict(self.down.nodes) if self.down is not None else {}

    def _progress_loop(self):
        while not self.stop.wait(1.0):
            if self.progress_file:
                try:
                    atomic_write(self.progress_file, json.dumps({"nodes": self._nodes(), "time": time.time(),
                                                                 "elapsed": round(time.monotonic() - self.started, 1)}).encode("utf-8"),
                                 fsync=False)
                except OSError:
                    pass
