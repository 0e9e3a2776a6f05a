# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real zfs-fuse daemon for the session and a fresh file-backed pool per test."""

import os
import uuid

import pytest

from lab.zfs import session_lab


@pytest.fixture(scope="session")
def zfs_lab():
    """The zfs-fuse daemon: a running one is reused; one this fixture started is stopped at the end."""
    lab = session_lab("lfzt")
    yield lab
    lab.stop_daemon()


@pytest.fixture
def zpool(zfs_lab, tmp_path):
    """A pool named lfzt<pid>_<random> on a sparse file under the test's tmp dir, destroyed afterwards.

    create_pool restarts the daemon if another job stopped it since the session began.
    """
    name = "lfzt%d_%s" % (os.getpid(), uuid.uuid4().hex[:6])
    pool = zfs_lab.create_pool(name, tmp_path / "zfs")
    yield pool
    pool.destroy()
