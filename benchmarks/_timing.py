# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Timing shared by the benchmarks (run as scripts, so this directory is on sys.path)."""

import time


def best(fn, rounds):
    """(fastest of `rounds` calls of fn, the last result): the minimum is the least noisy figure on
    a shared machine."""
    times = []
    result = None
    for _round in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result
