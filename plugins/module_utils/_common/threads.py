# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Threads as the domains use them: daemon helpers that never keep a failed module process alive, and
a bounded parallel map whose errors are those of a plain loop. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from concurrent.futures import ThreadPoolExecutor


def daemon_thread(target, name, *args):
    """A started daemon thread running target(*args)."""
    thread = threading.Thread(target=target, name=name, args=args)
    thread.daemon = True
    thread.start()
    return thread


def parallel_map(function, items, workers, *args):
    """[function(item, *args) for item in items] on up to ``workers`` threads, in item order; the first
    failure in item order is raised, so errors are the same as a plain loop's."""
    items = list(items)
    if len(items) < 2 or workers < 2:
        return [function(item, *args) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(lambda item: function(item, *args), items))


def run_workers(worker, count):
    """Run ``worker()`` in ``count`` threads (each typically pulls from a shared queue and holds a
    resource of its own, such as a connection) and wait for all of them. The first exception a worker
    raised is raised here, after every worker has stopped."""
    errors = []

    def guarded():
        try:
            worker()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for dummy in range(max(1, count))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
