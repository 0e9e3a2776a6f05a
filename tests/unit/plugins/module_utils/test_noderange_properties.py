# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests: fold round trips, and ClusterShell's NodeSet as an oracle for Slurm syntax."""

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import expand
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.fold import fold, nodesort

NodeSet = pytest.importorskip("ClusterShell.NodeSet").NodeSet

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Host-name-like names: letters, digits, '-', '_', '.'; never starting with '-'.
_name = st.from_regex(r"[a-z][a-z0-9_.\-]{0,12}", fullmatch=True)
_indexed = st.builds(lambda p, i, w, s: "%s%0*d%s" % (p, w, i, s),
                     st.sampled_from(["node", "n", "rack1-node", "c", "gpu-"]),
                     st.integers(0, 300), st.integers(0, 4), st.sampled_from(["", "-eth0", ".lab", "b"]))
_names = st.lists(st.one_of(_name, _indexed, _indexed), max_size=60)


@SETTINGS
@given(_names)
def test_expand_of_fold_is_the_sorted_unique_names(names):
    folded = fold(names)
    assert expand(folded) == nodesort(names)
    # canonical: folding the expansion gives the same text back
    assert fold(expand(folded)) == folded


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 12)), max_size=40))
def test_two_dimensional_fold(pairs):
    names = ["r%d-n%02d" % p for p in pairs]
    folded = fold(names)
    assert expand(folded) == nodesort(names)
    assert len(folded) <= len(",".join(sorted(set(names)))) or not names


# -- Slurm expressions, with ClusterShell as the oracle ------------------------------------

@st.composite
def _range_element(draw):
    width = draw(st.sampled_from([0, 0, 2, 3]))
    lo = draw(st.integers(0, 120 if width != 2 else 60))
    hi = draw(st.integers(lo, lo + 40))
    if width:
        hi = min(hi, 10 ** width - 1)
        lo = min(lo, hi)
    fmt = "%0*d" % (width, lo), "%0*d" % (width, hi)
    kind = draw(st.sampled_from(["single", "range", "stride"]))
    if kind == "single":
        return fmt[0]
    if kind == "range":
        return "%s-%s" % fmt
    return "%s-%s/%d" % (fmt[0], fmt[1], draw(st.integers(1, 7)))


@st.composite
def _slurm_atom(draw):
    prefix = draw(st.sampled_from(["node", "n", "gpu", "rack"]))
    groups = draw(st.integers(1, 2))
    text = prefix
    for i in range(groups):
        elements = draw(st.lists(_range_element(), min_size=1, max_size=4))
        text += "[" + ",".join(elements) + "]"
        if i + 1 < groups:
            text += draw(st.sampled_from(["-n", "p", "-blade"]))
    return text + draw(st.sampled_from(["", "", "-ib"]))


_slurm = st.lists(_slurm_atom(), min_size=1, max_size=3).map(",".join)


@SETTINGS
@given(_slurm)
def test_expand_matches_clustershell(expr):
    ours = expand(expr)
    theirs = list(NodeSet(expr))
    assert len(ours) == len(set(ours))
    assert set(ours) == set(theirs)


@SETTINGS
@given(_names)
def test_clustershell_reads_our_fold(names):
    names = [n for n in names if "." not in n]   # ClusterShell folds dotted names differently, not wrongly
    folded = fold(names)
    assert set(NodeSet(folded)) == set(names)


def test_a_few_clustershell_checks_by_hand():
    for expr in ["node[01-10,20]", "rack[1-2]-node[01-03]", "n[1-10/3]", "n[001-100]"]:
        assert expand(expr) == list(NodeSet(expr))
