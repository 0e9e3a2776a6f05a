# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Where a node takes connections: a receiver's upstream links, the source's fetch service. A
connection is handed over only once its peer proved it knows the session key (wire.accept_handshake).

Until then it costs the node little: the handshake reads frames of a few KiB at most, and at most
MAX_PENDING connections are in their handshake at once; more are closed as soon as they are accepted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError

MAX_PENDING = 16


def listen_socket(address, text):
    """A listening TCP socket on (host, port), or a RingError that names the address."""
    try:
        server = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(address)
        server.listen(16)
    except OSError as exc:
        raise RingError("cannot listen on %s: %s" % (text, exc.strerror or exc))
    return server


class Listener:
    """A listening socket, bound at once (so a taken port fails before anything else), served from
    start() on: each connection is challenged in a thread of its own, then handed to
    handle(link, role, peer); a refused one goes to refuse(peer, error). A connection beyond the
    MAX_PENDING in their handshake is closed at once and only counted (``turned_away``).

    sid, key: the session's; timeout: how long a handshake may take."""

    def __init__(self, address, sid, key, timeout, handle, refuse):
        self.address = address
        self.server = listen_socket(address, "%s:%d" % address)
        self.sid = sid
        self.key = key
        self.timeout = timeout
        self.handle = handle
        self.refuse = refuse
        self.thread = None
        self.pending = threading.BoundedSemaphore(MAX_PENDING)
        self.turned_away = 0

    @property
    def port(self):
        return self.server.getsockname()[1]

    def start(self, stop):
        """Accept connections until the Event `stop` is set or close() is called."""
        self.thread = daemon_thread(self._accept_loop, "ring-accept", stop)

    def _accept_loop(self, stop):
        self.server.settimeout(0.5)
        while not stop.is_set():
            try:
                sock, peer = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if not self.pending.acquire(False):
                sock.close()
                self.turned_away += 1
                continue
            daemon_thread(self._serve, "ring-link", sock, "%s:%d" % peer[:2])

    def _serve(self, sock, peer):
        try:
            try:
                link, role = wire.accept_handshake(sock, self.sid, self.key, peer, self.timeout)
            finally:
                self.pending.release()
        except (RingError, OSError) as exc:
            sock.close()
            self.refuse(peer, exc)
            return
        self.handle(link, role, peer)

    def close(self):
        """Close the listening socket so that its port is free when the node's run() returns:
        shutdown wakes the thread blocked in accept() at once (a plain close would leave the socket
        listening until that thread's poll times out, and a session started right after would find
        the port taken)."""
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()
        if self.thread is not None:
            self.thread.join(2.0)
