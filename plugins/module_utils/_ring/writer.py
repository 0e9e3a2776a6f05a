# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A receiver's writer thread: its targets are written in stream order, off the network path."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import threading

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError


class Writer:
    """Takes tasks (kind, item index, argument, seq) in order: ("seg", item, (offset, length, kind,
    checksum, raw), seq) writes a verified segment, ("end", item, source digest, seq) finishes the
    item into ``results[item]``, ("release", None, None, seq) only releases ``seq``.

    targets: item index -> items.Target; progress: report.Progress, whose ``written`` it updates."""

    def __init__(self, targets, progress, results):
        self.targets = targets
        self.progress = progress
        self.results = results
        self.queue = collections.deque()
        self.cv = threading.Condition()
        self.released = -1
        self.running = True
        self.busy = False
        self.thread = daemon_thread(self._run, "ring-writer")

    def put(self, task):
        with self.cv:
            self.queue.append(task)
            self.cv.notify_all()

    def wait_released(self, seq):
        """Wait until the task of frame ``seq`` is done (or the writer stopped)."""
        if seq < 0:
            return
        with self.cv:
            while self.released < seq and self.running:
                self.cv.wait(0.5)

    def drain(self):
        with self.cv:
            while (self.queue or self.busy) and self.running:
                self.cv.wait(0.5)

    def stop(self):
        with self.cv:
            self.running = False
            self.cv.notify_all()

    def _run(self):
        while True:
            with self.cv:
                while not self.queue and self.running:
                    self.cv.wait(0.5)
                if not self.queue:
                    return
                kind, item, arg, seq = self.queue.popleft()
                self.busy = True
            target = self.targets.get(item) if item is not None else None
            try:
                if kind == "seg" and target is not None:
                    offset, length, seg_kind, checksum, raw = arg
                    target.write(offset, length, seg_kind, checksum, raw)
                    self.progress.written = sum(t.offset for t in self.targets.values())
                    target.checkpoint()
                elif kind == "end" and target is not None:
                    self.results[item] = target.finish(arg)
            except (OSError, RingError) as exc:
                if target is not None:
                    target.error = target.error or "writing %s: %s" % (target.dest, getattr(exc, "strerror", None) or exc)
            with self.cv:
                self.released = seq
                self.busy = False
                self.cv.notify_all()
