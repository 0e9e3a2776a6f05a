# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ring duplication across network namespaces (tests/lab/ring.py): one source and four receivers on a
bridge, each node a real `ansible localhost -m labfarm.massclone.ring_copy` run inside its namespace,
receivers first and in the background, as a user would run them."""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.netns import can_use_netns  # noqa: E402  pylint: disable=wrong-import-position
from lab.ring import RingLab  # noqa: E402  pylint: disable=wrong-import-position

MODULE = "labfarm.massclone.ring_copy"
KEY = "k3y-for-the-ring-tests-0123456789"


@pytest.fixture(scope="session")
def ring_lab(tmp_path_factory):
    for tool in ("ip", "tar", "cpio", "zstd", "tc"):
        if shutil.which(tool) is None:
            lab_missing("%s is not installed (hack/setup.sh installs it)" % tool)
    reason = can_use_netns()
    if reason:
        lab_missing(reason)
    lab = RingLab(str(tmp_path_factory.mktemp("ring-lab")), receivers=4).setup()
    yield lab
    lab.teardown()


@pytest.fixture()
def ring(ring_lab, ansible_env, tmp_path):
    """A session runner over the lab: ring.run(source_items, receiver_items, ...) -> (source, [receivers])."""
    runner = Ring(ring_lab, ansible_env, tmp_path)
    yield runner
    ring_lab.kill_all()
    for index in range(ring_lab.count):
        subprocess.run(["ip", "netns", "exec", ring_lab.ns(index), "tc", "qdisc", "del", "dev", "eth0", "root"],
                       stderr=subprocess.DEVNULL, check=False)


class Ring:
    PORT = 17010

    def __init__(self, lab, env, workdir):
        self.lab = lab
        self.env = dict(env)
        self.workdir = workdir
        self.sessions = 0

    def address(self, index, port=None):
        return "%s:%d" % (self.lab.ip(index), port or self.PORT)

    def dir(self, index):
        path = self.workdir / ("node%d" % index)
        path.mkdir(exist_ok=True)
        return path

    def ansible(self, index, args, name, check=False):
        argv = ["ansible", "localhost", "-m", MODULE, "-a", json.dumps(args)]
        if check:
            argv.append("--check")
        return self.lab.start(index, argv, self.env, name=name)

    def start_receivers(self, session, items_for, receivers=(1, 2, 3, 4), port=None, key=KEY, **options):
        nodes = {}
        for pos, index in enumerate(receivers):
            args = dict(mode="receive", session=session, key=key, listen=self.address(index, port),
                        chain=[self.address(j, port) for j in receivers[pos + 1:]],
                        items=items_for(index), node_name="r%d" % index,
                        state_dir=str(self.dir(index) / "state"),
                        progress_file=str(self.dir(index) / ("progress-%s.json" % session)),
                        timeout=options.get("timeout", 5), wait_timeout=60)
            args.update(options)
            nodes[index] = self.ansible(index, args, "%s-r%d" % (session, index))
        for index in receivers:
            self.wait_listening(index, port or self.PORT, nodes[index])
        return nodes

    def wait_listening(self, index, port, node, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["ip", "netns", "exec", self.lab.ns(index), "ss", "-Hltn", "sport = :%d" % port],
                                 capture_output=True, text=True, check=False).stdout
            if out.strip():
                return
            if not node.running() or time.monotonic() > deadline:
                raise AssertionError("receiver %d is not listening on %d:\n%s" % (index, port, node.output()))
            time.sleep(0.1)

    def start_source(self, session, items, receivers=(1, 2, 3, 4), port=None, key=KEY, **options):
        args = dict(mode="send", session=session, key=key, listen="%s:%d" % (self.lab.ip(0), (port or self.PORT) - 1),
                    chain=[self.address(j, port) for j in receivers], items=items, timeout=options.pop("timeout", 5),
                    progress_file=str(self.dir(0) / ("progress-%s.json" % session)))
        args.update(options)
        return self.ansible(0, args, "%s-source" % session)

    def run(self, session, items, items_for, receivers=(1, 2, 3, 4), **options):
        nodes = self.start_receivers(session, items_for, receivers, **options.get("receiver_options", {}))
        source = self.start_source(session, items, receivers, **options.get("source_options", {}))
        source.wait(300)
        results = {}
        for index, node in nodes.items():
            node.wait(120)
            results[index] = node.ansible_result()
        return source.ansible_result(), results

    def progress(self, index, session):
        try:
            with open(str(self.dir(index) / ("progress-%s.json" % session))) as handle:
                return json.load(handle)["nodes"].get("r%d" % index)
        except (OSError, ValueError):
            return None

    def throttle(self, index, rate="400mbit"):
        """Slow the egress of node `index` (tc tbf): a session then lasts long enough to kill a node in it."""
        subprocess.run(["ip", "netns", "exec", self.lab.ns(index), "tc", "qdisc", "replace", "dev", "eth0", "root",
                        "tbf", "rate", rate, "burst", "1mb", "latency", "400ms"], check=True)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def tree(path):
    """[(relative path, kind, mode, content or link target)] of a directory, sorted."""
    found = []
    for root, dirs, files in os.walk(path):
        for name in sorted(dirs + files):
            full = os.path.join(root, name)
            info = os.lstat(full)
            rel = os.path.relpath(full, path)
            if stat.S_ISLNK(info.st_mode):
                found.append((rel, "link", 0, os.readlink(full)))
            elif stat.S_ISDIR(info.st_mode):
                found.append((rel, "dir", stat.S_IMODE(info.st_mode), None))
            else:
                with open(full, "rb") as handle:
                    found.append((rel, "file", stat.S_IMODE(info.st_mode), hashlib.sha256(handle.read()).hexdigest()))
    return sorted(found)


def write_random(path, size, seed):
    """Deterministic incompressible bytes (sha256 counter stream is slow; use a seeded PRNG)."""
    import random
    rng = random.Random(seed)
    with open(path, "wb") as handle:
        left = size
        while left > 0:
            n = min(left, 1 << 22)
            handle.write(rng.randbytes(n))
            left -= n
