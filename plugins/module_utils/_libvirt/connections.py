# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The connections the farm's worker threads use: libvirtd serves one connection's calls partly in turn,
so with concurrency each worker thread opens a connection of its own to each hypervisor it works on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading


class ConnectionPool:
    """Per-thread connections to the hypervisors; the main thread uses each hypervisor's own."""

    def __init__(self, lv, concurrency):
        self.lv = lv
        self.concurrency = concurrency or 1
        self._local = threading.local()
        self._opened = []
        self._lock = threading.Lock()

    def parallel(self, hv):
        """Whether worker threads get connections of their own to ``hv``. Not for the test driver (its
        state is per connection) nor for connections handed in."""
        return self.concurrency > 1 and hv.own_conn and not hv.uri.startswith("test:")

    def get(self, hv):
        """(connection, overlay pool) to use for ``hv`` in this thread; the hypervisor's own when a
        connection of this thread's cannot be opened."""
        if threading.current_thread() is threading.main_thread() or not self.parallel(hv):
            return hv.conn, hv.pool
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        if hv.name not in conns:
            try:
                conn = self.lv.open(hv.uri)
                pool = conn.storagePoolLookupByName(hv.pool.name()) if hv.pool is not None else None
                conns[hv.name] = (conn, pool)
                with self._lock:
                    self._opened.append(conn)
            except self.lv.libvirtError:
                conns[hv.name] = (hv.conn, hv.pool)
        return conns[hv.name]

    def close(self):
        """Close every connection the worker threads opened."""
        for conn in self._opened:
            try:
                conn.close()
            except self.lv.libvirtError:
                pass
        self._opened = []
