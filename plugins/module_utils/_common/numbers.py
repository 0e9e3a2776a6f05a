# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Whole numbers as users give them (AWX surveys send strings), port ranges, and runs of numbers.
Standard library only. Parsers raise ValueError with a message that names the option and the fix;
domains catch it and raise their own error class."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_WHOLE_RE = re.compile(r"^\s*[-+]?\d+\s*$")
_RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def as_whole(value):
    """An int for 12, "12", " 12 " or 12.0; None for anything else (booleans, "1.5", "ten", None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE_RE.match(value):
        return int(value)
    return None


def parse_whole(value, option, minimum=None, maximum=None, fix=""):
    """as_whole(value), bounded; ValueError naming ``option`` and the bounds otherwise."""
    number = as_whole(value)
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if minimum is not None and maximum is not None:
            wanted = "a whole number from %d to %d" % (minimum, maximum)
        elif minimum is not None:
            wanted = "a whole number >= %d" % minimum
        elif maximum is not None:
            wanted = "a whole number <= %d" % maximum
        else:
            wanted = "a whole number"
        raise ValueError(("%s must be %s, got %r. %s" % (option, wanted, value, fix)).strip())
    return number


def parse_size(value, option, fix=""):
    """Bytes as users give them: 4194304, "4194304", "512K", "40M", "1.5G", "2GiB" (binary multiples,
    K = 1024) -> int; ValueError naming ``option`` otherwise."""
    number = as_whole(value)
    if number is not None and number >= 0:
        return number
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(("%s must be a number of bytes, optionally with a K, M, G or T suffix (binary: 40M is "
                          "40 MiB), got %r. %s" % (option, value, fix)).strip())
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_port_range(value, option):
    """"5000-10000", [5000, 10000] or ["5000", "10000"] -> (5000, 10000); ValueError naming ``option``."""
    bounds = None
    if isinstance(value, str):
        match = _RANGE_RE.match(value)
        if match:
            bounds = (int(match.group(1)), int(match.group(2)))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = tuple(as_whole(item) for item in value)
        if None not in pair:
            bounds = pair
    if not bounds or not 1 <= bounds[0] <= bounds[1] <= 65535:
        raise ValueError("%s %r is not a port range: write it as FIRST-LAST with 1 <= FIRST <= LAST <= 65535, "
                         "for example 5000-10000" % (option, value))
    return bounds


def runs(numbers, steps=False):
    """Sorted unique ints -> [(first, last, step)], greedy from the left.

    Consecutive values make step-1 runs. With ``steps``, four or more values with one other step make
    a run of that step too (a-b/s is then shorter than listing them); otherwise they stand alone."""
    ints = list(numbers)
    n = len(ints)
    if n and ints[-1] - ints[0] + 1 == n:
        return [(ints[0], ints[-1], 1)]   # unique values spanning exactly their count: one run
    out = []
    i = 0
    while i < n:
        first = ints[i]
        if i + 1 == n:
            out.append((first, first, 1))
            break
        step = ints[i + 1] - first
        j = i + 1
        while j + 1 < n and ints[j + 1] - ints[j] == step:
            j += 1
        if step == 1 or (steps and j - i + 1 >= 4):
            out.append((first, ints[j], step))
            i = j + 1
        else:
            out.append((first, first, 1))
            i += 1
    return out


def fold_numbers(numbers):
    """[5000, 5001, 5002, 5007] -> '5000-5002,5007': compact lists of ports and ids in diffs and messages."""
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b, dummy in runs(sorted(set(numbers))))
