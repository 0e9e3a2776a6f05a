# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ring: the segment grid, digests, addresses, frame headers, sparse maps; the receiver against hostile
and broken peers over real sockets on 127.0.0.1."""

import json
import os
import socket
import sys
import threading
import time
import tracemalloc
import zlib

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import options, wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import LinkLost, RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import SourceItem, data_extents
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import KIND_DATA, KIND_HOLE, grid_segments, item_digest
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.upstream import Upstreams

from lab.ring import Background

MiB = 1 << 20
KEY = "unit-test-ring-key-0123456789"


@pytest.mark.parametrize("extents,size,chunk,start,want", [
    ([(0, 10)], 10, 4, 0, [(0, 4, True), (4, 4, True), (8, 2, True)]),
    ([], 10, 4, 0, [(0, 4, False), (4, 4, False), (8, 2, False)]),
    ([(2, 6)], 10, 4, 0, [(0, 2, False), (2, 2, True), (4, 2, True), (6, 2, False), (8, 2, False)]),
    ([(2, 6)], 10, 4, 4, [(4, 2, True), (6, 2, False), (8, 2, False)]),
    ([(0, 3), (5, 10)], 10, 4, 0, [(0, 3, True), (3, 1, False), (4, 1, False), (5, 3, True), (8, 2, True)]),
    ([(0, 10)], 10, 4, 10, []),
    ([(0, 4)], 4, 4, 0, [(0, 4, True)]),
])
def test_grid_segments_cut_on_the_grid_and_at_data_hole_edges(extents, size, chunk, start, want):
    got = list(grid_segments(extents, size, chunk, start))
    assert got == want
    # a resume from any segment boundary continues with exactly the same segments
    for cut in got:
        assert list(grid_segments(extents, size, chunk, cut[0])) == [s for s in want if s[0] >= cut[0]]


def test_item_digest_depends_on_every_field_and_the_order():
    records = [(0, 4, KIND_DATA, 7), (4, 4, KIND_HOLE, 0)]
    base = item_digest(records)
    assert base == item_digest(list(records))
    for changed in ([(0, 4, KIND_DATA, 8), records[1]], [(0, 4, KIND_HOLE, 7), records[1]], [records[1], records[0]],
                    [(0, 5, KIND_DATA, 7), records[1]], records[:1]):
        assert item_digest(changed) != base


def test_sparse_file_extents_and_zero_chunks_become_holes(tmp_path):
    path = tmp_path / "s.img"
    with open(str(path), "wb") as handle:
        handle.write(os.urandom(MiB))
        handle.seek(8 * MiB)
        handle.write(bytes(MiB))          # allocated zeros
        handle.truncate(16 * MiB)
    fd = os.open(str(path), os.O_RDONLY)
    try:
        extents = data_extents(fd, 16 * MiB)
    finally:
        os.close(fd)
    assert extents[0][0] == 0 and sum(e - s for s, e in extents) < 4 * MiB
    item = SourceItem(0, {"name": "s", "src": str(path)}, MiB, "crc32", wire.checksum_function("crc32"), True)
    try:
        kinds = [(off, kind) for off, length, kind, dummy in item.segments()]
        assert kinds[0] == (0, KIND_DATA)
        assert all(kind == KIND_HOLE for off, kind in kinds[1:]), kinds
        assert sum(seg[1] for seg in item.segments()) == 16 * MiB
        assert item.digest() == item.digest()
    finally:
        item.close()


@pytest.mark.parametrize("text,want", [("10.0.0.1:7010", ("10.0.0.1", 7010)), ("[fd00::1]:7", ("fd00::1", 7)),
                                       ("host.example:0", ("host.example", 0))])
def test_parse_address(text, want):
    assert options.parse_address(text) == want


@pytest.mark.parametrize("text", ["10.0.0.1", "10.0.0.1:x", ":7010", "10.0.0.1:70000", None, 7010])
def test_parse_address_names_the_bad_value(text):
    with pytest.raises(RingError, match=r"listen .* is not host:port \(for example 10.0.0.1:7010\)"):
        options.parse_address(text)


def test_headers_carry_the_session_id_and_round_trip():
    sid = wire.session_bytes("exam")
    assert sid == wire.session_bytes("exam") and sid != wire.session_bytes("exam2") and len(sid) == 16
    header = wire.pack_header(wire.DATA, sid, 3, 1 << 40, 0xDEADBEEF, 100, 200, wire.FLAG_ZLIB)
    assert len(header) == wire.HEADER_SIZE == 48
    fields = wire.HEADER.unpack(header)
    assert fields == (wire.MAGIC, wire.DATA, wire.FLAG_ZLIB, 3, sid, 1 << 40, 0xDEADBEEF, 100, 200)


def test_compression_round_trips_and_checks_the_length():
    data = b"abc" * 100000
    for name, flag in (("zlib", wire.FLAG_ZLIB), ("zstd", wire.FLAG_ZSTD)):
        packed = wire.compressor(name)(data)
        assert len(packed) < len(data) // 10
        assert wire.decompress(flag, packed, len(data)) == data
        with pytest.raises(LinkLost, match="unpacked to"):
            wire.decompress(flag, packed, len(data) + 1)
    assert wire.compressor("none") is None


def test_short_keys_and_unknown_checksums_are_refused():
    with pytest.raises(RingError, match="at least 16 characters"):
        options.key_bytes("short")
    with pytest.raises(RingError, match="unknown checksum 'md5'"):
        wire.checksum_function("md5")


def test_session_options_are_typed_and_defaulted():
    params = options.check_session_options({
        "mode": "send", "session": "s", "key": "k" * 16, "chain": ["10.0.0.2:7010"], "chunk_size": "1048576",
        "timeout": "5", "items": [{"name": "disk", "src": "/dev/sda"}]})
    assert params["chunk_size"] == 1 << 20 and params["timeout"] == 5.0
    assert params["items"] == [{"name": "disk", "src": "/dev/sda", "format": "raw", "dest": None, "filesystem_aware": None}]
    assert params["filesystem_aware"] is True
    assert params["compress"] == "none" and params["replay_buffer"] == 256 and params["state_dir"] == "/var/tmp/labfarm-ring"


def test_session_options_name_every_bad_option_at_once():
    with pytest.raises(RingError) as caught:
        options.check_session_options({
            "mode": "receive", "session": "s", "key": "short", "chain": ["bad", "10.0.0.2:7010", "10.0.0.2:7010"],
            "replay_buffer": 8, "items": [{"name": "a", "dest": "relative"}, {"name": "a", "src": "/x"}]})
    message = str(caught.value)
    for text in ("key must be at least 16 characters", "listen is required with mode: receive",
                 "chain entry 'bad' is not host:port", "chain lists an address twice: 10.0.0.2:7010",
                 "item names given twice: a", "item a: dest relative must be an absolute path",
                 "item a: src is for the source", "replay_buffer 8 must be at least 16 (MiB)"):
        assert text in message, message
    with pytest.raises(RingError, match="chunk_size"):
        options.check_session_options({"mode": "send", "session": "s", "key": "k" * 16, "chain": ["10.0.0.2:7010"],
                                       "chunk_size": "lots", "items": [{"name": "a", "src": "/x"}]})
    with pytest.raises(RingError, match="compress"):
        options.check_session_options({"mode": "send", "session": "s", "key": "k" * 16, "chain": ["10.0.0.2:7010"],
                                       "compress": "lz4", "items": [{"name": "a", "src": "/x"}]})


def test_the_engine_applies_the_same_checks(tmp_path):
    with pytest.raises(RingError, match="chain is empty: list the receivers"):
        Sender("s", KEY, [{"name": "a", "src": "/x"}], [])
    with pytest.raises(RingError, match="chunk 1000 must be a multiple of 4096"):
        Sender("s", KEY, [{"name": "a", "src": "/x"}], ["10.0.0.2:7010"], chunk=1000)
    with pytest.raises(RingError, match="item a: dest relative must be an absolute path"):
        Receiver("s", KEY, "127.0.0.1:0", {"a": "relative"})
    with pytest.raises(RingError, match="chain contains this node's own listen address"):
        Receiver("s", KEY, "127.0.0.1:7010", {"a": str(tmp_path / "a")}, chain=["127.0.0.1:7010"])


# --------------------------------------------------------------------------------------------
# The receiver against hostile and broken peers, over real sockets on 127.0.0.1 (free ports)

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def thread_errors(monkeypatch):
    """What reaches threading.excepthook (a thread that died with a traceback) during the test."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append("%s: %s" % (args.exc_type.__name__, args.exc_value)))
    return seen


@pytest.fixture()
def small_image(tmp_path):
    path = tmp_path / "src.img"
    path.write_bytes(os.urandom(MiB + 12345))
    return path


def start_receiver(tmp_path, port, timeout=30, wait_timeout=20, session="t"):
    dest = tmp_path / ("out-%d.img" % port)
    node = Receiver(session, KEY, "127.0.0.1:%d" % port, {"img": str(dest)}, timeout=timeout, wait_timeout=wait_timeout,
                    state_dir=str(tmp_path / ("state-%d" % port)), name="r%d" % port)
    return Background(node), dest


def send(port, image, session="t"):
    return Sender(session, KEY, [{"name": "img", "src": str(image)}], ["127.0.0.1:%d" % port],
                  listen="127.0.0.1:%d" % free_port(), timeout=5, chunk=1 << 20).run()


def greeted(port, session="t"):
    """A stranger's connection that got the receiver's HELLO: (link, hello)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    link = wire.Link(sock, wire.session_bytes(session), "receiver", 5)
    return link, link.expect(wire.HELLO)


def closed_by_peer(sock, within):
    """True when the peer closes `sock` within `within` seconds without sending anything."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@pytest.mark.parametrize("mac", [123, None, ["ab"], "d\u00e9j\u00e0 vu"])
def test_a_handshake_with_a_mac_that_is_not_hex_text_is_refused_cleanly(tmp_path, small_image, thread_errors, mac):
    port = free_port()
    node, dest = start_receiver(tmp_path, port)
    link, hello = greeted(port)
    link.send_control(wire.AUTH, {"nonce": os.urandom(16).hex(), "mac": mac, "role": "upstream"})
    with pytest.raises(LinkLost):
        link.read_frame(timeout=5)
    link.close()
    sent = send(port, small_image)           # the receiver is still up and serves the real source
    result = node.join()
    assert thread_errors == []
    assert sent["failed_nodes"] == [] and result["ok"], (sent, result)
    assert any("sent a malformed AUTH" in line for line in result["rejected"]), result["rejected"]
    assert dest.read_bytes() == small_image.read_bytes()


@pytest.mark.parametrize("body", [["reason"], "reason", 7, None])
def test_a_strangers_message_that_is_not_a_json_object_is_refused_cleanly(tmp_path, small_image, thread_errors, body):
    port = free_port()
    node, dummy = start_receiver(tmp_path, port)
    for ftype in (wire.ABORT, wire.AUTH):
        link, hello = greeted(port)
        payload = json.dumps(body).encode("utf-8")
        link.send_all(wire.pack_header(ftype, link.sid, checksum=zlib.crc32(payload), wire_len=len(payload),
                                       raw_len=len(payload)) + payload)
        with pytest.raises(LinkLost):
            link.read_frame(timeout=5)
        link.close()
    sent = send(port, small_image)
    result = node.join()
    assert thread_errors == []
    assert sent["failed_nodes"] == [] and result["ok"], (sent, result)
    assert sum("is not a JSON object" in line for line in result["rejected"]) == 2, result["rejected"]


@pytest.mark.parametrize("welcome", [{"mac": 123}, {"mac": "d\u00e9j\u00e0 vu"}, {}, ["mac"], "mac"])
def test_a_listener_answering_with_a_malformed_welcome_is_refused_as_a_protocol_error(welcome):
    sid = wire.session_bytes("t")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def fake_listener():
        sock, dummy = server.accept()
        link = wire.Link(sock, sid, "sender", 5)
        link.send_control(wire.HELLO, {"v": 1, "nonce": os.urandom(16).hex()})
        link.expect(wire.AUTH)
        link.send_control(wire.WELCOME, welcome)
        time.sleep(0.5)
        link.close()

    thread = threading.Thread(target=fake_listener)
    thread.start()
    try:
        with pytest.raises(LinkLost, match="sent a malformed HELLO or WELCOME|a WELCOME message is not a JSON object"):
            wire.connect_handshake(server.getsockname(), sid, KEY.encode(), 5)
    finally:
        thread.join(5)
        server.close()


def test_an_unauthenticated_peer_announcing_a_huge_frame_is_dropped_before_it_is_allocated(
        tmp_path, small_image, thread_errors):
    port = free_port()
    node, dummy = start_receiver(tmp_path, port)
    link, hello = greeted(port)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        link.sock.sendall(wire.pack_header(wire.AUTH, link.sid, wire_len=64 << 20, raw_len=64 << 20))
        dropped = closed_by_peer(link.sock, 3.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    link.close()
    assert dropped, "a 64 MiB frame before the peer authenticated must drop the link at once"
    assert peak < 4 * MiB, "the receiver allocated %d bytes for a stranger's frame" % peak
    send(port, small_image)
    result = node.join()
    assert result["ok"] and any("AUTH frame of 67108864 bytes" in line for line in result["rejected"]), result["rejected"]
    assert thread_errors == []


def test_at_most_16_unauthenticated_connections_wait_at_once(tmp_path, small_image, thread_errors):
    port = free_port()
    node, dummy = start_receiver(tmp_path, port)
    pending = [greeted(port)[0] for dummy in range(16)]       # each got its HELLO and says nothing
    with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
        assert closed_by_peer(extra, 3.0), "the 17th unauthenticated connection must be closed at once"
    for link in pending:
        link.close()
    deadline = time.monotonic() + 5
    while True:     # once the pending ones are gone, strangers are answered again
        try:
            link, hello = greeted(port)
            link.close()
            break
        except RingError:
            assert time.monotonic() < deadline, "the receiver never answered again"
            time.sleep(0.1)
    sent = send(port, small_image)
    result = node.join()
    assert sent["failed_nodes"] == [] and result["ok"]
    assert "1 connections closed at once: too many were waiting to authenticate" in result["rejected"], result["rejected"]
    assert thread_errors == []


def test_refusals_are_listed_up_to_a_bound_then_counted():
    upstreams = Upstreams("t", 1, lambda line: None)
    for index in range(150):
        upstreams.refuse("10.0.0.1:%d" % index, "not a ring frame")
    refused = upstreams.refused(turned_away=3)
    assert len(refused) == 102 and refused[:2] == ["10.0.0.1:0: not a ring frame", "10.0.0.1:1: not a ring frame"]
    assert refused[-2:] == ["50 more connections refused", "3 connections closed at once: too many were waiting to authenticate"]


def ring_dicts():
    """The size of every module-level dict of the ring's modules."""
    prefix = "ansible_collections.labfarm.massclone.plugins.module_utils._ring"
    return dict(((name, attr), len(value)) for name, module in list(sys.modules.items()) if name.startswith(prefix)
                for attr, value in vars(module).items() if isinstance(value, dict) and not attr.startswith("__"))


def test_each_link_has_its_own_send_lock_and_no_table_of_links_grows(tmp_path, small_image):
    one, two = socket.socketpair()
    try:
        first, second = (wire.Link(s, b"x" * 16, "peer", 1) for s in (one, two))
        assert first.lock is not second.lock
        assert first.lock.acquire(False) and second.lock.acquire(False)
    finally:
        one.close()
        two.close()
    before = ring_dicts()
    port = free_port()
    node, dest = start_receiver(tmp_path, port)
    sent = send(port, small_image)
    assert node.join()["ok"] and sent["failed_nodes"] == []
    assert ring_dicts() == before


# --- rate_limit: the source's bandwidth limit --------------------------------------------------------

def test_sizes_as_users_give_them():
    from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_size
    assert parse_size("0", "rate_limit") == 0
    assert parse_size(41943040, "rate_limit") == 40 << 20
    assert parse_size("40M", "rate_limit") == 40 << 20
    assert parse_size(" 512k ", "rate_limit") == 512 << 10
    assert parse_size("1.5G", "rate_limit") == 3 << 29
    assert parse_size("2GiB", "rate_limit") == 2 << 30
    for bad in ("fast", "-1", "40 Mbit", "", None, True, "1.5.2M"):
        with pytest.raises(ValueError, match="rate_limit must be a number of bytes"):
            parse_size(bad, "rate_limit")


def test_the_pacer_holds_the_average_rate_from_the_first_byte():
    from ansible_collections.labfarm.massclone.plugins.module_utils._ring.pace import Pacer
    now, slept = [100.0], []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds
    pacer = Pacer(1 << 20, clock=lambda: now[0], sleep=sleep)
    for dummy in range(4):
        pacer.take(1 << 19)          # half a second's worth each, sent in no time
    assert slept == [0.5, 0.5, 0.5]  # the first goes at once, then each waits for its share
    now[0] += 10                     # idle for 10 s earns one second of burst, not ten
    pacer.take(1 << 20)
    pacer.take(1 << 20)
    assert slept == [0.5, 0.5, 0.5]
    pacer.take(1 << 20)
    assert slept == [0.5, 0.5, 0.5, 1.0]
    unlimited = Pacer(0, clock=lambda: now[0], sleep=sleep)
    unlimited.take(1 << 30)
    unlimited.take(1 << 30)
    assert slept == [0.5, 0.5, 0.5, 1.0]


def test_a_rate_limit_that_would_look_like_a_dead_link_is_refused_with_the_least_rate():
    from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import check_session_options
    base = {"mode": "send", "session": "s", "key": KEY, "chain": ["10.0.0.2:7010"], "items": [{"name": "a", "src": "/x"}]}
    assert check_session_options(dict(base, rate_limit="40M"))["rate_limit"] == "40M"
    with pytest.raises(RingError) as info:
        check_session_options(dict(base, rate_limit="100K", timeout=30))
    assert "rate_limit 102400 bytes/s sends one chunk of 4194304 bytes every 41 s" in str(info.value)
    assert "give at least 279621 bytes/s" in str(info.value)
    with pytest.raises(RingError, match="rate_limit must be a number of bytes.*'fast'"):
        check_session_options(dict(base, rate_limit="fast"))
