# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The range engine: every syntax form, every error, fold round trips."""

import tracemalloc

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import NodeRangeError, expand
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.fold import fold, nodesort, sort_key


def names(prefix, lo, hi, width=0):
    return ["%s%0*d" % (prefix, width, i) for i in range(lo, hi + 1)]


# -- Slurm / ClusterShell brackets ---------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("node[01-10,20]", names("node", 1, 10, 2) + ["node20"]),
    ("node[1-3]", ["node1", "node2", "node3"]),
    ("node[3]", ["node3"]),
    ("rack[1-2]-node[01-03]", ["rack1-node01", "rack1-node02", "rack1-node03",
                               "rack2-node01", "rack2-node02", "rack2-node03"]),
    ("n[1-10/3]", ["n1", "n4", "n7", "n10"]),
    ("n[0-8/4]", ["n0", "n4", "n8"]),
    ("n[001-100]", names("n", 1, 100, 3)),
    ("n[8-12]", ["n8", "n9", "n10", "n11", "n12"]),
    ("n[08-12]", ["n08", "n09", "n10", "n11", "n12"]),
    ("n[1-2]x", ["n1x", "n2x"]),
    ("[1-3]", ["1", "2", "3"]),
    ("n[1-3, 5]", ["n1", "n2", "n3", "n5"]),
    ("n[5,1-2]", ["n5", "n1", "n2"]),
    ("n[1-3,2-4]", ["n1", "n2", "n3", "n4"]),
    ("n[1,01]", ["n1", "n01"]),
    ("a%b[1-2]", ["a%b1", "a%b2"]),
    ("", []),
    ("  ", []),
])
def test_brackets(expr, expected):
    assert expand(expr) == expected


def test_mismatched_padding_is_refused_with_the_fix():
    with pytest.raises(NodeRangeError) as err:
        expand("node[05-130]")
    msg = str(err.value)
    assert "'node[05-130]'" in msg
    assert "position 5" in msg
    assert "zero-padded differently" in msg
    assert "005-130" in msg and "05-99,100-130" in msg
    assert err.value.position == 5 and err.value.expression == "node[05-130]"


@pytest.mark.parametrize("expr", ["n[1-010]", "n[01-100]", "n01-n100"])
def test_other_padding_mismatches(expr):
    with pytest.raises(NodeRangeError, match="zero-padded differently"):
        expand(expr)


# -- Ansible brackets ------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("host[01:03]", ["host01", "host02", "host03"]),
    ("host[1:10:4]", ["host1", "host5", "host9"]),
    ("host[a:c]", ["hosta", "hostb", "hostc"]),
    ("host[A:E:2]", ["hostA", "hostC", "hostE"]),
    # Ansible's omitted start: [:5] is [0:5]
    ("host[:3]", ["host0", "host1", "host2", "host3"]),
    ("host[:10:5]", ["host0", "host5", "host10"]),
    ("h[:1]-[a:b]", ["h0-a", "h0-b", "h1-a", "h1-b"]),
    ("db-[a:b]-[1:2]", ["db-a-1", "db-a-2", "db-b-1", "db-b-2"]),
])
def test_ansible_forms(expr, expected):
    assert expand(expr) == expected


def test_omitted_start_keeps_the_padding_rule():
    with pytest.raises(NodeRangeError, match="zero-padded differently; pad both ends to the same width \\(00-05\\)"):
        expand("host[:05]")


# -- letters inside brackets: only Ansible's [a:c] -------------------------------------

@pytest.mark.parametrize("expr, position", [
    ("n[A]", 2), ("n[x-y]", 2), ("host[a-c]", 5), ("n[1-3,x]", 6), ("n[a:c/2]", 2), ("n[:c]", 2), ("n[ab:c]", 2)])
def test_letters_in_brackets_are_refused(expr, position):
    # ClusterShell, Slurm, python-hostlist and xCAT take numbers only; Ansible letters only as [a:c]
    with pytest.raises(NodeRangeError) as err:
        expand(expr)
    assert err.value.position == position
    assert "letters inside brackets" in str(err.value)
    assert "[a:c]" in str(err.value)


# -- xCAT forms ------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("node01-node04", ["node01", "node02", "node03", "node04"]),
    ("node1-node3", ["node1", "node2", "node3"]),
    ("rack1-node01-rack1-node03", ["rack1-node01", "rack1-node02", "rack1-node03"]),
    ("node10+3", ["node10", "node11", "node12", "node13"]),
    ("node010+2", ["node010", "node011", "node012"]),
    ("node5+0", ["node5"]),
    ("rack1-node01", ["rack1-node01"]),          # different texts: a plain name
    ("ip-10-0-0-1", ["ip-10-0-0-1"]),
    ("a-b", ["a-b"]),
    ("n1,n2,n1", ["n1", "n2"]),
])
def test_xcat_forms(expr, expected):
    assert expand(expr) == expected


def test_xcat_exclusions_win():
    assert expand("node[1-5],-node3") == ["node1", "node2", "node4", "node5"]
    # the exclusion is applied after every inclusion of its level
    assert expand("node[1-3],-node2,node2") == ["node1", "node3"]
    assert expand("-node2,node[1-3]") == ["node1", "node3"]
    assert expand("node[1-6],-(node[1-2],node6)") == ["node3", "node4", "node5"]
    # exclusions inside parentheses stay inside them
    assert expand("(node[1-3],-node2),node2") == ["node1", "node3", "node2"]


def test_xcat_intersection_binds_tighter_than_union():
    assert expand("node[1-5]@node[4-9]") == ["node4", "node5"]
    assert expand("a1,node[1-5]@node[4-9]") == ["a1", "node4", "node5"]
    assert expand("(a1,node[1-5])@node[4-9]") == ["node4", "node5"]


def test_groups():
    groups = {"rack1": "node[01-04]", "rack2": ["node05", "node06"], "login": "login[1-2]",
              "compute": "rack1,rack2", "all": "compute,login"}
    assert expand("rack2", groups=groups) == ["node05", "node06"]
    assert expand("compute,-node02", groups=groups) == ["node01", "node03", "node04", "node05", "node06"]
    assert expand("all,-login", groups=groups)[-1] == "node06"
    assert expand("all@rack2", groups=groups) == ["node05", "node06"]
    assert expand("node99", groups=groups) == ["node99"]


def test_a_range_of_group_names_is_their_members():
    # xCAT: group1-group3 names groups, and a group stands for its members
    groups = {"group1": "a[1-2]", "group2": ["b1"], "group3": "c1,a1"}
    assert expand("group1-group3", groups=groups) == ["a1", "a2", "b1", "c1"]
    assert expand("group2+1", groups=groups) == ["b1", "c1", "a1"]
    assert expand("group1-group3,-a2", groups=groups) == ["a1", "b1", "c1"]
    # a name of the range that is no group stays a name
    assert expand("group3-group4", groups=groups) == ["c1", "a1", "group4"]
    # without groups, the same text is a range of names
    assert expand("group1-group3") == ["group1", "group2", "group3"]


def test_a_range_of_group_names_that_includes_itself_is_an_error():
    with pytest.raises(NodeRangeError, match=r"group 'g1' includes itself \(g1 -> g1\)"):
        expand("g1", groups={"g1": "g1-g2", "g2": "x"})


def test_group_cycle_is_an_error():
    with pytest.raises(NodeRangeError, match=r"group 'a' includes itself \(a -> b -> a\)"):
        expand("a", groups={"a": "b", "b": "a,x"})


def test_bad_group_value():
    with pytest.raises(NodeRangeError, match="group 'g' must be a range string or a list of names, not int"):
        expand("g", groups={"g": 5})


def test_all_means_the_universe():
    assert expand("all,-n2", universe=["n1", "n2", "n3"]) == ["n1", "n3"]
    assert expand("all") == ["all"]


def test_regex_against_the_universe():
    universe = ["n1", "n2", "n3", "n12", "login1"]
    assert expand("/^n1.*", universe=universe) == ["n1", "n12"]
    assert expand("/.*n[12]$", universe=universe) == ["n1", "n2", "login1"]
    assert expand("/^n\\d{1,2}$,login1", universe=universe) == ["n1", "n2", "n3", "n12", "login1"]
    assert expand("(/^n1.*)!n12", universe=universe) == ["n1"]
    # a regex runs to the next comma, so '!' and '^' inside it are regex syntax
    assert expand("/^n[^1]", universe=universe) == ["n2", "n3"]
    # without a universe, the groups' members are the universe
    assert expand("/b.", groups={"g": ["a1", "b1"], "h": "b[2-3]"}) == ["b1", "b2", "b3"]


def test_regex_matches_the_whole_name():
    # as xCAT (m/^regex$/): a regex that picks machines to image selects no extra ones
    universe = ["n1", "n12", "login1", "n1-old", "xn1"]
    assert expand("/n1", universe=universe) == ["n1"]
    assert expand("/n[12]", universe=universe) == ["n1"]
    assert expand("/n1|login1", universe=universe) == ["n1", "login1"]
    assert expand("/(?i)N1", universe=universe) == ["n1"]
    assert expand("/n1.*", universe=universe) == ["n1", "n12", "n1-old"]


def test_regex_errors():
    with pytest.raises(NodeRangeError, match="a regex needs a universe"):
        expand("/node")
    with pytest.raises(NodeRangeError) as err:
        expand("/n(", universe=["n1"])
    assert "position 0: bad regular expression 'n('" in str(err.value)
    with pytest.raises(NodeRangeError, match="expected a regular expression after '/'"):
        expand("/", universe=["n1"])


def test_universe_names_are_literal():
    # a name of the universe that looks like an xCAT range is that one name
    assert expand("a1-a3", universe=["a1-a3", "a2"]) == ["a1-a3"]


def test_file_form(tmp_path):
    listing = tmp_path / "nodes.txt"
    listing.write_text("# exam machines\nnode[01-03]   # first row\n\nnode10+1\n-ignored? no: a name\n")
    with pytest.raises(NodeRangeError) as err:
        expand("^%s" % listing)
    assert "nodes.txt line 5" in str(err.value)
    listing.write_text("# exam machines\nnode[01-03]   # first row\n\nnode10+1\n")
    assert expand("^%s" % listing) == ["node01", "node02", "node03", "node10", "node11"]
    assert expand("^%s,-node02" % listing) == ["node01", "node03", "node10", "node11"]
    assert expand("^%s!node1[0-1]" % listing) == ["node01", "node02", "node03"]


def test_file_lines_naming_a_file_are_skipped(tmp_path):
    # as xCAT: a line that starts with '^' is not followed (nor read as a range)
    listing = tmp_path / "nodes.txt"
    listing.write_text("n1\n^/nonexistent/more.txt\n  ^%s\nn2\n" % listing)
    assert expand("^%s" % listing) == ["n1", "n2"]


def test_file_errors(tmp_path):
    with pytest.raises(NodeRangeError, match="cannot read noderange file '/nonexistent/x': No such file"):
        expand("^/nonexistent/x")
    with pytest.raises(NodeRangeError, match="expected a file path after"):
        expand("^")
    loop = tmp_path / "loop.txt"
    loop.write_text("x1,^%s\n" % loop)
    with pytest.raises(NodeRangeError, match="nest deeper than"):
        expand("^%s" % loop)
    bad = tmp_path / "bad.txt"
    bad.write_text("ok1\nnode[1-\n")
    with pytest.raises(NodeRangeError) as err:
        expand("^%s" % bad)
    assert "bad.txt line 2" in str(err.value) and "'node[1-'" in str(err.value)


# -- ClusterShell operators ----------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("node[1-5]!node[2-3]", ["node1", "node4", "node5"]),
    ("node[1-5]&node[4-9]", ["node4", "node5"]),
    ("node[1-5]^node[4-9]", ["node1", "node2", "node3", "node6", "node7", "node8", "node9"]),
    # left to right, equal precedence, as ClusterShell
    ("x1,y1&z1", []),
    ("n[1-3],n[7-9]!n[2-8]", ["n1", "n9"]),
    ("n[1-3]!n2,n2", ["n1", "n3", "n2"]),
    ("n[1-3] , n5", ["n1", "n2", "n3", "n5"]),
    ("(n[1-4],m1)!n2", ["n1", "n3", "n4", "m1"]),
    ("((n1))", ["n1"]),
])
def test_operators(expr, expected):
    assert expand(expr) == expected


def test_list_input_is_a_union():
    assert expand(["n[1-2]", "n2", "m1"]) == ["n1", "n2", "m1"]


# -- errors: expression, position, what was expected ------------------------------------

@pytest.mark.parametrize("expr, position, expected", [
    ("node[1-", 7, "expected ']' to close the '[' at position 4"),
    ("node[]", 5, "expected numbers or ranges inside '[]'"),
    ("node[3-1]", 5, "starts after it ends"),
    ("node[1,,2]", 7, "expected a number or a range between commas"),
    ("node[x-1]", 5, "letters inside brackets"),
    ("node[1-2-3]", 5, "expected a number, a range"),
    ("node[1-2/0]", 5, "the step of '1-2/0' must be a positive number"),
    ("node[a:C]", 5, "mixes upper and lower case"),
    ("node[c:a]", 5, "letter range 'c:a' starts after it ends"),
    ("node[1[2]]", 6, "brackets cannot nest"),
    ("node1]", 5, "unexpected ']'"),
    ("a,,b", 2, "expected a node name, a range or '(' after ','"),
    ("a!", 2, "after '!'"),
    (",a", 0, "expected a node name, a range or '('"),
    ("(a", 2, "expected ')' to close the '(' at position 0"),
    ("a)", 1, "unexpected ')' with no '(' to close"),
    ("()", 1, "expected a node name"),
    ("a b", 2, "expected an operator (',', '!', '&', '^', '@') or the end, found 'b'"),
    ("a!-b", 2, "found '-'"),
    ("n3-n1", 0, "starts after it ends"),
    ("a@", 2, "the expression ended"),
])
def test_errors_name_expression_position_and_expectation(expr, position, expected):
    with pytest.raises(NodeRangeError) as err:
        expand(expr)
    assert err.value.expression == expr
    assert err.value.position == position
    assert expected in str(err.value)
    assert repr(expr) in str(err.value)
    assert "position %d" % position in str(err.value)


def test_not_a_string():
    with pytest.raises(NodeRangeError, match="expected a string, got int"):
        expand(5)


# -- size guard ------------------------------------------------------------------------

def test_size_guard_refuses_before_allocating():
    tracemalloc.start()
    try:
        with pytest.raises(NodeRangeError, match="expands to 100000000 names, more than the limit of 1000000"):
            expand("node[1-100000000]")
        with pytest.raises(NodeRangeError, match="more than the limit"):
            expand("r[1-10000]n[1-10000]")
        with pytest.raises(NodeRangeError, match="more than the limit"):
            expand("n1+99999999")
        with pytest.raises(NodeRangeError, match="more than the limit"):
            expand("n1-n99999999")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, "the guard must fire before names are made (peak %d bytes)" % peak


def test_size_guard_custom_limit_and_union():
    assert len(expand("n[1-10]", limit=10)) == 10
    with pytest.raises(NodeRangeError, match="limit of 10"):
        expand("n[1-11]", limit=10)
    with pytest.raises(NodeRangeError, match="limit of 10"):
        expand("n[1-6],m[1-6]", limit=10)
    with pytest.raises(NodeRangeError, match="limit of 10"):
        expand(["n[1-6]", "m[1-6]"], limit=10)


# -- fold -----------------------------------------------------------------------------

@pytest.mark.parametrize("given, folded", [
    (["n1", "n2", "n3", "n5"], "n[1-3,5]"),
    (["n5"], "n5"),
    ([], ""),
    (["m01", "m02", "n1", "n2"], "m[01-02],n[1-2]"),
    (expand("rack[1-2]-node[01-03]"), "rack[1-2]-node[01-03]"),
    (expand("rack[1-2]-node[01-03],rack3-node[01-02]"), "rack[1-2]-node[01-03],rack3-node[01-02]"),
    (["n8", "n9", "n10"], "n[8-10]"),
    (["n08", "n09", "n10"], "n[08-10]"),
    (["n99", "n100"], "n[99-100]"),
    (["n098", "n099", "n100"], "n[098-100]"),
    (["n1", "n01", "n2"], "n[1,01,2]"),
    (["n09", "n10", "n100"], "n[09-10,100]"),
    (["login", "n1"], "login,n1"),
    (["n2", "n1", "n2"], "n[1-2]"),
    (["a1b1", "a1b2", "a2b1"], "a1b[1-2],a2b1"),
    (["a1-a3"], "a1-a[3]"),       # escaped: a1-a3 alone would read as a range
    (["node10+3"], "node10+[3]"),
    # strides when shorter than listing (four values or more), as expand and ClusterShell read them
    (["n1", "n3", "n5"], "n[1,3,5]"),
    (["n1", "n3", "n5", "n7"], "n[1-7/2]"),
    (names("n", 1, 99, 2)[::2], "n[01-99/2]"),
    (["n1", "n2", "n3", "n5", "n7", "n9", "n11", "n13"], "n[1-3,5-13/2]"),
    (expand("r[1-2]-n[1-20/2]"), "r[1-2]-n[1-19/2]"),
])
def test_fold(given, folded):
    assert fold(given) == folded
    assert expand(folded) == nodesort(given)


@pytest.mark.parametrize("bad, char", [
    ("a,b", ","), ("a b", " "), ("n[1]", "["), ("-n", "-"), ("/n", "/"), ("x(", "("), ("a^b", "^")])
def test_fold_refuses_names_with_range_syntax(bad, char):
    with pytest.raises(NodeRangeError) as err:
        fold(["ok1", bad])
    assert err.value.expression == bad
    assert repr(char) in str(err.value)


def test_fold_refuses_non_strings_and_empty_names():
    with pytest.raises(NodeRangeError, match="takes names"):
        fold(["a", 3])
    with pytest.raises(NodeRangeError, match="empty name"):
        fold(["a", ""])
    with pytest.raises(NodeRangeError, match="line break"):
        fold(["a\nb"])


def test_sort_key_orders_by_pattern_then_numbers():
    assert sorted(["n10", "n9", "m2", "n1x"], key=sort_key) == ["m2", "n9", "n10", "n1x"]
    assert nodesort(["b2", "b10", "b1", "b2"]) == ["b1", "b2", "b10"]
