# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests run the real Ansible commands against the checkout as labfarm.massclone."""

import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


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
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


@pytest.fixture(scope="session")
def run(ansible_env):
    def _run(*args, **kwargs):
        return subprocess.run(list(args), env=ansible_env, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    return _run
