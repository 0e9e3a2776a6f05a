# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Threads as the domains use them (_common.threads)."""

import threading

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common import threads


def test_daemon_thread_runs_and_never_keeps_the_process_alive():
    done = threading.Event()
    thread = threads.daemon_thread(done.set, "t")
    thread.join(5)
    assert done.is_set() and thread.daemon and thread.name == "t"


def test_parallel_map_keeps_order_and_uses_threads():
    seen = set()

    def work(item, offset):
        seen.add(threading.current_thread().name)
        return item + offset

    assert threads.parallel_map(work, range(50), 4, 100) == list(range(100, 150))
    assert threads.parallel_map(work, [1], 4, 1) == [2]
    assert threads.parallel_map(work, [], 4, 1) == []


def test_parallel_map_raises_the_first_failure_in_item_order():
    def work(item):
        if item in (3, 7):
            raise ValueError("item %d" % item)
        return item

    with pytest.raises(ValueError, match="item 3"):
        threads.parallel_map(work, range(10), 4)


def test_run_workers_waits_for_all_and_raises_the_first_error():
    lock = threading.Lock()
    todo = list(range(20))
    done = []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                item = todo.pop()
            done.append(item)

    threads.run_workers(worker, 3)
    assert sorted(done) == list(range(20))

    def failing():
        raise RuntimeError("no connection")

    with pytest.raises(RuntimeError, match="no connection"):
        threads.run_workers(failing, 2)
