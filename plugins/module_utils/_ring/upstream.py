# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A receiver's upstream side: the links that authenticated and gave the session's manifest, and the
one it reads from. A new upstream replaces the old one: it is the upstream's upstream, bypassing it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import threading
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError, LinkLost

KEEP_REJECTED = 100     # the first refusals are listed; the rest only counted (strangers can be many)


class Upstreams:
    """The upstream links offered to a receiver (``offer``, the listener's handler), the current one
    (``up``, which the ACK thread writes to), and the connections refused, with why (``refused()``)."""

    def __init__(self, session, timeout, log):
        self.session = session
        self.timeout = timeout
        self.log = log
        self.pending = collections.deque()   # (link, manifest), oldest first
        self.cv = threading.Condition()
        self.up = None
        self.rejected = []
        self.more_rejected = 0

    def offer(self, link, role, peer):
        """An authenticated link: it becomes a pending upstream once it sent this session's manifest."""
        try:
            if role != "upstream":
                raise LinkLost("%s connected as %s; receivers take only upstream links" % (peer, role))
            frame = link.read_frame(timeout=self.timeout)
            if frame.ftype != wire.MANIFEST:
                raise LinkLost("%s sent %s before the manifest" % (peer, frame.name))
            manifest = frame.json()
            if manifest.get("session") != self.session:
                raise LinkLost("%s sent the manifest of session %r" % (peer, manifest.get("session")))
        except (RingError, OSError) as exc:
            link.close()
            self.refuse(peer, exc)
            return
        with self.cv:
            self.pending.append((link, manifest))
            old = self.up
            self.cv.notify_all()
        if old is not None:
            old.close()   # a new authenticated upstream replaces the old one (it was bypassed)

    def refuse(self, peer, error):
        if len(self.rejected) < KEEP_REJECTED:
            self.rejected.append("%s: %s" % (peer, error))
        else:
            self.more_rejected += 1
        self.log("rejected a connection from %s: %s" % (peer, error))

    def refused(self, turned_away=0):
        """The connections refused, with why; those only counted, and those the listener closed
        unanswered (``turned_away``), in a line each."""
        lines = list(self.rejected)
        if self.more_rejected:
            lines.append("%d more connections refused" % self.more_rejected)
        if turned_away:
            lines.append("%d connections closed at once: too many were waiting to authenticate" % turned_away)
        return lines

    def next(self, wait):
        """(link, manifest) of the newest pending upstream, waiting up to ``wait`` seconds for one;
        (None, None) when none came."""
        deadline = time.monotonic() + wait
        with self.cv:
            while not self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cv.wait(min(left, 1.0))
            link, manifest = self.pending.popleft()
            while self.pending:      # only the newest counts
                link.close()
                link, manifest = self.pending.popleft()
            return link, manifest

    def ready(self, link, position, name):
        """READY with the position this part of the ring needs; then the link is our upstream (the
        ACK thread writes to it from then on)."""
        with link.lock:
            link.send_control(wire.READY, {"position": list(position), "node": name})
        self.up = link

    def lost(self):
        self.up = None

    def close(self):
        if self.up is not None:
            self.up.close()
