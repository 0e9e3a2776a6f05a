# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module unit test needs."""

import pytest


@pytest.fixture(autouse=True)
def as_module(monkeypatch):
    """Once a test in the same process has loaded controller code (the filter tests do), ansible-core
    2.19 sends module warnings to the controller's display instead of the result: run as a module."""
    try:
        from ansible.module_utils import _internal
        monkeypatch.setattr(_internal, "is_controller", False)
    except (ImportError, AttributeError):
        pass
