# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ring's defences, node by node over real sockets on 127.0.0.1 (ports 17400-17499): a wrong key,
a frame of another session, garbage, a corrupt chunk and a truncated stream write nothing that is
reported ok; parallel sessions on the same nodes never mix; a block device in use is refused; a rate-limited
source keeps to its rate."""

import os
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender

from conftest import sha256, write_random
from lab.ring import Background

KEY = "protocol-test-key-0123456789"
PORTS = iter(range(17400, 17450))   # 17450-17469: the parallel sessions; never reused by another test


def addr(port):
    return "127.0.0.1:%d" % port


def receiver(tmp_path, port, targets, session="p", key=KEY, chain=(), timeout=2, wait_timeout=20, **kwargs):
    return Receiver(session, key, addr(port), targets, chain=[addr(p) for p in chain], timeout=timeout,
                    wait_timeout=wait_timeout, state_dir=str(tmp_path / ("state%d" % port)), name="r%d" % port, **kwargs)


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "src.img"
    write_random(str(path), 6 << 20, 7)
    return path


def authenticated(port, session="p", key=KEY):
    return wire.connect_handshake(("127.0.0.1", port), wire.session_bytes(session), key.encode(), 5)


def upstream_after_ready(port, image):
    """A hand-made upstream that authenticated and sent the manifest; returns (link, READY)."""
    link = authenticated(port)
    link.send_control(wire.MANIFEST, manifest(image))
    return link, link.expect(wire.READY)


def manifest(image, session="p", checksum="crc32"):
    return {"session": session, "chunk": 1 << 20, "checksum": checksum, "compress": "none", "fetch": "127.0.0.1:1",
            "items": [{"name": "img", "size": os.path.getsize(str(image)), "format": "raw", "identity": "x" * 32}]}


def test_wrong_key_and_garbage_are_refused_and_the_real_source_still_delivers(tmp_path, image):
    port = next(PORTS)
    dest = tmp_path / "out.img"
    node = Background(receiver(tmp_path, port, {"img": str(dest)}))
    with pytest.raises(RingError, match="does not know the session key|closed the link"):
        authenticated(port, key="not-the-session-key-at-all")
    with socket.create_connection(("127.0.0.1", port)) as hostile:
        hostile.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(4096))
        time.sleep(0.3)
    assert not dest.exists(), "a connection that failed the challenge must write nothing"
    sent = Sender("p", KEY, [{"name": "img", "src": str(image)}], [addr(port)], listen=addr(next(PORTS)), timeout=2).run()
    result = node.join()
    assert sent["ok_nodes"] == ["r%d" % port] and result["ok"]
    assert len(result["rejected"]) == 2, result["rejected"]
    assert any("does not know the session key" in r for r in result["rejected"])
    assert any("not a ring frame" in r for r in result["rejected"])
    assert sha256(str(dest)) == sha256(str(image))


def test_a_source_of_another_session_is_refused(tmp_path, image):
    port = next(PORTS)
    dest = tmp_path / "out.img"
    node = Background(receiver(tmp_path, port, {"img": str(dest)}, timeout=1, wait_timeout=4))
    # same key, other session name: the challenge binds the session id, so it fails
    other = Sender("other", KEY, [{"name": "img", "src": str(image)}], [addr(port)], listen=addr(next(PORTS)), timeout=1).run()
    assert other["failed_nodes"] == [addr(port)]
    assert "unreachable" in other["nodes"][0]["error"] or "refused" in other["nodes"][0]["error"]
    result = node.join()
    assert not result["ok"] and "no upstream connected" in result["error"]
    assert len(result["rejected"]) == 1      # the other session's source hung up on our HELLO
    assert not dest.exists()


def test_a_frame_of_another_session_on_an_authenticated_link_writes_nothing(tmp_path, image):
    port = next(PORTS)
    dest = tmp_path / "out.img"
    node = Background(receiver(tmp_path, port, {"img": str(dest)}))
    link, ready = upstream_after_ready(port, image)
    assert ready["position"] == [0, 0]
    data = open(str(image), "rb").read(1 << 20)
    foreign = wire.pack_header(wire.DATA, wire.session_bytes("someone-else"), 0, 0, wire.checksum_function("crc32")(data),
                               len(data), len(data))
    try:
        link.send_all(foreign, data)
    except wire.LinkLost:
        pass                  # the receiver may hang up on the header before the payload is sent
    time.sleep(0.5)
    link.close()
    result = node.join()
    assert not result["ok"]
    item = result["items"]["img"]
    assert not item["ok"] and item["verified_offset"] == 0 and item["bytes_written"] == 0
    assert os.path.getsize(str(dest)) == 0 or open(str(dest), "rb").read().count(0) == os.path.getsize(str(dest))


def test_a_corrupt_chunk_is_never_written(tmp_path, image):
    port = next(PORTS)
    dest = tmp_path / "out.img"
    node = Background(receiver(tmp_path, port, {"img": str(dest)}))
    link, dummy = upstream_after_ready(port, image)
    data = bytearray(open(str(image), "rb").read(1 << 20))
    checksum = wire.checksum_function("crc32")(bytes(data))
    data[1000] ^= 0xFF        # flipped on the way
    link.send_all(wire.pack_header(wire.DATA, link.sid, 0, 0, checksum, len(data), len(data)), bytes(data))
    time.sleep(0.5)
    link.close()
    result = node.join()
    assert not result["ok"] and result["items"]["img"]["bytes_written"] == 0
    assert any("failed its checksum" in line for line in result["log"])


def test_a_truncated_stream_is_never_reported_ok(tmp_path, image):
    port = next(PORTS)
    dest = tmp_path / "out.img"
    node = Background(receiver(tmp_path, port, {"img": str(dest)}))
    link, dummy = upstream_after_ready(port, image)
    data = open(str(image), "rb").read(1 << 20)
    checksum = wire.checksum_function("crc32")(data)
    link.send_all(wire.pack_header(wire.DATA, link.sid, 0, 0, checksum, len(data), len(data)), data)   # one whole chunk
    link.send_all(wire.pack_header(wire.DATA, link.sid, 0, 1 << 20, checksum, len(data), len(data)), data[:1000])
    link.close()                                                                                      # cut mid-chunk
    result = node.join()
    assert not result["ok"]
    item = result["items"]["img"]
    assert not item["ok"] and item["digest"] is None
    assert item["bytes_written"] == 1 << 20, "the whole verified chunk is written, the cut one is not"


def test_parallel_sessions_on_the_same_nodes_never_mix(tmp_path):
    images, results, sources = {}, {}, {}
    base = {"a": 17450, "b": 17460}     # each session takes base .. base + 5
    for session in ("a", "b"):
        images[session] = tmp_path / ("%s.img" % session)
        write_random(str(images[session]), 24 << 20, ord(session))
    nodes = {}
    for session in ("a", "b"):
        ports = [base[session] + i for i in range(3)]
        for i, port in enumerate(ports):
            nodes[(session, i)] = Background(receiver(tmp_path, port, {"img": str(tmp_path / ("%s-%d.out" % (session, i)))},
                                                      session=session, key=KEY + session, chain=ports[i + 1:]))
    threads = []
    for session in ("a", "b"):
        ports = [base[session] + i for i in range(3)]

        def send(session=session, ports=ports):
            sources[session] = Sender(session, KEY + session, [{"name": "img", "src": str(images[session])}],
                                      [addr(p) for p in ports], listen=addr(base[session] + 5), timeout=2, chunk=1 << 20).run()
        threads.append(threading.Thread(target=send))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for (session, i), node in nodes.items():
        results[(session, i)] = node.join()
        assert results[(session, i)]["ok"], results[(session, i)]
        assert sha256(str(tmp_path / ("%s-%d.out" % (session, i)))) == sha256(str(images[session]))
    assert sources["a"]["digests"]["img"] != sources["b"]["digests"]["img"]


def test_zstd_and_zlib_on_the_wire_and_crc32_chunks(tmp_path):
    src = tmp_path / "text.img"
    with open(str(src), "wb") as handle:
        for i in range(200000):
            handle.write(b"line %08d of a compressible image\n" % i)
    for compress, checksum in (("zstd", "crc32"), ("zlib", "xxh3")):
        ports = [next(PORTS), next(PORTS)]
        outs = [tmp_path / ("%s-%d" % (compress, p)) for p in ports]
        nodes = [Background(receiver(tmp_path, port, {"img": str(out)}, chain=ports[i + 1:]))
                 for i, (port, out) in enumerate(zip(ports, outs))]
        sent = Sender("p", KEY, [{"name": "img", "src": str(src)}], [addr(p) for p in ports], listen=addr(next(PORTS)),
                      timeout=2, compress=compress, checksum=checksum).run()
        assert sent["failed_nodes"] == [] and sent["checksum"] == checksum
        for node, out in zip(nodes, outs):
            assert node.join()["ok"]
            assert sha256(str(out)) == sha256(str(src))


def test_a_rate_limited_source_takes_at_least_size_over_rate_and_delivers_the_same_bytes(tmp_path, image):
    """A lower bound only (a busy machine can only make it slower): 6 MiB at 2 MiB/s, the first chunk free."""
    ports = [next(PORTS), next(PORTS)]
    outs = [tmp_path / ("paced-%d" % p) for p in ports]
    nodes = [Background(receiver(tmp_path, port, {"img": str(out)}, chain=ports[i + 1:], timeout=5))
             for i, (port, out) in enumerate(zip(ports, outs))]
    started = time.monotonic()
    sent = Sender("p", KEY, [{"name": "img", "src": str(image)}], [addr(p) for p in ports], listen=addr(next(PORTS)),
                  timeout=5, chunk=1 << 20, rate_limit="2M").run()
    seconds = time.monotonic() - started
    assert sent["failed_nodes"] == [] and sent["sent_bytes"] == 6 << 20, sent
    assert seconds >= 2.4, "6 MiB at 2 MiB/s took %.2f s" % seconds
    for node, out in zip(nodes, outs):
        assert node.join()["ok"]
        assert sha256(str(out)) == sha256(str(image))


@pytest.fixture()
def loop_device(tmp_path):
    if os.geteuid() != 0 or not os.path.exists("/dev/loop-control"):
        pytest.skip("loop devices need root and /dev/loop-control")
    backing = tmp_path / "disk.raw"
    with open(str(backing), "wb") as handle:
        handle.truncate(32 << 20)
    device = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True,
                            check=True).stdout.strip()
    mounts = []
    yield device, mounts
    for mount in mounts:
        subprocess.run(["umount", mount], check=False)
    subprocess.run(["losetup", "-d", device], check=False)


def test_a_block_device_is_written_and_refused_while_mounted(tmp_path, image, loop_device):
    device, mounts = loop_device
    port = next(PORTS)
    node = Background(receiver(tmp_path, port, {"img": device}))
    sent = Sender("p", KEY, [{"name": "img", "src": str(image)}], [addr(port)], listen=addr(next(PORTS)), timeout=2).run()
    assert node.join()["ok"] and sent["failed_nodes"] == []
    with open(device, "rb") as handle:
        assert handle.read(6 << 20) == open(str(image), "rb").read()

    subprocess.run(["mkfs.ext4", "-q", "-F", device], check=True)
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    subprocess.run(["mount", device, str(mountpoint)], check=True)
    mounts.append(str(mountpoint))
    with pytest.raises(RingError, match=r"%s is mounted on %s; unmount .* or set force: true" % (device, mountpoint)):
        receiver(tmp_path, next(PORTS), {"img": device})


class FakeRelay:
    """A node that joins the ring properly (handshakes, manifest passed on, READY), takes `budget`
    bytes from its upstream without forwarding any, then dies: its successor is then further behind
    than its upstream's replay window, so the upstream must fetch the gap from the source."""

    def __init__(self, port, downstream_port, budget):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(1)
        self.downstream_port = downstream_port
        self.budget = budget
        self.thread = threading.Thread(target=self._run)
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        sock, peer = self.server.accept()
        up, _role = wire.accept_handshake(sock, wire.session_bytes("p"), KEY.encode(), "%s:%d" % peer, 5)
        manifest = up.read_frame().json()
        down = authenticated(self.downstream_port)
        down.send_control(wire.MANIFEST, manifest)
        ready = down.expect(wire.READY)
        up.send_control(wire.READY, ready)
        taken = 0
        while taken < self.budget:
            taken += up.read_frame().wire_len
        up.close()
        down.close()
        self.server.close()


def test_a_successor_behind_the_replay_window_is_caught_up_from_the_source(tmp_path):
    src = tmp_path / "src.img"
    write_random(str(src), 48 << 20, 9)
    first, fake, last = next(PORTS), next(PORTS), next(PORTS)
    outs = {port: tmp_path / ("out-%d" % port) for port in (first, last)}
    tail = Background(receiver(tmp_path, last, {"img": str(outs[last])}, timeout=5))
    FakeRelay(fake, last, budget=40 << 20)
    head = Background(receiver(tmp_path, first, {"img": str(outs[first])}, chain=(fake, last), timeout=5,
                               replay_buffer=16 << 20))
    sent = Sender("p", KEY, [{"name": "img", "src": str(src)}], [addr(first), addr(fake), addr(last)],
                  listen=addr(next(PORTS)), timeout=5, chunk=1 << 20).run()
    assert sent["ok_nodes"] == ["r%d" % first, "r%d" % last], sent["nodes"]
    assert sent["failed_nodes"] == [addr(fake)]
    head_result = head.join()
    assert any("fetching [0, 0]" in line for line in head_result["log"]), head_result["log"]
    assert tail.join()["ok"]
    for out in outs.values():
        assert sha256(str(out)) == sha256(str(src))


def test_the_same_ports_serve_the_next_session_at_once(tmp_path, image):
    """A rerun (the role's resume) listens on the same ports right after a session ended."""
    ports = [next(PORTS), next(PORTS)]
    source_port = next(PORTS)
    for round_ in range(3):
        outs = [tmp_path / ("again-%d-%d" % (round_, p)) for p in ports]
        nodes = [Background(receiver(tmp_path, port, {"img": str(out)}, chain=ports[i + 1:]))
                 for i, (port, out) in enumerate(zip(ports, outs))]
        sent = Sender("p", KEY, [{"name": "img", "src": str(image)}], [addr(p) for p in ports], listen=addr(source_port),
                      timeout=2).run()
        assert sent["failed_nodes"] == [], sent["nodes"]
        for node in nodes:
            assert node.join()["ok"]
