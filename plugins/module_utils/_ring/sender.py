# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The source of a ring session (the golden node).

* It names the items, connects to the first live receiver of its chain and streams every item from
  the position that part of the ring needs (a resumed ring needs less). A receiver that dies or
  stalls is bypassed (``relay``): the stream goes on to the next live one, from its own position.
* It serves the ranges a receiver needs to catch up its successor after a bypass, when they are
  older than that receiver's buffer pool (the fetch service, on ``listen``).
* Its result is the table of every node of the chain: each node's REPORT, with its digests compared
  with the source's (``report.source_table``). The progress the ACKs bring up is written to
  ``progress_file`` every second.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time
import zlib

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError, LinkLost, Stalled
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import SourceItem
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.listener import Listener
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import (
    chain_errors, chunk_errors, item_errors, key_bytes, parse_address, raise_errors, rate_errors, rate_limit_bytes)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.pace import Pacer
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.relay import END_POS, EventLog, Relay
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.progress_file import write_progress_file
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.report import source_table
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import KIND_HOLE, KIND_UNUSED


class Sender:
    """The golden node: names the items ([{name, src, format}]), streams them down the chain (the
    receivers' addresses in ring order), serves ranges to relays. run() returns the table."""

    def __init__(self, session, key, items, chain, listen=None, timeout=30, compress="none", checksum="auto",
                 chunk=4 << 20, sparse=True, name="source", progress_file=None, log=None, filesystem_aware=True, rate_limit=0):
        self.session = session
        self.sid = wire.session_bytes(session)
        key = key_bytes(key)
        chain = list(chain)
        rate_limit = rate_limit_bytes(rate_limit)
        raise_errors(chain_errors(chain, listen, send=True) + item_errors(items, send=True) + chunk_errors(chunk, "chunk")
                     + rate_errors(rate_limit, chunk, timeout))
        self.pacer = Pacer(rate_limit)
        self.timeout = float(timeout)
        self.name = name
        self.log = EventLog(name, log)
        self.relay = Relay(self.sid, key, chain, self.timeout, self.log)
        if checksum == "auto":
            checksum = wire.checksum_names()[0]
        self.checksum_name = checksum
        self.checksum = wire.checksum_function(checksum)
        self.compress_name = compress
        self.compress = wire.compressor(compress)
        self.flags = wire.COMPRESSIONS[compress]
        self.chunk = chunk
        self.progress_file = progress_file
        self.items = [SourceItem(i, spec, chunk, checksum, self.checksum, sparse,
                                 filesystem_aware=filesystem_aware if spec.get("filesystem_aware") is None else spec["filesystem_aware"])
                      for i, spec in enumerate(items)]
        self.sent = 0              # bytes of DATA frames sent (uncompressed), fetches included
        self.listen = parse_address(listen, "listen") if listen else ("0.0.0.0", 0)
        self.listener = Listener(self.listen, self.sid, key, min(self.timeout, 10.0), self._serve, self._refuse)
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
                if kind in (KIND_HOLE, KIND_UNUSED):
                    flags = wire.FLAG_UNUSED if kind == KIND_UNUSED else 0
                    yield (index, off), wire.pack_header(wire.HOLE, self.sid, index, off, 0, 0, length, flags), None
                    continue
                self.sent += length
                if self.compress is not None:
                    packed = self.compress(memoryview(item.map)[off:off + length])
                    yield (index, off), wire.pack_header(wire.DATA, self.sid, index, off, value, len(packed), length, self.flags), packed
                else:
                    yield (index, off), wire.pack_header(wire.DATA, self.sid, index, off, value, length, length), (item.fd, off, length)
            if stop is None:
                body = json.dumps({"size": item.size, "digest": item.digest()}).encode("utf-8")
                yield (index, item.size), wire.pack_header(wire.ITEM_END, self.sid, index, item.size, zlib.crc32(body),
                                                           len(body), len(body)) + body, None

    @staticmethod
    def _send(link, header, payload, progress=None):
        if payload is None:
            link.send_all(header, progress=progress)
        elif isinstance(payload, tuple):
            link.send_all(header, progress=progress)
            link.send_file(payload[0], payload[1], payload[2], progress=progress)
        else:
            link.send_all(header, payload, progress=progress)

    # -- fetch service ----------------------------------------------------------------------------------

    def _serve(self, link, role, peer):
        try:
            if role != "fetch":
                raise LinkLost("%s connected as %s; the source serves only fetches" % (peer, role))
            request = link.expect(wire.FETCH, timeout=self.timeout)
            start, end = tuple(request["from"]), tuple(request["to"])
            self.log("serving %s..%s to %s" % (list(start), list(end), peer))
            for dummy, header, payload in self.frames(start, end):
                self._send(link, header, payload)
            link.send_all(wire.pack_header(wire.END, self.sid))
        except (RingError, OSError, KeyError, TypeError, ValueError) as exc:
            self._refuse(peer, exc)
        link.close()

    def _refuse(self, peer, error):
        self.log("fetch from %s refused: %s" % (peer, error))

    # -- the session ------------------------------------------------------------------------------------

    def run(self):
        self.listener.start(self.stop)
        daemon_thread(self._progress_loop, "ring-progress")
        try:
            return self._run()
        finally:
            self.stop.set()
            self.listener.close()
            self.relay.close()
            for item in self.items:
                item.close()

    def _run(self):
        report = None
        down = self.relay.connect(self._manifest_for(0), 0)
        while down is not None:
            try:
                for dummy, header, payload in self.frames(down.need):
                    if payload is not None:
                        self.pacer.take(payload[2] if isinstance(payload, tuple) else len(payload))
                    self._send(down.link, header, payload, progress=down.alive)
                down.link.send_all(wire.pack_header(wire.END, self.sid), progress=down.alive)
                report = down.wait_report()
                break
            except (LinkLost, Stalled) as exc:
                down = self.relay.bypass(exc, self._manifest_for(down.index + 1))
        return self._result(report or [])

    def _manifest_for(self, start_index):
        # relays fetch from the address the source's own link uses, on the fetch port
        host = self.listen[0]
        chain = self.relay.chain
        if host in ("0.0.0.0", "::", ""):
            host = wire.local_address_towards(chain[start_index] if start_index < len(chain) else chain[0])
        return self.manifest("%s:%d" % (host, self.listener.port))

    def _result(self, report):
        digests = dict((item.name, item.digest()) for item in self.items)
        table = source_table(self.relay.chain_text, report, self.relay.bypassed, digests)
        return {"ok_nodes": [e["node"] for e in table if e["ok"]], "failed_nodes": [e["node"] for e in table if not e["ok"]],
                "nodes": table, "digests": digests, "seconds": round(time.monotonic() - self.started, 3),
                "bytes": sum(item.size for item in self.items), "checksum": self.checksum_name,
                "sent_bytes": self.sent, "filesystems": dict((item.name, item.filesystem) for item in self.items),
                "progress": self.relay.nodes(), "log": self.log.last()}

    def _progress_loop(self):
        while not self.stop.wait(1.0):
            write_progress_file(self.progress_file, {"nodes": self.relay.nodes(), "time": time.time(),
                                                     "elapsed": round(time.monotonic() - self.started, 1)})
