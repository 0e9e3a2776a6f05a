# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action labfarm.massclone.ring_progress: one progress report of a ring_copy source running in the background.

It talks to the source (its job's status, its progress file) through the modules async_status and slurp;
the report's lines come from module_utils/_ring/session.py. Its documentation is plugins/modules/ring_progress.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

from ansible.plugins.action import ActionBase

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.session import progress_lines, progress_wait

ARGUMENT_SPEC = dict(
    jid=dict(type="str", required=True),
    progress_file=dict(type="str", required=True),
    session=dict(type="str", default=""),
    nodes=dict(type="list", elements="str", default=[]),
    interval=dict(type="float", default=5.0),
)


class ActionModule(ActionBase):
    """Reads the source's progress file and its job's status, on the host the task runs on (the source)."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            progress = self._progress(args["progress_file"], task_vars)
            # a long session reports less often (every 1/40 of its elapsed time), so it prints hundreds of lines, not thousands
            wait = progress_wait(progress, args["interval"])
            if wait > 0:
                time.sleep(wait)
                progress = self._progress(args["progress_file"], task_vars)
            status = self._job_status(args["jid"], task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        finished = bool(status.get("finished"))
        nodes = args["nodes"] or sorted(progress.get("nodes") or {})
        result.update(changed=False, finished=finished, elapsed=progress.get("elapsed"),
                      msg=progress_lines(args["session"], nodes, progress, finished))
        # every report is shown, also in the "retrying" lines of an until loop, as the debug action's are
        result["_ansible_verbose_always"] = True
        return result

    def _progress(self, path, task_vars):
        """The progress file's content; {} while there is none yet (or when the source could not start)."""
        read = self._execute_module(module_name="ansible.legacy.slurp", module_args={"src": path}, task_vars=task_vars)
        if read.get("failed") or "content" not in read:
            return {}
        try:
            progress = json.loads(base64.b64decode(read["content"]).decode("utf-8"))
        except ValueError:
            return {}   # caught between two writes is not possible (atomic), but a foreign file is
        return progress if isinstance(progress, dict) else {}

    def _job_status(self, jid, task_vars):
        """What async_status says of the job, found where the async_status action looks for it."""
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        return self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                    module_args={"jid": jid, "_async_dir": async_dir})
