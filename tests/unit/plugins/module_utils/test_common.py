# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""type_name() names what the user wrote, not ansible-core's tagged subclasses."""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name


class _TaggedStr(str):
    pass


class _TaggedList(list):
    pass


class Custom:
    pass


@pytest.mark.parametrize("value, name", [
    ("x", "str"), (_TaggedStr("x"), "str"), (_TaggedList(), "list"), (5, "int"), (True, "bool"),
    ({}, "dict"), (None, "NoneType"), (Custom(), "Custom"),
])
def test_type_name(value, name):
    assert type_name(value) == name
