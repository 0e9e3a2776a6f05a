# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_common.locks.bounded_lock against a real holder in another process: the wait, its bound, the holder's
name in the error, and the release when the holder ends."""

from __future__ import absolute_import, division, print_function

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import LockTimeout, bounded_lock

HOLDER = r"""
import sys
from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import bounded_lock
with bounded_lock(sys.argv[1], 5, purpose=sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()   # until the test closes stdin (or kills the process)
"""


class Holder:
    """A process holding the lock at `path` until release() or kill()."""

    def __init__(self, path, purpose="test holder"):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), purpose], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
        assert self.proc.stdout.readline().strip() == "held"

    def release(self):
        self.proc.stdin.close()
        self.proc.wait(10)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)


def test_free_lock_is_taken_at_once_and_records_its_holder(tmp_path):
    path = tmp_path / "farm.lock"
    with bounded_lock(str(path), 5, purpose="unit") as held:
        assert held["waited"] < 1
        record = json.loads(path.read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname() and record["purpose"] == "unit"
        assert record["since"][:4].isdigit()
    with bounded_lock(str(path), 0):   # released at the end of the block
        pass


def test_timeout_names_the_holder_and_the_fix(tmp_path):
    path = tmp_path / "farm.lock"
    holder = Holder(path, "gns3_project_reset")
    try:
        started = time.time()
        with pytest.raises(LockTimeout) as caught:
            with bounded_lock(str(path), 1, option="lock_timeout"):
                raise AssertionError("the lock was taken while another process holds it")
        assert 1 <= time.time() - started < 3
        msg = str(caught.value)
        assert "pid %d on host %s (gns3_project_reset) since " % (holder.proc.pid, socket.gethostname()) in msg
        assert "lock_timeout=1" in msg and "give a longer lock_timeout" in msg
        assert caught.value.holder["pid"] == holder.proc.pid
    finally:
        holder.release()


def test_a_second_run_waits_then_gets_the_lock(tmp_path):
    path = tmp_path / "farm.lock"
    holder = Holder(path)
    timer = threading.Timer(0.8, holder.release)
    timer.start()
    try:
        with bounded_lock(str(path), 30) as held:
            assert held["waited"] >= 0.7
            assert json.loads(path.read_text())["pid"] == os.getpid()
    finally:
        timer.join()


def test_a_holder_that_dies_frees_the_lock(tmp_path):
    path = tmp_path / "farm.lock"
    Holder(path).kill()
    with bounded_lock(str(path), 0) as held:
        assert held["waited"] < 1


def test_zero_timeout_fails_at_once(tmp_path):
    path = tmp_path / "farm.lock"
    holder = Holder(path)
    try:
        started = time.time()
        with pytest.raises(LockTimeout):
            with bounded_lock(str(path), 0):
                pass
        assert time.time() - started < 0.5
    finally:
        holder.release()
