# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Gradual start/stop of many things (GNS3 nodes, libvirt domains): a bounded rate and a bounded
number in flight. Pure logic: the clock, the sleep and the way a worker runs are injected, so tests
drive it without a server or real time. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread


class WaitTimeout(Exception):
    """An item did not reach its target status within wait_timeout."""

    @property
    def reason(self):
        return str(self)


class _ThreadHandle:
    def __init__(self, fn):
        self._thread = daemon_thread(fn, "gradual")

    def done(self):
        return not self._thread.is_alive()


class _DoneHandle:
    @staticmethod
    def done():
        return True


def spawn_thread(fn):
    """Run ``fn`` in a thread; the handle's done() tells when it returned."""
    return _ThreadHandle(fn)


def spawn_inline(fn):
    """Run ``fn`` now, in the caller (concurrency 1, and deterministic tests)."""
    fn()
    return _DoneHandle()


class GradualScheduler:
    """Operate on items at most ``rate`` per second, at most ``concurrency`` at once.

    ``run(items, operate, status_of, target)``:

    * ``operate(item)`` sends the request and returns the status its answer reports (or None);
    * ``status_of(item)`` reads the current status (polled while waiting);
    * consecutive launches are at least ``1/rate`` s apart (rate None or 0: no pacing), so n
      items take at least (n-1)/rate s to launch, and a stall never turns into a burst;
    * with ``wait``, an item holds its slot until it reports ``target`` (or fails after
      ``wait_timeout`` s), so ``concurrency`` bounds the nodes booting at once; without it an
      item is done when the request is answered.

    Returns one dict per item, in order: ``ok``, ``status`` (last seen), ``error``, ``at``
    (launch, seconds after the run began) and ``seconds`` (request sent to target reached, or
    to the failure). A failing item never raises: its exception becomes ``error`` (GNS3's own
    message for a GNS3Error, whatever an exception's ``reason`` says).
    """

    def __init__(self, rate=None, concurrency=1, wait=True, wait_timeout=300.0, poll_interval=0.5,
                 clock=time.monotonic, sleep=time.sleep, spawn=None, tick=0.02):
        if rate is not None and rate < 0:
            raise ValueError("rate must be >= 0 (nodes per second; 0 = no pacing), got %r" % rate)
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1, got %r" % concurrency)
        if wait_timeout <= 0:
            raise ValueError("wait_timeout must be > 0 seconds, got %r" % wait_timeout)
        self.rate = float(rate) if rate else None
        self.concurrency = int(concurrency)
        self.wait = wait
        self.wait_timeout = float(wait_timeout)
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep
        self.spawn = spawn or (spawn_inline if self.concurrency == 1 else spawn_thread)
        self.tick = tick
        self._lock = threading.Lock()
        self._running = 0
        self.max_in_flight = 0

    def _enter(self):
        with self._lock:
            self._running += 1
            self.max_in_flight = max(self.max_in_flight, self._running)

    def _leave(self):
        with self._lock:
            self._running -= 1

    def _work(self, item, operate, status_of, target, result):
        self._enter()
        begin = self.clock()
        status = None
        try:
            status = operate(item)
            if self.wait:
                deadline = begin + self.wait_timeout
                while status != target:
                    if self.clock() >= deadline:
                        raise WaitTimeout("still %s %.0f s after the request (wait_timeout is %.0f s)"
                                          % (status or "in no known status", self.clock() - begin, self.wait_timeout))
                    self.sleep(self.poll_interval)
                    status = status_of(item)
            elif status is None:
                try:  # 3.x answers 204: one look at the node, for the record
                    status = status_of(item)
                except Exception:  # pylint: disable=broad-except
                    pass
            result["ok"] = True
        except Exception as exc:  # pylint: disable=broad-except
            result["ok"] = False
            reason = getattr(exc, "reason", None)
            result["error"] = reason if isinstance(reason, str) else "%s: %s" % (type(exc).__name__, exc)
            try:
                status = status_of(item)
            except Exception:  # pylint: disable=broad-except
                pass
        finally:
            result["status"] = status
            result["seconds"] = round(self.clock() - begin, 3)
            self._leave()

    def run(self, items, operate, status_of, target):
        results = [{"ok": None, "status": None, "error": None, "at": None, "seconds": None} for item in items]
        start = self.clock()
        last_launch = None
        in_flight = []
        for index, item in enumerate(items):
            while True:
                in_flight = [h for h in in_flight if not h.done()]
                now = self.clock()
                due = last_launch + 1.0 / self.rate if (self.rate and last_launch is not None) else now
                if len(in_flight) >= self.concurrency:
                    self.sleep(self.tick)
                elif now < due:
                    self.sleep(due - now)
                else:
                    break
            last_launch = self.clock()
            results[index]["at"] = round(last_launch - start, 3)

            def job(item=item, result=results[index]):
                self._work(item, operate, status_of, target, result)

            in_flight.append(self.spawn(job))
        while in_flight:
            in_flight = [h for h in in_flight if not h.done()]
            if in_flight:
                self.sleep(self.tick)
        return results
