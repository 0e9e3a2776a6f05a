# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action ring_progress: one report per call from the source's progress file and its job's status,
with the modules it runs on the source replaced by their answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible.playbook.task import Task
from unittest.mock import MagicMock

from ansible_collections.labfarm.massclone.plugins.action import ring_progress
from ansible_collections.labfarm.massclone.plugins.action.ring_progress import ActionModule


def make_action(args, progress, finished=False, job_failed=False):
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        if module_name == "ansible.legacy.slurp":
            if progress is None:
                return {"failed": True, "msg": "file not found"}
            return {"content": base64.b64encode(json.dumps(progress).encode("utf-8")).decode("ascii")}
        if job_failed:
            return {"failed": True, "msg": "could not find job", "started": True, "finished": True}
        return {"started": 1, "finished": 1 if finished else 0}

    action._execute_module = execute_module
    action.get_shell_option = lambda option, default=None: default
    action._remote_expand_user = lambda path, **kwargs: path.replace("~", "/home/u")
    action._remove_tmp_path = lambda *a, **k: None
    return action, calls


ARGS = {"jid": "j1.2", "progress_file": "/state/s1.progress.json", "session": "s1", "nodes": ["r1", "r2"], "interval": 5}
PROGRESS = {"elapsed": 12.0, "nodes": {"r1": {"written": 1024, "total": 2048, "rate": 512, "eta": 2, "state": "receiving"}}}


def test_a_report_while_the_session_runs():
    action, calls = make_action(dict(ARGS), PROGRESS)
    result = action.run(task_vars={})
    assert result["finished"] is False and result["changed"] is False and result["elapsed"] == 12.0
    assert result["msg"][0] == "session s1, 12 s"
    assert result["msg"][1].startswith("r1 ") and "50.0%" in result["msg"][1]
    assert result["msg"][2].endswith("waiting")
    assert result["_ansible_verbose_always"] is True
    assert calls == [("ansible.legacy.slurp", {"src": "/state/s1.progress.json"}),
                     ("ansible.legacy.async_status", {"jid": "j1.2", "_async_dir": "/home/u/.ansible_async"})]


def test_the_end_of_the_job_ends_the_loop():
    action = make_action(dict(ARGS), PROGRESS, finished=True)[0]
    result = action.run(task_vars={})
    assert result["finished"] is True and result["msg"] == ["session s1, 12 s: the source's job has ended"]


def test_a_job_that_cannot_be_found_counts_as_ended_and_no_progress_file_is_no_report():
    action = make_action(dict(ARGS), None, job_failed=True)[0]
    result = action.run(task_vars={})
    assert result["finished"] is True and not result.get("failed")


def test_no_progress_file_yet():
    action = make_action(dict(ARGS), None)[0]
    assert action.run(task_vars={})["msg"] == ["session s1, 0 s: no node has reported yet"]


def test_a_long_session_waits_then_reads_again(monkeypatch):
    slept = []
    monkeypatch.setattr(ring_progress.time, "sleep", slept.append)
    action, calls = make_action(dict(ARGS), dict(PROGRESS, elapsed=4000.0))
    action.run(task_vars={})
    assert slept == [95.0]
    assert [name for name, dummy in calls] == ["ansible.legacy.slurp", "ansible.legacy.slurp", "ansible.legacy.async_status"]


def test_nodes_default_to_those_of_the_progress_file():
    args = dict(ARGS)
    del args["nodes"]
    action = make_action(args, PROGRESS)[0]
    assert len(action.run(task_vars={})["msg"]) == 2


def test_unknown_arguments_are_refused():
    action = make_action(dict(ARGS, color=True), PROGRESS)[0]
    with pytest.raises(Exception, match="color"):
        action.run(task_vars={})
