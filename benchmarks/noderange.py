# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Expand and fold 100,000 names with labfarm.massclone's engine and ClusterShell's NodeSet, side by side.

Targets (issue 2): expand <= 0.5x and fold <= 0.2x ClusterShell's time. Each figure is the best of
several interleaved rounds, so load on this shared machine hits both sides alike.
Run: make benchmark  (or .venv/bin/python benchmarks/noderange.py)
"""

import os
import random
import sys

import _timing as timing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))

from ClusterShell.NodeSet import NodeSet  # noqa: E402  (the baseline a user would otherwise pick)

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import expand  # noqa: E402
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.fold import fold, nodesort  # noqa: E402

CASES = [
    ("1 bracket, padded", "node[000001-100000]"),
    ("2 brackets", "rack[01-50]-node[0001-2000]"),
    ("3 patterns", "c[1-25000],d[1-25000],e[001-500]x[1-100]"),
    ("stride 2", "n[1-200000/2]"),
]
ROUNDS = 5
EXPAND_TARGET, FOLD_TARGET = 0.5, 0.2


def best(fn, rounds=ROUNDS):
    return timing.best(fn, rounds)


def main():
    print("labfarm.massclone noderange vs ClusterShell %s NodeSet, 100,000 names, best of %d"
          % (getattr(sys.modules["ClusterShell"], "__version__", "?"), ROUNDS))
    print("%-24s %-6s %10s %12s %7s %7s" % ("case", "op", "ours s", "ClusterShell", "ratio", "target"))
    failed = []
    rng = random.Random(2)
    for label, expr in CASES:
        ours_t, ours = best(lambda: expand(expr))
        cs_t, theirs = best(lambda: list(NodeSet(expr)))
        assert len(ours) == 100000 and set(ours) == set(theirs), label
        ratio = ours_t / cs_t
        print("%-24s %-6s %10.4f %12.4f %7.3f %7s" % (label, "expand", ours_t, cs_t, ratio, "<=%.1f" % EXPAND_TARGET))
        if ratio > EXPAND_TARGET:
            failed.append((label, "expand", ratio))
        names = list(ours)
        rng.shuffle(names)   # fold must not depend on sorted input
        ours_t, folded = best(lambda: fold(names))
        cs_t, cs_folded = best(lambda: str(NodeSet.fromlist(names)))
        assert expand(folded) == nodesort(names) and NodeSet(folded) == NodeSet(cs_folded), label
        ratio = ours_t / cs_t
        print("%-24s %-6s %10.4f %12.4f %7.3f %7s" % ("", "fold", ours_t, cs_t, ratio, "<=%.1f" % FOLD_TARGET))
        if ratio > FOLD_TARGET:
            failed.append((label, "fold", ratio))
    if failed:
        print("over target: %s" % ", ".join("%s %s %.3f" % f for f in failed))
        return 1
    print("all within target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
