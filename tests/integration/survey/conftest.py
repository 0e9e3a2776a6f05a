# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the collection's playbooks as AWX does: an inventory, and every input as a string in a JSON of extra
vars (what a survey sends). The set_stats data of the run is recorded by callback_plugins/record_stats.py."""

import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def run_job(ansible_env, tmp_path):
    """run_job(playbook, inventory_yaml, extra_vars, check=False, ...) -> (proc, stats): extra_vars must hold strings only."""
    def _run_job(playbook, inventory, extra_vars, check=False, diff=False, netns=None, timeout=600, artifacts=None):
        """``artifacts``: what an AWX workflow passes from the previous job's set_stats (structured, not strings)."""
        assert all(isinstance(value, str) for value in extra_vars.values()), "a survey passes strings only"
        extra_vars = dict(extra_vars, **(artifacts or {}))
        inv = tmp_path / "inventory.yml"
        inv.write_text(inventory)
        extra = tmp_path / "extra_vars.json"
        extra.write_text(json.dumps(extra_vars))
        stats = tmp_path / "stats.json"
        if stats.exists():
            stats.unlink()
        env = dict(ansible_env)
        env.update({"ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
                    "ANSIBLE_CALLBACKS_ENABLED": "record_stats", "LABFARM_STATS_FILE": str(stats)})
        cmd = ["ansible-playbook", "-i", str(inv), "-e", "@%s" % extra, os.path.join(ROOT, "playbooks", playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=str(tmp_path))
        data = json.loads(stats.read_text()) if stats.exists() else None
        return proc, data
    return _run_job
