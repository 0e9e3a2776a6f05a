# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab the tests and benchmarks run against: zfs-fuse (zfs.py) and GNS3 servers (gns3.py)."""

import os

import pytest


def lab_missing(reason):
    """A lab component (zfs-fuse, a GNS3 server) is not installed: skip, unless the run requires the
    lab (make sets LABFARM_REQUIRE_LAB=1, since hack/setup.sh installs it all): then it is a failure."""
    if os.environ.get("LABFARM_REQUIRE_LAB"):
        pytest.fail("the test lab is incomplete: %s" % reason)
    pytest.skip(reason)


def alive(pid):
    """True while ``pid`` runs (a zombie waiting for PID 1 to reap it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
