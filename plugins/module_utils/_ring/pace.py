# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The source's bandwidth limit (ring_copy's rate_limit, Frisbee's -W and udpcast's --max-bitrate): the ring
forwards what the source sends, so holding the source to a rate holds every link of the ring to it, and leaves
the rest of the network (and the disks of a shared storage host) to others. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


class Pacer:
    """Keeps the bytes sent since the first at no more than ``rate`` per second on average (0: no limit).
    take(count) is called before each frame is sent and sleeps while the sender is ahead of the rate; time
    spent idle earns at most one second's worth of bytes sent at once."""

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep):
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.start = None
        self.sent = 0

    def take(self, count):
        if not self.rate:
            return
        now = self.clock()
        if self.start is None:
            self.start = now
        ahead = self.sent / float(self.rate) - (now - self.start)
        if ahead < -1.0:     # idle time (a bypass, a slow node) earns at most one second of burst
            self.start = now - self.sent / float(self.rate) - 1.0
        if ahead > 0:
            self.sleep(ahead)
        self.sent += count
