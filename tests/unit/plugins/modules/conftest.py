# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module unit test needs: run a module's main() with arguments and read its JSON result,
on every ansible-core the collection claims (meta/runtime.yml)."""

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:   # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:   # ansible-core 2.16 to 2.18: the arguments AnsibleModule reads are a module global
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


@pytest.fixture(autouse=True)
def as_module(monkeypatch):
    """Once a test in the same process has loaded controller code (the filter tests do), ansible-core
    2.19 sends module warnings to the controller's display instead of the result: run as a module.
    Warnings are process-wide: each test starts with none."""
    try:
        from ansible.module_utils import _internal
        monkeypatch.setattr(_internal, "is_controller", False)
    except (ImportError, AttributeError):
        pass
    from ansible.module_utils.common import warnings
    warnings._global_warnings.clear()
    warnings._global_deprecations.clear()


@pytest.fixture
def warning_texts():
    """warning_texts(result) -> the texts of a module result's warnings (plain strings up to ansible-core
    2.18, summaries in 2.19)."""
    def texts(result):
        return [item["event"]["msg"] if isinstance(item, dict) else item for item in result.get("warnings", [])]
    return texts


@pytest.fixture
def run_module(capsys):
    """run_module(module, args) -> the dict the module's main() printed (exit_json or fail_json)."""
    def run(module, args):
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)
    return run
