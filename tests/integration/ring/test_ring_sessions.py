# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole sessions across the ring namespaces: 1 source, 4 receivers, real files, real archives,
a receiver killed in mid-stream, the source killed in mid-stream, a resume in a later run."""

import os
import signal
import subprocess
import time

import pytest

from conftest import sha256, tree, write_random

RECEIVERS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """The source's items: a raw image with a hole, a 1 GiB sparse image, and one tree as tar.gz,
    tar.zst and cpio."""
    base = tmp_path_factory.mktemp("ring-src")
    disk = base / "disk.img"
    write_random(str(disk), 24 << 20, 1)
    with open(str(disk), "r+b") as handle:          # a hole in the middle, then data again
        handle.seek(40 << 20)
        handle.write(os.urandom(8 << 20))
    sparse = base / "sparse.img"
    with open(str(sparse), "wb") as handle:
        for offset in (0, 300 << 20, 1000 << 20):
            handle.seek(offset)
            handle.write(os.urandom(4 << 20))
        handle.seek(600 << 20)
        handle.write(bytes(4 << 20))                   # allocated zeros: must not cross as data
        handle.truncate(1 << 30)
    src = base / "tree"
    (src / "etc" / "app").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "etc" / "app" / "config").write_text("listen 0.0.0.0\n")
    (src / "etc" / "app" / "secret").write_text("s3cret\n")
    os.chmod(str(src / "etc" / "app" / "secret"), 0o600)
    write_random(str(src / "blob.bin"), 3 << 20, 2)
    os.symlink("etc/app/config", str(src / "link"))
    subprocess.run(["tar", "-czf", str(base / "tree.tar.gz"), "-C", str(src), "."], check=True)
    subprocess.run(["tar", "--zstd", "-cf", str(base / "tree.tar.zst"), "-C", str(src), "."], check=True)
    subprocess.run("find . | cpio -o -H newc --quiet > %s" % (base / "tree.cpio"), shell=True, cwd=str(src), check=True)
    return base


def source_items(base):
    return [
        {"name": "disk", "src": str(base / "disk.img")},
        {"name": "sparse", "src": str(base / "sparse.img")},
        {"name": "tgz", "src": str(base / "tree.tar.gz"), "format": "tar.gz"},
        {"name": "zst", "src": str(base / "tree.tar.zst"), "format": "tar.zst"},
        {"name": "cpio", "src": str(base / "tree.cpio"), "format": "cpio"},
    ]


def test_four_receivers_get_identical_raw_sparse_and_archive_copies(ring, payload):
    def items_for(index):
        d = ring.dir(index)
        items = [{"name": "disk", "dest": str(d / "disk.img")}, {"name": "sparse", "dest": str(d / "sparse.img")},
                 {"name": "tgz", "dest": str(d / "tgz")}, {"name": "zst", "dest": str(d / "zst")}]
        if index != 2:   # receiver 2 takes no cpio: it only relays that item to 3 and 4
            items.append({"name": "cpio", "dest": str(d / "cpio")})
        return items

    status, source = ring.run("s-copy", source_items(payload), items_for)[0]
    assert status == "CHANGED", source
    assert source["failed_nodes"] == [], source["nodes"]
    assert source["ok_nodes"] == ["r1", "r2", "r3", "r4"]
    want_tree = tree(str(payload / "tree"))
    for index in RECEIVERS:
        d = ring.dir(index)
        assert sha256(str(d / "disk.img")) == sha256(str(payload / "disk.img"))
        assert sha256(str(d / "sparse.img")) == sha256(str(payload / "sparse.img"))
        info = os.stat(str(d / "sparse.img"))
        assert info.st_size == 1 << 30
        assert info.st_blocks * 512 <= 16 << 20, "holes and zero chunks must stay holes"
        for name in ("tgz", "zst") + (("cpio",) if index != 2 else ()):
            assert tree(str(d / name)) == want_tree, name
        assert not (d / "cpio").exists() or index != 2
        # nothing half-done is left beside the targets
        assert [p.name for p in d.iterdir() if ".lfring-" in p.name] == []
    entry = {e["node"]: e for e in source["nodes"]}["r3"]
    assert entry["items"]["disk"]["digest"] == source["digests"]["disk"]


def test_rerun_of_a_finished_session_writes_nothing(ring, payload):
    def items_for(index):
        d = ring.dir(index)
        return [{"name": "disk", "dest": str(d / "disk.img")}, {"name": "tgz", "dest": str(d / "tgz")}]

    items = [i for i in source_items(payload) if i["name"] in ("disk", "tgz")]
    (status, source), receivers = ring.run("s-rerun", items, items_for)
    assert status == "CHANGED" and source["failed_nodes"] == []
    (status, source), receivers = ring.run("s-rerun", items, items_for)
    assert status == "SUCCESS", source            # changed=false
    assert source["ok_nodes"] == ["r1", "r2", "r3", "r4"]
    for index in RECEIVERS:
        assert receivers[index][0] == "SUCCESS", receivers[index]
        assert all(item["bytes_written"] == 0 and item["ok"] for item in receivers[index][1]["items"].values())
        assert sha256(str(ring.dir(index) / "disk.img")) == sha256(str(payload / "disk.img"))


def wait_progress(ring, index, session, fraction, node, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = ring.progress(index, session)
        if seen and seen["total"] and seen["written"] >= fraction * seen["total"]:
            assert seen["written"] < seen["total"], "the session ended before the node could be killed"
            return seen
        assert node.running(), node.output()
        time.sleep(0.05)
    raise AssertionError("node %d never reached %d%%: %s" % (index, fraction * 100, ring.progress(index, session)))


def test_middle_receiver_killed_midstream_is_bypassed_then_resumed(ring, tmp_path):
    image = tmp_path / "big.img"
    write_random(str(image), 192 << 20, 3)
    items = [{"name": "img", "src": str(image)}]

    def items_for(index):
        return [{"name": "img", "dest": str(ring.dir(index) / "img")}]

    ring.throttle(0, "400mbit")      # about 50 MB/s: a session of ~4 s, time to kill one node in it
    nodes = ring.start_receivers("s-kill", items_for, replay_buffer=16)
    source = ring.start_source("s-kill", items)
    wait_progress(ring, 2, "s-kill", 0.6, nodes[2])
    nodes[2].kill()
    source.wait(120)
    status, result = source.ansible_result()
    assert status == "FAILED!"
    assert result["ok_nodes"] == ["r1", "r3", "r4"]
    assert result["failed_nodes"] == [ring.address(2)]
    assert "bypassed" in {e["node"]: e for e in result["nodes"]}[ring.address(2)]["error"]
    for index in (1, 3, 4):
        nodes[index].wait(60)
        assert nodes[index].ansible_result()[0] == "CHANGED"
        assert sha256(str(ring.dir(index) / "img")) == sha256(str(image))
    assert sha256(str(ring.dir(2) / "img")) != sha256(str(image))

    # a later run for the failed node alone resumes from its last durable, verified offset
    ring.throttle(0, "10gbit")
    (status, again), receivers = ring.run("s-kill", items, items_for, receivers=(2,))
    assert status == "CHANGED", again
    assert again["ok_nodes"] == ["r2"]
    item = receivers[2][1]["items"]["img"]
    assert item["ok"] and 0 < item["bytes_written"] < 192 << 20, item
    assert sha256(str(ring.dir(2) / "img")) == sha256(str(image))


def test_source_killed_midstream_leaves_every_receiver_failed(ring, tmp_path):
    image = tmp_path / "big.img"
    write_random(str(image), 128 << 20, 4)
    archive = tmp_path / "t.tar"
    subprocess.run(["tar", "-cf", str(archive), "-C", str(tmp_path), "big.img"], check=True)
    items = [{"name": "img", "src": str(image)}, {"name": "tar", "src": str(archive), "format": "tar"}]

    def items_for(index):
        return [{"name": "img", "dest": str(ring.dir(index) / "img")}, {"name": "tar", "dest": str(ring.dir(index) / "t")}]

    ring.throttle(0, "400mbit")
    nodes = ring.start_receivers("s-srcdead", items_for, timeout=3)
    source = ring.start_source("s-srcdead", items)
    wait_progress(ring, 1, "s-srcdead", 0.2, nodes[1])
    source.kill()
    for index in RECEIVERS:
        nodes[index].wait(120)
        status, result = nodes[index].ansible_result()
        assert status == "FAILED!", result
        assert not any(item["ok"] for item in result["items"].values()), result
        assert not (ring.dir(index) / "t").exists(), "a partial archive must never be put in place"


def test_a_stalled_receiver_is_bypassed_after_the_timeout(ring, tmp_path):
    image = tmp_path / "big.img"
    write_random(str(image), 128 << 20, 5)
    items = [{"name": "img", "src": str(image)}]

    def items_for(index):
        return [{"name": "img", "dest": str(ring.dir(index) / "img")}]

    ring.throttle(0, "400mbit")
    nodes = ring.start_receivers("s-stall", items_for, timeout=3)
    source = ring.start_source("s-stall", items, timeout=3)
    wait_progress(ring, 2, "s-stall", 0.3, nodes[2])
    nodes[2].kill(signal.SIGSTOP)           # alive but silent: neither takes data nor acknowledges
    source.wait(120)
    nodes[2].kill(signal.SIGCONT)
    status, result = source.ansible_result()
    assert status == "FAILED!"
    assert result["ok_nodes"] == ["r1", "r3", "r4"] and result["failed_nodes"] == [ring.address(2)]
    for index in (1, 3, 4):
        nodes[index].wait(60)
        assert sha256(str(ring.dir(index) / "img")) == sha256(str(image))
    nodes[2].wait(60)
    status, stalled = nodes[2].ansible_result()
    assert status == "FAILED!" and not stalled["items"]["img"]["ok"], stalled
