# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A receiver's buffer pool: where each frame lands from the network, and stays while the writer
writes it and the forwarder forwards it. The frames still in the pool are the replay window, from
which a new downstream is caught up after a bypass."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import mmap
import threading


class BufferPool:
    """Page-aligned slots of one frame each, reused in turn. Frame number ``seq`` goes into slot
    ``seq % count``; a slot is reused once every consumer (objects with ``wait_released(seq)``: the
    writer and the forwarder) is done with the frame it held, and no catch-up holds it."""

    def __init__(self, chunk, replay_bytes):
        # room for a compressed chunk that grew; a multiple of the page size, so that every slot of
        # the page-aligned pool can be written with O_DIRECT
        self.slot_size = (chunk + (chunk >> 4) + 65536 + 4095) & ~4095
        self.count = max(8, replay_bytes // chunk)
        self.memory = mmap.mmap(-1, self.slot_size * self.count)  # page-aligned buffers (O_DIRECT wants that)
        self.window = collections.deque()   # (seq, pos, header bytes, payload view or bytes), seq in order
        self.cv = threading.Condition()
        self.seq = 0                        # the number of the next frame
        self.held = None                    # the first seq a catch-up is sending, or None
        self.consumers = ()

    def next_slot(self):
        """The buffer for frame ``seq``, once the frame that had its slot left the window."""
        oldest = self.seq - self.count
        if oldest >= 0:
            for consumer in self.consumers:
                consumer.wait_released(oldest)
        with self.cv:
            while self.held is not None and self.held <= oldest:
                self.cv.wait(0.5)
            while self.window and self.window[0][0] <= oldest:
                self.window.popleft()
        slot = self.seq % self.count
        return memoryview(self.memory)[slot * self.slot_size:(slot + 1) * self.slot_size]

    def append(self, pos, header, payload):
        """Frame ``seq`` (read into next_slot(), or small bytes of its own) joins the window."""
        with self.cv:
            self.window.append((self.seq, pos, header, payload))
            self.cv.notify_all()
        self.seq += 1

    def entry(self, seq, wait):
        """Frame ``seq`` of the window, waiting up to ``wait`` seconds for it to arrive; None when it is not there."""
        with self.cv:
            if not self.window or self.window[-1][0] < seq:
                self.cv.wait(wait)
            if self.window and self.window[0][0] <= seq <= self.window[-1][0]:
                return self.window[seq - self.window[0][0]]
        return None

    def hold(self, upto, here):
        """The frames of the window up to ``upto``, held (their slots are not reused) until release(),
        and the position the window starts at: older than that is not in the pool (``here`` when the
        pool holds nothing)."""
        with self.cv:
            window = [entry for entry in self.window if entry[0] <= upto]
            later = [entry for entry in self.window if entry[0] > upto]
            self.held = window[0][0] if window else None
            first = window[0][1] if window else (later[0][1] if later else here)
        return window, first

    def release(self):
        with self.cv:
            self.held = None
            self.cv.notify_all()
