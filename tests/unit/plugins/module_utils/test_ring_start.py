# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ring's start on 127.0.0.1: receivers that listen seconds after the source (machines still booting)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender

from lab.ring import Background

KEY = "k" * 32
MiB = 1024 * 1024


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def receiver(tmp_path, port, name):
    return Receiver("start", KEY, "127.0.0.1:%d" % port, {"disk": str(tmp_path / ("%s.img" % name))}, timeout=10,
                    wait_timeout=30, state_dir=str(tmp_path / ("state-" + name)), name=name)


def source(tmp_path):
    path = tmp_path / "disk.img"
    with open(str(path), "wb") as handle:
        handle.write(os.urandom(2 * MiB))
    return path


def test_a_receiver_that_listens_after_the_source_started_is_waited_for(tmp_path):
    image = source(tmp_path)
    port = free_port()
    nodes = []
    late = threading.Timer(1.5, lambda: nodes.append(Background(receiver(tmp_path, port, "r1"))))
    late.start()
    sent = Sender("start", KEY, [{"name": "disk", "src": str(image)}], ["127.0.0.1:%d" % port],
                  listen="127.0.0.1:0", timeout=10, chunk=MiB).run()
    late.join()
    got = nodes[0].join()
    assert sent["failed_nodes"] == [] and got["ok"], (sent, got)
    assert (tmp_path / "r1.img").read_bytes() == image.read_bytes()


def test_a_node_that_never_listens_is_bypassed_after_the_timeout_and_the_next_one_is_written(tmp_path):
    image = source(tmp_path)
    dead, port = free_port(), free_port()
    node = Background(receiver(tmp_path, port, "r2"))
    sent = Sender("start", KEY, [{"name": "disk", "src": str(image)}], ["127.0.0.1:%d" % dead, "127.0.0.1:%d" % port],
                  listen="127.0.0.1:0", timeout=3, chunk=MiB).run()
    got = node.join()
    assert sent["failed_nodes"] == ["127.0.0.1:%d" % dead], sent
    assert got["ok"] and (tmp_path / "r2.img").read_bytes() == image.read_bytes()
