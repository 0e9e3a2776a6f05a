# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' own timing callback: how long each task took, written as JSON to $TASK_TIMES_FILE at the end.

ansible-core's junit callback dumps every task's whole result as JSON at the end of the run, which for a mass
clone of 100 x 32 nodes adds 1.5-2 s to the run it measures; this one keeps only names and times, and the
``durations`` a module returns (gns3_project_reset with clone: its plan, clone and reset phases)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: Time of each task, as JSON (benchmarks only)
description:
  - Writes [[task name, seconds, durations or null], ...] to the file named by the environment variable
    TASK_TIMES_FILE; durations are the result's own C(durations), when it has them.
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._times = []
        self._current = None
        self._durations = None

    def _close(self):
        if self._current is not None:
            name, start = self._current
            self._times.append([name, time.perf_counter() - start, self._durations])
            self._current = None
            self._durations = None

    def v2_runner_on_ok(self, result):
        # the stdout callback has already turned the result into plain data (a cached property): no extra walk
        durations = result._result.get("durations")
        if isinstance(durations, dict):
            self._durations = dict(durations)

    def _open(self, task):
        self._close()
        self._current = (task.get_name(), time.perf_counter())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("TASK_TIMES_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self._times, handle)
