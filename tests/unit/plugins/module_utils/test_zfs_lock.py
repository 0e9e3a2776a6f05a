# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""zfs_clone's host lock (_zfs/lock.py): a second batch waits for the first."""

from __future__ import absolute_import, division, print_function

import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import host_lock


def test_a_second_batch_waits_until_the_first_releases_the_lock():
    entered = threading.Event()

    def second():
        with host_lock():
            entered.set()

    with host_lock():
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.3)
    assert entered.wait(5)
    thread.join(5)
