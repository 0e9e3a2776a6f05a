# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole numbers as surveys send them, port ranges and runs of numbers (_common.numbers)."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.labfarm.massclone.plugins.module_utils._common import numbers


@pytest.mark.parametrize("value, expected", [
    (12, 12), ("12", 12), (" 12 ", 12), ("-3", -3), ("+4", 4), (12.0, 12),
    (True, None), (False, None), ("1.5", None), (1.5, None), ("ten", None), ("", None), (None, None), ([1], None),
])
def test_as_whole(value, expected):
    assert numbers.as_whole(value) == expected


def test_parse_whole_names_the_option_the_bounds_and_the_fix():
    assert numbers.parse_whole("8", "workers", minimum=1) == 8
    with pytest.raises(ValueError) as err:
        numbers.parse_whole("0", "workers", minimum=1, fix="Give 1 or more.")
    assert str(err.value) == "workers must be a whole number >= 1, got '0'. Give 1 or more."
    with pytest.raises(ValueError, match="from 1 to 65535, got 70000"):
        numbers.parse_whole(70000, "port", 1, 65535)
    with pytest.raises(ValueError, match="<= 5"):
        numbers.parse_whole(6, "x", maximum=5)
    with pytest.raises(ValueError, match=r"^x must be a whole number, got 'a'\.$"):
        numbers.parse_whole("a", "x")


@pytest.mark.parametrize("value", ["5000-10000", " 5000 - 10000 ", [5000, 10000], ("5000", "10000")])
def test_port_ranges(value):
    assert numbers.parse_port_range(value, "console_port_range") == (5000, 10000)


@pytest.mark.parametrize("value", ["10000-5000", "0-10", "5000-70000", "5000", "a-b", [1], [1, 2, 3], [True, 5], None])
def test_bad_port_ranges_name_the_option_and_the_form(value):
    with pytest.raises(ValueError) as err:
        numbers.parse_port_range(value, "console_port_range")
    assert "console_port_range %r is not a port range" % (value,) in str(err.value) and "5000-10000" in str(err.value)


def test_runs_and_fold():
    assert numbers.runs([1, 2, 3, 7]) == [(1, 3, 1), (7, 7, 1)]
    assert numbers.runs([1, 3, 5, 7, 9]) == [(1, 1, 1), (3, 3, 1), (5, 5, 1), (7, 7, 1), (9, 9, 1)]
    assert numbers.runs([1, 3, 5, 7, 9], steps=True) == [(1, 9, 2)]
    assert numbers.runs([1, 3, 5], steps=True) == [(1, 1, 1), (3, 3, 1), (5, 5, 1)]
    assert numbers.runs([]) == []
    assert numbers.fold_numbers([5003, 5000, 5001, 5002, 6000, 5001]) == "5000-5003,6000"
    assert numbers.fold_numbers([]) == ""


@given(st.sets(st.integers(min_value=0, max_value=300)), st.booleans())
def test_runs_cover_exactly_the_numbers(values, steps):
    covered = []
    for first, last, step in numbers.runs(sorted(values), steps=steps):
        covered.extend(range(first, last + 1, step))
    assert covered == sorted(values)
