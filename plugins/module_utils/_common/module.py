# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""How every module of the collection ends: one place for warnings, the diff and result-carrying errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def exit_with(module, result):
    """exit_json with the domain's result: its ``warnings`` go through module.warn, its ``diff`` is
    returned only when the task runs with --diff."""
    result = dict(result)
    for warning in result.pop("warnings", None) or ():
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)


def fail_with(module, error, **extra):
    """fail_json for a domain error: its message, and the result it carries (a ResultError's
    ``result``: what exists now), so that the task's registered value says what to clean or rerun."""
    data = dict(getattr(error, "result", None) or {})
    data.update(extra)
    for warning in data.pop("warnings", None) or ():
        module.warn(warning)
    diff = data.pop("diff", None)
    if module._diff and diff is not None:
        data["diff"] = diff
    module.fail_json(msg=getattr(error, "msg", None) or str(error), **data)
