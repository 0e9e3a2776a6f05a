# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter functions: argument checks and the errors Ansible shows."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.noderange import FilterModule, nodefold, noderange


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"noderange", "nodefold"}


def test_noderange_expands_strings_and_lists():
    assert noderange("n[1-3]") == ["n1", "n2", "n3"]
    assert noderange(["n1", "n[1-2]"]) == ["n1", "n2"]
    assert noderange("g,-n2", groups={"g": "n[1-3]"}) == ["n1", "n3"]
    assert noderange("/^a.", universe="a1") == ["a1"]   # a regex matches whole names (issue 11)


@pytest.mark.parametrize("args, kwargs, words", [
    ((5,), {}, ["expected a range string or a list of them, got int"]),
    (("n1",), {"groups": ["g"]}, ["groups must be a mapping", "got list"]),
    (("n[1-",), {}, ["labfarm.massclone.noderange: invalid noderange 'n[1-' at position 4"]),
    (("n[1-20]",), {"limit": 10}, ["more than the limit of 10"]),
])
def test_noderange_errors(args, kwargs, words):
    with pytest.raises(AnsibleFilterError) as err:
        noderange(*args, **kwargs)
    for word in words:
        assert word in str(err.value)


def test_nodefold():
    assert nodefold(["n2", "n1", "n3"]) == "n[1-3]"
    assert nodefold("n1") == "n1"
    assert nodefold([]) == ""


@pytest.mark.parametrize("bad, words", [
    (["a", 1], ["fold() takes names", "int"]),
    (["a,b"], ["cannot hold ','"]),
])
def test_nodefold_errors(bad, words):
    with pytest.raises(AnsibleFilterError) as err:
        nodefold(bad)
    assert str(err.value).startswith("labfarm.massclone.nodefold: ")
    for word in words:
        assert word in str(err.value)


# -- the syntax users bring from ClusterShell, Slurm, python-hostlist, xCAT and Ansible (issue 11, defect 6) --

@pytest.mark.parametrize("expr", ["n[A]", "n[x-y]"])
def test_noderange_refuses_letters_inside_brackets(expr):
    with pytest.raises(AnsibleFilterError) as err:
        noderange(expr)
    assert "labfarm.massclone.noderange: invalid noderange %r at position 2: letters inside brackets" % expr \
        in str(err.value)
    assert noderange("n[a:b]") == ["na", "nb"]


def test_noderange_a_range_of_group_names_is_their_members():
    groups = {"group1": "a[1-2]", "group2": ["b1"], "group3": "c1"}
    assert noderange("group1-group3", groups=groups) == ["a1", "a2", "b1", "c1"]


def test_noderange_omitted_start():
    assert noderange("host[:5]") == ["host0", "host1", "host2", "host3", "host4", "host5"]


def test_noderange_skips_file_lines_in_a_range_file(tmp_path):
    listing = tmp_path / "nodes.txt"
    listing.write_text("n1\n^/nonexistent/more.txt\nn2\n")
    assert noderange("^%s" % listing) == ["n1", "n2"]


def test_noderange_regex_matches_the_whole_name():
    assert noderange("/n1", universe=["n1", "n12", "xn1"]) == ["n1"]
