# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests run the real Ansible commands against the checkout as labfarm.massclone."""

import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(os.path.abspath(sys.executable))


@pytest.fixture(scope="session")
def ansible_env(tmp_path_factory, collections_path):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_HOME": str(tmp_path_factory.mktemp("ansible-home")),
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        # localhost runs modules with the venv's Python (discovery may find a broken pyenv shim)
        "ANSIBLE_PYTHON_INTERPRETER": os.path.abspath(sys.executable),
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


@pytest.fixture(scope="session")
def run(ansible_env):
    def _run(*args, **kwargs):
        return subprocess.run(list(args), env=ansible_env, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    return _run


@pytest.fixture(scope="session")
def run_tasks(ansible_env, tmp_path_factory):
    """Run several tasks of one module on localhost in ONE ansible-playbook (about 0.2 s a task
    instead of ~2 s a playbook): run_tasks(name, [args, ...]) -> [registered result, ...].

    Every task runs, failed or not: a failed result comes back as data for the test to assert on.
    netns runs the playbook inside that network namespace; extra_env adds environment variables.
    """
    import json

    workdir = tmp_path_factory.mktemp("run-tasks")
    counter = [0]

    def _run_tasks(name, args_list, check=False, diff=False, timeout=600, netns=None, extra_env=None):
        counter[0] += 1
        playbook = workdir / ("tasks%d.yml" % counter[0])
        result = workdir / ("results%d.json" % counter[0])
        tasks = [{"name": "task %d" % index, name: args, "register": "r%d" % index, "ignore_errors": True}
                 for index, args in enumerate(args_list)]
        tasks.append({"name": "keep the results", "ansible.builtin.copy": {
            "content": "{{ [%s] | to_json }}" % ", ".join("r%d" % i for i in range(len(args_list))),
            "dest": str(result)}, "check_mode": False, "diff": False})
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        env = dict(ansible_env)
        env.update(extra_env or {})
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        if not result.exists():
            raise AssertionError("ansible-playbook gave no result (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        return json.loads(result.read_text())
    return _run_tasks


@pytest.fixture(scope="session")
def run_module(run_tasks):
    """Run one module task on localhost through ansible-playbook and return its result dict.

    run_module("labfarm.massclone.zfs_clone", {...}, check=True, diff=True) -> the registered
    result: changed/failed/msg, diff and the module's return values.
    """
    def _run_module(name, args, check=False, diff=False, extra_env=None, timeout=600):
        return run_tasks(name, [args], check=check, diff=diff, extra_env=extra_env, timeout=timeout)[0]
    return _run_module
