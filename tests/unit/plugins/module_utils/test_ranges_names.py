# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A batch's names: a range expression or a list of names (_ranges.names)."""

import time

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.names import NamesError, names_from


def test_a_range_and_a_list():
    assert names_from("lab[01-03]", "vms", 100, "lab[01-40]") == ["lab01", "lab02", "lab03"]
    assert names_from("lab[01-04],-lab02", "vms", 100, "lab[01-40]") == ["lab01", "lab03", "lab04"]
    assert names_from(["b", "a", "b"], "vms", 100, "lab[01-40]") == ["b", "a"]


def test_empty_only_where_allowed():
    assert names_from([], "clones", 10, "C[1-2]", allow_empty=True) == []
    assert names_from("  ", "clones", 10, "C[1-2]", allow_empty=True) == []
    with pytest.raises(NamesError, match="clones names nothing"):
        names_from([], "clones", 10, "C[1-2]")


@pytest.mark.parametrize("value, words", [
    ("lab[03-01", "vms: "),
    (["a", 3], "vms[1] is 3 (int)"),
    ({"a": 1}, "vms must be a range expression such as lab[01-40] or a list of names, got dict"),
    (7, "got int"),
])
def test_errors_name_the_option_and_say_how_to_write_it(value, words):
    with pytest.raises(NamesError) as err:
        names_from(value, "vms", 100, "lab[01-40]")
    assert words in str(err.value)


def test_limits():
    with pytest.raises(NamesError):
        names_from("n[1-1000]", "vms", 100, "n[1-2]")
    with pytest.raises(NamesError, match="more than the limit of 3"):
        names_from(["a", "b", "c", "d"], "vms", 3, "n[1-2]")


def test_de_duplication_is_linear():
    """A list of 40,000 names with duplicates costs about 8 times a list of 5,000, not 64 times."""
    def cost(count):
        names = ["vm%06d" % (i % (count // 2)) for i in range(count)]
        best = None
        for dummy in range(3):
            start = time.perf_counter()
            names_from(names, "vms", 10 ** 6, "vm[1-2]")
            best = min(best or 1e9, time.perf_counter() - start)
        return best
    small, large = cost(5000), cost(40000)
    assert large < small * 30, (small, large)
