# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The ring's wire format: frames, the HMAC handshake, chunk checksums and compression.

Every message on a ring link is one frame: a fixed 48-byte header, then ``wire_len`` bytes.

    magic "LFR1" | type | flags | item | session id (16 bytes) | offset | checksum | wire_len | raw_len

* The session id is in every header, so a frame of another session is refused before its payload
  is used (Frisbee's mixed-streams problem). Control frames carry a JSON payload.
* DATA frames carry one chunk of an item at ``offset``; ``checksum`` is the chunk's xxh3-64 (when
  the python ``xxhash`` package is there) or CRC-32 of the uncompressed bytes, checked by every
  receiver before anything is written. HOLE frames carry no payload: ``raw_len`` zero bytes, or with
  FLAG_UNUSED ``raw_len`` bytes the item's file system does not use.
* Links authenticate both ways with a challenge: the listening side sends a nonce, the connecting
  side answers HMAC-SHA256(key, "up" | session | both nonces) and the listener answers "down" with
  the same. Without the session key a connection is dropped before any frame is read.

Standard library only, except the optional xxhash and zstandard packages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os
import re
import socket
import struct
import threading
import time
import zlib

try:
    import xxhash
    HAS_XXHASH = True
except ImportError:
    HAS_XXHASH = False

try:
    import zstandard
    HAS_ZSTD = True
except ImportError:
    HAS_ZSTD = False

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError, LinkLost, Stalled

MAGIC = b"LFR1"
HEADER = struct.Struct("!4sBBH16sQQII")
HEADER_SIZE = HEADER.size   # 48

# frame types
HELLO, AUTH, WELCOME, MANIFEST, READY = 1, 2, 3, 4, 5
DATA, HOLE, ITEM_END, END, ABORT, WAIT = 10, 11, 12, 13, 14, 15
ACK, REPORT, FETCH = 20, 21, 30
TYPE_NAMES = {HELLO: "HELLO", AUTH: "AUTH", WELCOME: "WELCOME", MANIFEST: "MANIFEST", READY: "READY",
              DATA: "DATA", HOLE: "HOLE", ITEM_END: "ITEM_END", END: "END",
              ABORT: "ABORT", WAIT: "WAIT", ACK: "ACK", REPORT: "REPORT", FETCH: "FETCH"}

# frame flags: how a DATA payload is compressed
FLAG_ZLIB = 1
FLAG_ZSTD = 2
# a HOLE frame's flag: space the item's file system does not use (left as it is on a block device)
FLAG_UNUSED = 4
COMPRESSIONS = {"none": 0, "zlib": FLAG_ZLIB, "zstd": FLAG_ZSTD}

MAX_CONTROL = 64 << 20          # a JSON payload larger than this is a protocol error
MAX_HANDSHAKE = 4096            # a frame larger than this before the peer authenticated is one too
MAX_CHUNK = 64 << 20
_HEX_MAC = re.compile(r"^[0-9a-f]{64}\Z")

CHECKSUMS = ("xxh3", "crc32")   # the chunk checksums of the protocol, best first


def checksum_names():
    """The chunk checksums this host can compute, best first."""
    return list(CHECKSUMS) if HAS_XXHASH else ["crc32"]


def checksum_function(name):
    if name == "xxh3":
        if not HAS_XXHASH:
            raise RingError("checksum xxh3 needs the python package xxhash on every node (pip install xxhash); "
                            "or set checksum: crc32")
        return xxhash.xxh3_64_intdigest
    if name == "crc32":
        return zlib.crc32
    raise RingError("unknown checksum %r: use xxh3 or crc32" % (name,))


def compressor(name, level=None):
    """A function bytes-like -> compressed bytes for `name`, or None for none."""
    if name == "none":
        return None
    if name == "zlib":
        lvl = 1 if level is None else level
        return lambda data: zlib.compress(data, lvl)
    if name == "zstd":
        if not HAS_ZSTD:
            raise RingError("compress: zstd needs the python package zstandard on every node "
                            "(pip install zstandard); or use compress: zlib")
        ctx = zstandard.ZstdCompressor(level=3 if level is None else level)
        return ctx.compress
    raise RingError("unknown compress %r: use none, zlib or zstd" % (name,))


def decompress(flags, payload, raw_len):
    if flags & FLAG_ZLIB:
        out = zlib.decompress(payload)
    elif flags & FLAG_ZSTD:
        if not HAS_ZSTD:
            raise RingError("the source compresses with zstd, which needs the python package zstandard here "
                            "(pip install zstandard)")
        out = zstandard.ZstdDecompressor().decompress(payload, max_output_size=raw_len)
    else:
        return payload
    if len(out) != raw_len:
        raise LinkLost("a compressed chunk unpacked to %d bytes, not %d" % (len(out), raw_len))
    return out


def session_bytes(session):
    """The 16-byte id of a session name: the name may be any text, the wire carries its hash."""
    return hashlib.sha256(("labfarm-ring:" + session).encode("utf-8")).digest()[:16]


def pack_header(ftype, sid, item=0, offset=0, checksum=0, wire_len=0, raw_len=0, flags=0):
    return HEADER.pack(MAGIC, ftype, flags, item, sid, offset, checksum, wire_len, raw_len)


def control_frame(ftype, sid, obj):
    payload = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return pack_header(ftype, sid, wire_len=len(payload), raw_len=len(payload),
                       checksum=zlib.crc32(payload)) + payload


class Frame:
    __slots__ = ("ftype", "flags", "item", "offset", "checksum", "wire_len", "raw_len", "header", "payload")

    def __init__(self, header, fields):
        self.header = header
        (_magic, self.ftype, self.flags, self.item, _sid, self.offset, self.checksum,
         self.wire_len, self.raw_len) = fields
        self.payload = None

    @property
    def name(self):
        return TYPE_NAMES.get(self.ftype, str(self.ftype))

    def json(self):
        """The message of a control frame: every message of the protocol is a JSON object."""
        if zlib.crc32(self.payload) != self.checksum:
            raise LinkLost("a %s message failed its checksum" % self.name)
        try:
            message = json.loads(bytes(self.payload).decode("utf-8"))
        except ValueError:
            raise LinkLost("a %s message is not JSON" % self.name)
        if not isinstance(message, dict):
            raise LinkLost("a %s message is not a JSON object" % self.name)
        return message


class Link:
    """One authenticated TCP link of a session, with reads that give up after `timeout` seconds
    without a byte. Two threads may write to one link (a receiver's ACKs and its READY and REPORT
    upstream): they hold `lock` around each frame."""

    def __init__(self, sock, sid, peer, timeout):
        self.sock = sock
        self.sid = sid
        self.peer = peer
        self.timeout = timeout
        self.lock = threading.Lock()
        self.closed = False
        sock.settimeout(1.0)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # no SO_SNDBUF/SO_RCVBUF: setting them turns off TCP autotuning and caps them at wmem_max
        except OSError:
            pass

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def recv_into(self, view, timeout=None):
        """Fill `view` completely, or raise LinkLost (closed, reset) / Stalled."""
        timeout = self.timeout if timeout is None else timeout
        got, size = 0, len(view)
        last = time.monotonic()
        while got < size:
            try:
                n = self.sock.recv_into(view[got:], size - got)
            except socket.timeout:
                if time.monotonic() - last > timeout:
                    raise Stalled("nothing from %s for %.0f s" % (self.peer, timeout))
                continue
            except OSError as exc:
                raise LinkLost("link to %s: %s" % (self.peer, exc))
            if n == 0:
                raise LinkLost("%s closed the link" % self.peer)
            got += n
            last = time.monotonic()

    def read_frame(self, into=None, timeout=None, limit=None):
        """Read one frame. The payload goes into `into` (a writable buffer) when given and large
        enough, else into a new bytearray. limit: the largest payload taken, whatever the frame's
        type (the handshake takes MAX_HANDSHAKE: nothing is allocated for a stranger's claims)."""
        head = bytearray(HEADER_SIZE)
        self.recv_into(memoryview(head), timeout=timeout)
        fields = HEADER.unpack(bytes(head))
        if fields[0] != MAGIC:
            raise LinkLost("%s sent something that is not a ring frame" % self.peer)
        if fields[4] != self.sid:
            raise LinkLost("%s sent a frame of another session" % self.peer)
        frame = Frame(bytes(head), fields)
        if limit is None:
            limit = MAX_CHUNK if frame.ftype in (DATA, HOLE) else MAX_CONTROL
        if frame.wire_len > limit or frame.raw_len > MAX_CHUNK + MAX_CONTROL:
            raise LinkLost("%s sent a %s frame of %d bytes" % (self.peer, frame.name, frame.wire_len))
        if frame.wire_len:
            if into is not None and len(into) >= frame.wire_len:
                view = memoryview(into)[:frame.wire_len]
            else:
                view = memoryview(bytearray(frame.wire_len))
            self.recv_into(view, timeout=timeout)
            frame.payload = view
        else:
            frame.payload = memoryview(b"")
        return frame

    def expect(self, ftype, timeout=None, limit=None):
        frame = self.read_frame(timeout=timeout, limit=limit)
        if frame.ftype == ABORT:
            raise RingError("%s aborted: %s" % (self.peer, frame.json().get("reason")))
        if frame.ftype != ftype:
            raise LinkLost("%s sent %s where %s was expected" % (self.peer, frame.name, TYPE_NAMES[ftype]))
        return frame.json()

    def send_all(self, *parts, **kwargs):
        """Send bytes-like parts; `progress()` (kwarg) is polled while the peer does not take any:
        it returns True while the peer is known to be alive and busy, which keeps the link open."""
        progress = kwargs.get("progress")
        for part in parts:
            view = memoryview(part)
            sent, size = 0, len(view)
            last = time.monotonic()
            while sent < size:
                try:
                    n = self.sock.send(view[sent:])
                except socket.timeout:
                    now = time.monotonic()
                    if progress is not None and progress():
                        last = now
                    elif now - last > self.timeout:
                        raise Stalled("%s took nothing for %.0f s" % (self.peer, self.timeout))
                    continue
                except OSError as exc:
                    raise LinkLost("link to %s: %s" % (self.peer, exc))
                sent += n
                last = time.monotonic()

    def send_file(self, fd, offset, count, progress=None):
        """sendfile(2) from fd: the source's chunks leave the page cache without a copy here."""
        end = offset + count
        last = time.monotonic()
        while offset < end:
            try:
                n = os.sendfile(self.sock.fileno(), fd, offset, end - offset)
            except (BlockingIOError, socket.timeout):
                n = None
            except OSError as exc:
                raise LinkLost("link to %s: %s" % (self.peer, exc))
            if n == 0:
                raise RingError("the source file ended at %d, before its size" % offset)
            if not n:
                now = time.monotonic()
                if progress is not None and progress():
                    last = now
                elif now - last > self.timeout:
                    raise Stalled("%s took nothing for %.0f s" % (self.peer, self.timeout))
                self._wait_writable()
                continue
            offset += n
            last = time.monotonic()

    def _wait_writable(self):
        import select
        select.select([], [self.sock], [], 1.0)

    def send_control(self, ftype, obj):
        self.send_all(control_frame(ftype, self.sid, obj))


def _mac(key, direction, sid, first, second):
    return hmac.new(key, direction + sid + first + second, hashlib.sha256).hexdigest()


def _proof(message):
    """The HMAC a handshake message carries; ValueError unless it is 64 hex digits, as _mac() writes
    it: anything else (a number, null, a list, other text) is a protocol error, not a wrong key."""
    proof = message["mac"]
    if not isinstance(proof, str) or not _HEX_MAC.match(proof):
        raise ValueError("not a MAC")
    return proof


def accept_handshake(sock, sid, key, peer, timeout):
    """Listening side: challenge the connecting peer; it must prove it knows the key.
    Returns (link, role) where role is what the peer says it is (upstream or fetch)."""
    link = Link(sock, sid, peer, timeout)
    nonce = os.urandom(16)
    link.send_control(HELLO, {"v": 1, "nonce": nonce.hex()})
    answer = link.expect(AUTH, timeout=timeout, limit=MAX_HANDSHAKE)
    try:
        theirs = bytes.fromhex(answer["nonce"])
        proof = _proof(answer)
        role = answer["role"]
        if not isinstance(role, str):
            raise ValueError("not a role")
    except (KeyError, TypeError, ValueError):
        raise LinkLost("%s sent a malformed AUTH" % peer)
    if not hmac.compare_digest(proof, _mac(key, b"up", sid, nonce, theirs)):
        raise LinkLost("%s does not know the session key" % peer)
    link.send_control(WELCOME, {"mac": _mac(key, b"down", sid, theirs, nonce)})
    return link, role


def connect_handshake(address, sid, key, timeout, role="upstream", connect_timeout=None):
    """Connecting side: answer the listener's challenge and check that it knows the key too."""
    host, port = address
    sock = socket.create_connection((host, port), timeout=connect_timeout or timeout)
    peer = "%s:%d" % (host, port)
    link = Link(sock, sid, peer, timeout)
    try:
        hello = link.expect(HELLO, timeout=timeout, limit=MAX_HANDSHAKE)
        theirs = bytes.fromhex(hello["nonce"])
        nonce = os.urandom(16)
        link.send_control(AUTH, {"nonce": nonce.hex(), "mac": _mac(key, b"up", sid, theirs, nonce), "role": role})
        welcome = link.expect(WELCOME, timeout=timeout, limit=MAX_HANDSHAKE)
        if not hmac.compare_digest(_proof(welcome), _mac(key, b"down", sid, nonce, theirs)):
            raise LinkLost("%s does not know the session key" % peer)
    except (KeyError, TypeError, ValueError):
        link.close()
        raise LinkLost("%s sent a malformed HELLO or WELCOME" % peer)
    except RingError:
        link.close()
        raise
    return link


def local_address_towards(address):
    """The address of this host on the route to (host, port): where a peer there reaches us."""
    probe = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(address)
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()
