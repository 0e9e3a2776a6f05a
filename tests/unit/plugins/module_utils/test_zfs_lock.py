# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""zfs_clone's host lock (_zfs/lock.py): a second batch waits for the first, at most lock_timeout seconds."""

from __future__ import absolute_import, division, print_function

import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsError, ZfsNameError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import LOCK_NAME, host_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.options import check_lock_timeout

HOLDER = r"""
import sys
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import host_lock
with host_lock(5, directories=[sys.argv[1]]):
    print("held", flush=True)
    sys.stdin.read()
"""


def holder(directory):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc):
    proc.stdin.close()
    proc.wait(10)


def test_a_second_batch_waits_until_the_first_releases_the_lock(tmp_path):
    proc = holder(tmp_path)
    entered = threading.Event()
    timer = threading.Timer(0.5, release, [proc])
    timer.start()
    with host_lock(30, directories=[str(tmp_path)]):
        entered.set()
    timer.join()
    assert entered.is_set() and proc.returncode == 0


def test_a_hung_batch_blocks_the_next_one_only_for_lock_timeout(tmp_path):
    proc = holder(tmp_path)
    try:
        with pytest.raises(ZfsError) as caught:
            with host_lock(1, directories=[str(tmp_path)]):
                raise AssertionError("locked twice")
        msg = str(caught.value)
        assert "another zfs_clone batch is running on this host, and no zfs command was run" in msg
        assert "pid %d on host" % proc.pid in msg and "(zfs_clone) since" in msg and "lock_timeout=1" in msg
        assert os.path.exists(str(tmp_path / LOCK_NAME))
    finally:
        release(proc)


def test_lock_timeout_is_checked():
    assert check_lock_timeout(0) == 0 and check_lock_timeout(300) == 300
    with pytest.raises(ZfsNameError, match="lock_timeout must be a whole number from 0 to 86400"):
        check_lock_timeout(-1)
