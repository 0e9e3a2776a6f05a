# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A batch's names: a range expression or a list of names (_ranges.names)."""

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


class CountingName(str):
    """A name that counts how often it is compared: a search in a list compares each new name with all
    the names before it, a set or dict compares only names of equal hash."""
    comparisons = 0

    def __eq__(self, other):
        CountingName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_de_duplication_is_linear():
    """10,000 names with duplicates cost about one comparison each, not one per pair (50 million)."""
    names = [CountingName("vm%05d" % (i % 5000)) for i in range(10000)]
    CountingName.comparisons = 0
    assert names_from(names, "vms", 10 ** 6, "vm[1-2]") == names[:5000]
    assert CountingName.comparisons <= 2 * len(names)
