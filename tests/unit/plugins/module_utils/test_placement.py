# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges import placement as placement_module
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import (
    POLICIES,
    PlacementError,
    max_items,
    normalize_hosts,
    normalize_items,
    place,
    summarize,
)

GIB = {"memory_mb": 1024, "vcpus": 1}


def hosts_of(assignment):
    return [host for _item, host in assignment]


def per_host_counts(assignment, hosts):
    counts = Counter(host for _item, host in assignment)
    return [counts[name] for name in hosts]


def three_hosts():
    return [
        {"name": "a", "memory_mb": 4096, "vcpus": 4},
        {"name": "b", "memory_mb": 8192, "vcpus": 8},
        {"name": "c", "memory_mb": 2048, "vcpus": 2},
    ]


# ---------------------------------------------------------------------------
# Policies on hand-checkable cases


def test_policies_tuple():
    assert POLICIES == ("round_robin", "even", "concentrated", "weighted")


def test_round_robin_interleaves_items_and_names_count_items_from_one():
    result = place(10, ["h1", "h2", "h3"])
    assert result == [
        ("1", "h1"), ("2", "h2"), ("3", "h3"), ("4", "h1"), ("5", "h2"),
        ("6", "h3"), ("7", "h1"), ("8", "h2"), ("9", "h3"), ("10", "h1"),
    ]


def test_round_robin_skips_full_hosts_and_keeps_cycling():
    hosts = [{"name": "a", "max_items": 1}, "b", "c"]
    assert hosts_of(place(5, hosts, "round_robin")) == ["a", "b", "c", "b", "c"]


def test_round_robin_skips_host_without_room_for_that_item():
    hosts = [{"name": "a", "memory_mb": 2048}, {"name": "b", "memory_mb": 8192}]
    # a holds two 1 GiB items; afterwards every item goes to b.
    assert hosts_of(place(5, hosts, "round_robin", item={"memory_mb": 1024})) == ["a", "b", "a", "b", "b"]


def test_even_is_vm5k_n_by_hosts_with_remainder_in_contiguous_blocks():
    result = place(10, ["h1", "h2", "h3"], "even")
    assert hosts_of(result) == ["h1"] * 4 + ["h2"] * 3 + ["h3"] * 3
    assert [name for name, _host in result] == [str(i) for i in range(1, 11)]


def test_even_divisible_count():
    assert per_host_counts(place(9, ["x", "y", "z"], "even"), ["x", "y", "z"]) == [3, 3, 3]


def test_even_fewer_items_than_hosts():
    assert hosts_of(place(2, ["x", "y", "z"], "even")) == ["x", "y"]


def test_even_spreads_overflow_of_a_capped_host_evenly():
    hosts = [{"name": "a", "max_items": 2}, "b", "c"]
    assert hosts_of(place(10, hosts, "even")) == ["a"] * 2 + ["b"] * 4 + ["c"] * 4


def test_even_overflow_remainder_goes_to_first_hosts_with_room():
    hosts = [{"name": "a", "memory_mb": 1024}, "b", "c", "d"]
    counts = per_host_counts(place(11, hosts, "even", item=GIB), ["a", "b", "c", "d"])
    assert counts == [1, 4, 3, 3]


def test_even_repeats_redistribution_until_placed():
    hosts = [{"name": "a", "max_items": 1}, {"name": "b", "max_items": 2}, "c", {"name": "d", "max_items": 6}]
    # 12 items: level 4 would give 1 + 2 + 4 + 4 = 11, so one more for the first host above the level.
    assert per_host_counts(place(12, hosts, "even"), ["a", "b", "c", "d"]) == [1, 2, 5, 4]


def test_concentrated_fills_hosts_in_order():
    hosts = [{"name": "a", "memory_mb": 4096}, {"name": "b", "memory_mb": 4096}, "c"]
    result = place(10, hosts, "concentrated", item=GIB)
    assert hosts_of(result) == ["a"] * 4 + ["b"] * 4 + ["c"] * 2


def test_concentrated_on_unlimited_hosts_uses_only_the_first():
    assert set(hosts_of(place(7, ["p", "q"], "concentrated"))) == {"p"}


def test_weighted_by_capacity_exact_quotas():
    counts = per_host_counts(place(7, three_hosts(), "weighted", item=GIB), ["a", "b", "c"])
    assert counts == [2, 4, 1]


def test_weighted_by_capacity_largest_remainder():
    # quotas 6*4/14 = 1.71, 6*8/14 = 3.43, 6*2/14 = 0.86: floors 1, 3, 0; the two
    # largest remainders (c .86, a .71) get one more each.
    result = place(6, three_hosts(), "weighted", item=GIB)
    assert hosts_of(result) == ["a", "a", "b", "b", "b", "c"]


def test_weighted_ties_broken_by_host_order():
    assert per_host_counts(place(10, ["x", "y", "z"], "weighted"), ["x", "y", "z"]) == [4, 3, 3]


def test_weighted_uses_given_weights():
    hosts = [{"name": "a", "weight": 1}, {"name": "b", "weight": 3.0}]
    assert hosts_of(place(8, hosts, "weighted")) == ["a"] * 2 + ["b"] * 6


def test_weighted_caps_by_capacity_and_redistributes_by_same_rule():
    hosts = [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "max_items": 1}, {"name": "c", "weight": 2}]
    # quotas 2, 2, 4; b is capped at 1; the 7 left split 1:2 -> 2.33, 4.67 -> 2, 5.
    assert hosts_of(place(8, hosts, "weighted")) == ["a"] * 2 + ["b"] + ["c"] * 5


def test_weighted_unbounded_host_weighs_like_the_largest_bounded_one():
    hosts = [{"name": "small", "max_items": 20}, {"name": "big", "max_items": 60}, "unbounded"]
    # weights 20, 60, 60 -> 14 items split 2, 6, 6.
    assert per_host_counts(place(14, hosts, "weighted"), ["small", "big", "unbounded"]) == [2, 6, 6]


def test_weighted_unbounded_host_weighs_at_least_the_item_count():
    hosts = [{"name": "small", "max_items": 2}, {"name": "big", "max_items": 6}, "unbounded"]
    # The unbounded host could take all 14 items: weights 2, 6, 14 ->
    # quotas 1.27, 3.82, 8.91 -> 1, 3, 8 and the two largest remainders (big, unbounded) +1.
    assert per_host_counts(place(14, hosts, "weighted"), ["small", "big", "unbounded"]) == [1, 4, 9]


def test_weighted_rejects_weights_on_only_some_hosts():
    with pytest.raises(PlacementError) as err:
        place(4, [{"name": "a", "weight": 2}, "b"], "weighted")
    assert "host 'a' has a weight but host 'b' has none" in str(err.value)
    # Other policies ignore weights, so the same hosts are fine there.
    assert len(place(4, [{"name": "a", "weight": 2}, "b"], "even")) == 4


# ---------------------------------------------------------------------------
# Capacities, caps, overcommit, heterogeneous items


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_respects_memory_vcpus_and_max_items(policy):
    hosts = [
        {"name": "a", "memory_mb": 3072, "vcpus": 8},
        {"name": "b", "memory_mb": 16384, "vcpus": 2},
        {"name": "c", "max_items": 1},
    ]
    result = place(6, hosts, policy, item=GIB)
    assert len(result) == 6
    summary = summarize(result, hosts, item=GIB)
    assert [row["items"] for row in summary] == [3, 2, 1]


@pytest.mark.parametrize("memory, vcpus, fits", [(3072, 8, 3), (3071, 8, 2), (8192, 3, 3), (8192, 2.5, 2)])
def test_capacity_boundaries_are_exact(memory, vcpus, fits):
    hosts = [{"name": "a", "memory_mb": memory, "vcpus": vcpus}]
    assert len(place(fits, hosts, item=GIB)) == fits
    with pytest.raises(PlacementError) as err:
        place(fits + 1, hosts, item=GIB)
    assert err.value.fits == fits


def test_used_capacity_is_subtracted():
    hosts = [{"name": "a", "memory_mb": 4096, "used_memory_mb": 3072, "vcpus": 4, "used_vcpus": 1}, "b"]
    assert hosts_of(place(3, hosts, "concentrated", item=GIB)) == ["a", "b", "b"]


@pytest.mark.parametrize("ratio, fits", [(1.0, 4), (1.5, 6), (2, 8), ("2.5", 10)])
def test_cpu_overcommit_ratio(ratio, fits):
    hosts = [{"name": "a", "vcpus": 4}]
    assert len(place(fits, hosts, item={"vcpus": 1}, cpu_overcommit=ratio)) == fits
    with pytest.raises(PlacementError) as err:
        place(fits + 1, hosts, item={"vcpus": 1}, cpu_overcommit=ratio)
    assert err.value.fits == fits


def test_vcpu_arithmetic_is_exact():
    # In floats 0.1 + 0.1 + 0.1 > 0.3 and the third item would be refused.
    hosts = [{"name": "a", "vcpus": 0.3}]
    assert len(place(3, hosts, item={"vcpus": 0.1})) == 3
    with pytest.raises(PlacementError):
        place(4, hosts, item={"vcpus": 0.1})
    assert normalize_hosts([{"name": "a", "vcpus": 10}], cpu_overcommit=1.2)[0]["free_vcpus"] == 12


@pytest.mark.parametrize("policy", POLICIES)
def test_heterogeneous_items_hand_checked(policy):
    hosts = [{"name": "a", "memory_mb": 4096}, {"name": "b", "memory_mb": 4096}]
    items = [
        {"name": "x", "memory_mb": 3072},
        {"name": "y", "memory_mb": 2048},
        {"name": "z", "memory_mb": 2048},
        {"name": "w", "memory_mb": 1024},
    ]
    assert place(items, hosts, policy) == [("x", "a"), ("y", "b"), ("z", "b"), ("w", "a")]


@pytest.mark.parametrize("policy", POLICIES)
def test_heterogeneous_items_found_when_policy_order_fails(policy):
    # Round robin in the given order would put one small item on each host
    # and leave no room for the big one; the big one must still be placed.
    hosts = [{"name": "a", "memory_mb": 4096}, {"name": "b", "memory_mb": 4096}]
    items = [{"name": "s1", "memory_mb": 2048}, {"name": "s2", "memory_mb": 2048}, {"name": "big", "memory_mb": 4096}]
    result = dict(place(items, hosts, policy))
    assert result["s1"] == result["s2"] != result["big"]


TIGHT_HOSTS = [{"name": "a", "memory_mb": 3584}, {"name": "b", "memory_mb": 3072}]
TIGHT_ITEMS = [
    {"name": "p", "memory_mb": 1536},
    {"name": "q", "memory_mb": 512},
    {"name": "r", "memory_mb": 2560},
    {"name": "s", "memory_mb": 2048},
]


@pytest.mark.parametrize("policy", POLICIES)
def test_exact_fit_that_greedy_misses_is_found_by_search(policy):
    # Only a: p + s (3584) and b: q + r (3072) works; largest first puts r on a and fails.
    assert place(TIGHT_ITEMS, TIGHT_HOSTS, policy) == [("p", "a"), ("q", "b"), ("r", "b"), ("s", "a")]


def test_search_budget_exhausted_reports_fragmentation(monkeypatch):
    monkeypatch.setattr(placement_module, "_SEARCH_BUDGET", 0)
    with pytest.raises(PlacementError) as err:
        place(TIGHT_ITEMS, TIGHT_HOSTS, "even")
    assert str(err.value) == (
        "placement (policy even): 4 items asked, 3 fit on 2 hosts; missing 0 MiB memory and 0 vCPUs; "
        "the hosts have enough free memory, vCPUs and item slots in total, but it is fragmented: "
        "what is left on each host is too small for the remaining items "
        "(items need 6656 MiB, 0 vCPUs in total; cpu_overcommit 1.0). "
        "Add hosts or capacity, raise cpu_overcommit, or ask for fewer items."
    )


def test_search_handles_long_item_lists_without_recursion(monkeypatch):
    # Greedy fails on the tight items, so the search must go 1504 items deep:
    # past the recursion limit if it were recursive.
    items = TIGHT_ITEMS + [{"name": "z%d" % i} for i in range(1500)]
    result = place(items, TIGHT_HOSTS, "even")
    assert result[:4] == [("p", "a"), ("q", "b"), ("r", "b"), ("s", "a")]
    assert len(result) == 1504
    monkeypatch.setattr(placement_module, "_SEARCH_BUDGET", 0)
    with pytest.raises(PlacementError, match="1504 items asked, 1503 fit"):
        place(items, TIGHT_HOSTS, "even")


def test_heterogeneous_items_use_item_defaults_for_unset_needs():
    items = [{"name": "big", "memory_mb": 3072}, "small", {"name": "cpu", "vcpus": 4}]
    assert normalize_items(items, item={"memory_mb": 512, "vcpus": 1}) == [
        {"name": "big", "memory_mb": 3072, "vcpus": 1},
        {"name": "small", "memory_mb": 512, "vcpus": 1},
        {"name": "cpu", "memory_mb": 512, "vcpus": 4},
    ]


def test_unlimited_hosts_accept_anything():
    huge = {"memory_mb": 10 ** 9, "vcpus": 10 ** 6}
    assert len(place(50, ["a", {"name": "b"}], "even", item=huge)) == 50


def test_zero_items_give_empty_list():
    for policy in POLICIES:
        assert place(0, ["a"], policy) == []
        assert place([], [{"name": "a", "memory_mb": 0}], policy) == []


# ---------------------------------------------------------------------------
# Determinism and order


@pytest.mark.parametrize("policy", POLICIES)
def test_same_call_same_result(policy):
    hosts = three_hosts()
    first = place(9, hosts, policy, item={"memory_mb": 512, "vcpus": 1})
    assert place(9, hosts, policy, item={"memory_mb": 512, "vcpus": 1}) == first


def test_host_order_matters():
    assert hosts_of(place(3, ["a", "b"], "even")) == ["a", "a", "b"]
    assert hosts_of(place(3, ["b", "a"], "even")) == ["b", "b", "a"]


def test_item_order_is_kept():
    names = ["r3", "r1", "r2", "r10"]
    for policy in POLICIES:
        assert [name for name, _host in place(names, ["a", "b"], policy)] == names


# ---------------------------------------------------------------------------
# Not enough capacity


def capacity_error(policy="even", count=14):
    hosts = [{"name": "h%d" % i, "memory_mb": 4096, "vcpus": 8} for i in range(3)]
    with pytest.raises(PlacementError) as err:
        place(count, hosts, policy, item={"memory_mb": 1024, "vcpus": 2})
    return err.value


def test_not_enough_capacity_message_and_figures():
    err = capacity_error()
    assert str(err) == (
        "placement (policy even): 14 items asked, 12 fit on 3 hosts; missing 2048 MiB memory and 4 vCPUs "
        "(each item needs 1024 MiB, 2 vCPUs; cpu_overcommit 1.0). "
        "Add hosts or capacity, raise cpu_overcommit, or ask for fewer items."
    )
    assert (err.asked, err.fits, err.missing_memory_mb, err.missing_vcpus) == (14, 12, 2048, 4)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("policy", POLICIES)
def test_fits_is_independent_of_policy(policy):
    err = capacity_error(policy)
    assert err.fits == 12
    assert "(policy %s)" % policy in str(err)


def test_missing_figures_for_heterogeneous_items_and_overcommit():
    hosts = [{"name": "a", "memory_mb": 4096, "vcpus": 2}]
    items = [{"name": "x", "memory_mb": 3072, "vcpus": 2}, {"name": "y", "memory_mb": 2048, "vcpus": 3}]
    with pytest.raises(PlacementError) as err:
        place(items, hosts, cpu_overcommit=1.5)
    # needs 5120 MiB / 5 vCPUs, free 4096 MiB / 3 vCPUs
    assert (err.value.missing_memory_mb, err.value.missing_vcpus, err.value.fits) == (1024, 2, 1)
    assert "missing 1024 MiB memory and 2 vCPUs (items need 5120 MiB, 5 vCPUs in total; cpu_overcommit 1.5)" \
        in str(err.value)


def test_fragmentation_is_reported():
    hosts = [{"name": "a", "memory_mb": 4500}, {"name": "b", "memory_mb": 4500}]
    with pytest.raises(PlacementError) as err:
        place(3, hosts, "even", item={"memory_mb": 3000})
    message = str(err.value)
    assert message.startswith("placement (policy even): 3 items asked, 2 fit on 2 hosts; "
                              "missing 0 MiB memory and 0 vCPUs; ")
    assert "enough free memory, vCPUs and item slots in total, but it is fragmented" in message
    assert (err.value.fits, err.value.missing_memory_mb, err.value.missing_vcpus) == (2, 0, 0)


def test_max_items_shortage_is_reported():
    with pytest.raises(PlacementError) as err:
        place(5, [{"name": "a", "max_items": 2}, {"name": "b", "max_items": 2}], "round_robin")
    assert "5 items asked, 4 fit on 2 hosts; missing 0 MiB memory and 0 vCPUs; " \
        "max_items allows only 4 items on these hosts" in str(err.value)
    assert "fragmented" not in str(err.value)


def test_item_too_big_for_every_host_is_named():
    items = [{"name": "big", "memory_mb": 8192, "vcpus": 1}, "tiny"]
    with pytest.raises(PlacementError) as err:
        place(items, [{"name": "a", "memory_mb": 4096}, {"name": "b", "memory_mb": 4096}])
    assert "1 item fit on no host at all: 'big' (8192 MiB, 1 vCPUs)" in str(err.value)
    assert err.value.fits == 1


def test_single_item_single_host_wording():
    with pytest.raises(PlacementError) as err:
        place(1, [{"name": "a", "vcpus": 0}], item={"vcpus": 1})
    assert "1 item asked, 0 fit on 1 host;" in str(err.value)


# ---------------------------------------------------------------------------
# Validation


def test_unknown_policy_lists_valid_ones():
    with pytest.raises(PlacementError) as err:
        place(3, ["a"], "spread")
    assert str(err.value) == ("unknown placement policy 'spread'; valid policies: "
                              "round_robin, even, concentrated, weighted.")
    assert err.value.asked is None and err.value.fits is None


@pytest.mark.parametrize("hosts, expected", [
    ([], "no hosts given"),
    ("a,b", "hosts must be a list"),
    ({"name": "a"}, "hosts must be a list"),
    (None, "hosts must be a list"),
    (["a", 3], "hosts[1]: each host must be a host name or a mapping"),
    ([{"memory_mb": 1024}], "hosts[0]: missing 'name' (got {'memory_mb': 1024})"),
    ([{"name": "  "}], "hosts[0]: missing 'name'"),
    ([{"name": 7}], "hosts[0]: host name must be a string; got 7 (int)"),
    (["a", {"name": "b"}, "a"], "hosts[2]: duplicate host name 'a' (also hosts[0])"),
    ([{"name": "a", "memory_mb": -1024}], "host 'a': memory_mb must be a whole number >= 0; got -1024"),
    ([{"name": "a", "memory_mb": 1.5}], "host 'a': memory_mb must be a whole number >= 0; got 1.5"),
    ([{"name": "a", "memory_mb": "lots"}], "host 'a': memory_mb must be a whole number >= 0; got 'lots'"),
    ([{"name": "a", "memory_mb": True}], "host 'a': memory_mb must be a whole number >= 0; got True"),
    ([{"name": "a", "vcpus": -2}], "host 'a': vcpus must be a number >= 0; got -2"),
    ([{"name": "a", "vcpus": "four"}], "host 'a': vcpus must be a number >= 0; got 'four'"),
    ([{"name": "a", "vcpus": float("nan")}], "host 'a': vcpus must be a number >= 0; got nan"),
    ([{"name": "a", "used_memory_mb": -1}], "host 'a': used_memory_mb must be a whole number >= 0; got -1"),
    ([{"name": "a", "used_vcpus": [1]}], "host 'a': used_vcpus must be a number >= 0; got [1]"),
    ([{"name": "a", "max_items": -1}], "host 'a': max_items must be a whole number >= 0; got -1"),
    ([{"name": "a", "weight": 0}], "host 'a': weight must be a number > 0; got 0"),
])
def test_host_validation_errors(hosts, expected):
    with pytest.raises(PlacementError) as err:
        normalize_hosts(hosts)
    assert expected in str(err.value)
    with pytest.raises(ValueError):
        place(1, hosts)


def test_host_validation_messages_give_the_fix():
    with pytest.raises(PlacementError) as err:
        normalize_hosts([{"name": "a", "memory_mb": -1}])
    assert str(err.value).endswith("Fix it in MiB, or leave memory_mb out (or null) for unlimited memory.")
    with pytest.raises(PlacementError) as err:
        normalize_hosts(["a", "a"])
    assert str(err.value).endswith("Remove or rename one of them.")


@pytest.mark.parametrize("ratio", [0, -1, "abc", None, float("inf")])
def test_cpu_overcommit_must_be_positive_number(ratio):
    with pytest.raises(PlacementError) as err:
        normalize_hosts(["a"], cpu_overcommit=ratio)
    assert str(err.value).startswith("cpu_overcommit must be a number > 0 (1.0 means no overcommit); got %r." % ratio)


@pytest.mark.parametrize("items, item, expected", [
    (-1, None, "items must be >= 0 when given as a count; got -1."),
    ("abc", None, "items must be a count (int) or a list"),
    (2.0, None, "items must be a count (int) or a list"),
    (True, None, "items must be a count (int) or a list"),
    (["a", "b", "a"], None, "items[2]: duplicate item name 'a' (also items[0])"),
    (["1", 1], None, "items[1]: duplicate item name '1' (also items[0])"),
    ([None], None, "items[0]: each item must be a non-empty name"),
    ([""], None, "items[0]: each item must be a non-empty name"),
    ([{"memory_mb": 1}], None, "items[0]: each item must be a non-empty name or a mapping with a non-empty 'name'"),
    ([{"name": "x", "memory_mb": -5}], None, "item 'x': memory_mb must be a whole number >= 0; got -5"),
    ([{"name": "x", "vcpus": "many"}], None, "item 'x': vcpus must be a number >= 0; got 'many'"),
    (2, {"memory_mb": -1}, "item: memory_mb must be a whole number >= 0; got -1"),
    (2, {"vcpus": -0.5}, "item: vcpus must be a number >= 0; got -0.5"),
    (2, 1024, "item must be a mapping with memory_mb and/or vcpus"),
])
def test_item_validation_errors(items, item, expected):
    with pytest.raises(PlacementError) as err:
        normalize_items(items, item)
    assert expected in str(err.value)


def test_normalize_items_forms():
    assert [i["name"] for i in normalize_items(3)] == ["1", "2", "3"]
    assert normalize_items(0) == []
    assert normalize_items([5, "x"]) == [{"name": "5", "memory_mb": 0, "vcpus": 0}, {"name": "x", "memory_mb": 0, "vcpus": 0}]
    assert normalize_items(["a"], {"memory_mb": "2048", "vcpus": 0.5}) == [{"name": "a", "memory_mb": 2048, "vcpus": 0.5}]


def test_normalize_hosts_record_and_idempotence():
    hosts = [
        {"name": "a", "memory_mb": "8192", "vcpus": 4, "used_memory_mb": 1024, "used_vcpus": 1, "max_items": 10,
         "weight": 2, "ansible_host": "10.0.0.1"},
        "b",
        {"name": "c", "memory_mb": 1024, "used_memory_mb": 4096, "vcpus": 2, "used_vcpus": 5},
    ]
    records = normalize_hosts(hosts, cpu_overcommit=2)
    assert records[0] == {"name": "a", "memory_mb": 8192, "vcpus": 4, "used_memory_mb": 1024, "used_vcpus": 1,
                          "max_items": 10, "weight": 2, "free_memory_mb": 7168, "free_vcpus": 7}
    assert records[1] == {"name": "b", "memory_mb": None, "vcpus": None, "used_memory_mb": 0, "used_vcpus": 0,
                          "max_items": None, "weight": None, "free_memory_mb": None, "free_vcpus": None}
    # A host already used beyond its capacity has no room left, not negative room.
    assert (records[2]["free_memory_mb"], records[2]["free_vcpus"]) == (0, 0)
    assert normalize_hosts(records, cpu_overcommit=2) == records


# ---------------------------------------------------------------------------
# max_items()


def test_max_items_per_host_and_total():
    assert max_items(three_hosts(), GIB) == {
        "total": 14,
        "per_host": [{"host": "a", "max_items": 4}, {"host": "b", "max_items": 8}, {"host": "c", "max_items": 2}],
    }


def test_max_items_takes_the_tightest_dimension_and_overcommit():
    hosts = [{"name": "a", "memory_mb": 16384, "vcpus": 4, "used_vcpus": 2, "max_items": 100}]
    item = {"memory_mb": 1024, "vcpus": 2}
    assert max_items(hosts, item)["total"] == 1  # 4 - 2 free vCPUs
    assert max_items(hosts, item, cpu_overcommit=3)["total"] == 5  # 12 - 2 free vCPUs
    assert max_items([dict(hosts[0], max_items=3)], item, cpu_overcommit=3)["total"] == 3


def test_max_items_zero_need_item_bounded_by_cap():
    hosts = [{"name": "a", "memory_mb": 0, "vcpus": 0, "max_items": 7}]
    assert max_items(hosts, {"memory_mb": 0, "vcpus": 0})["per_host"] == [{"host": "a", "max_items": 7}]
    assert max_items(hosts, {"memory_mb": 1})["total"] == 0


def test_max_items_unbounded_is_none():
    result = max_items([{"name": "a", "max_items": 3}, "b"], None)
    assert result == {"total": None, "per_host": [{"host": "a", "max_items": 3}, {"host": "b", "max_items": None}]}
    # Limited memory does not bound items that need no memory.
    assert max_items([{"name": "a", "memory_mb": 1024}], {"vcpus": 1})["total"] is None


# ---------------------------------------------------------------------------
# summarize()


def test_summarize_figures():
    hosts = three_hosts()
    item = {"memory_mb": 1024, "vcpus": 1.5}
    assignment = place(5, hosts, "even", item=item)
    assert summarize(assignment, hosts, item=item) == [
        {"host": "a", "items": 2, "memory_mb": 2048, "vcpus": 3, "free_memory_mb": 2048, "free_vcpus": 1},
        {"host": "b", "items": 2, "memory_mb": 2048, "vcpus": 3, "free_memory_mb": 6144, "free_vcpus": 5},
        {"host": "c", "items": 1, "memory_mb": 1024, "vcpus": 1.5, "free_memory_mb": 1024, "free_vcpus": 0.5},
    ]


def test_summarize_with_heterogeneous_items_and_unlimited_host():
    items = [{"name": "x", "memory_mb": 3072, "vcpus": 2}, {"name": "y", "memory_mb": 512}]
    hosts = [{"name": "a", "memory_mb": 4096, "vcpus": 4, "used_vcpus": 1}, "b"]
    summary = summarize({"x": "a", "y": "b"}, hosts, items=items, cpu_overcommit=2)
    assert summary == [
        {"host": "a", "items": 1, "memory_mb": 3072, "vcpus": 2, "free_memory_mb": 1024, "free_vcpus": 5},
        {"host": "b", "items": 1, "memory_mb": 512, "vcpus": 0, "free_memory_mb": None, "free_vcpus": None},
    ]


@pytest.mark.parametrize("assignment, items, expected", [
    ([("1", "zz")], None, "item '1' is placed on unknown host 'zz'; known hosts: a, b."),
    ([("1", "a"), ("1", "b")], None, "item '1' is placed more than once."),
    ([("q", "a")], ["p"], "item 'q' is not in items."),
    ([("1",)], None, "assignment[0]: expected an (item_name, host_name) pair"),
    ("1:a", None, "assignment must be a list of (item_name, host_name) pairs"),
])
def test_summarize_errors(assignment, items, expected):
    with pytest.raises(PlacementError) as err:
        summarize(assignment, ["a", "b"], items=items)
    assert expected in str(err.value)


# ---------------------------------------------------------------------------
# Properties

NEEDS = st.sampled_from([0, 512, 1024, 2048, 4096])
VCPUS = st.sampled_from([0, 1, 2, 0.5])


@st.composite
def host_lists(draw, max_hosts=5):
    count = draw(st.integers(1, max_hosts))
    hosts = []
    for index in range(count):
        host = {"name": "h%d" % index}
        if draw(st.booleans()):
            host["memory_mb"] = draw(st.integers(0, 12288))
        if draw(st.booleans()):
            host["vcpus"] = draw(st.integers(0, 8))
        if draw(st.booleans()):
            host["max_items"] = draw(st.integers(0, 8))
        hosts.append(host)
    return hosts


@st.composite
def item_lists(draw):
    count = draw(st.integers(0, 24))
    return [{"name": "i%d" % index, "memory_mb": draw(NEEDS), "vcpus": draw(VCPUS)} for index in range(count)]


def capacity_of(hosts, item, count):
    """Per-host capacity for `count` identical items (None-free, capped at count)."""
    return [count if row["max_items"] is None else min(count, row["max_items"])
            for row in max_items(hosts, item)["per_host"]]


def assert_valid(result, items, hosts):
    names = [entry["name"] for entry in normalize_items(items)]
    assert [name for name, _host in result] == names
    for row, host in zip(summarize(result, hosts, items=items), normalize_hosts(hosts)):
        assert row["free_memory_mb"] is None or row["free_memory_mb"] >= 0
        assert row["free_vcpus"] is None or row["free_vcpus"] >= 0
        assert host["max_items"] is None or row["items"] <= host["max_items"]


@settings(max_examples=150, deadline=None, database=None)
@given(hosts=host_lists(), items=item_lists(), policy=st.sampled_from(POLICIES))
def test_property_heterogeneous_never_overcommits(hosts, items, policy):
    try:
        result = place(items, hosts, policy)
    except PlacementError as err:
        assert err.asked == len(items)
        assert 0 <= err.fits < len(items)
        assert re.match(r"placement \(policy %s\): \d+ items? asked, %d fit" % (policy, err.fits), str(err))
        return
    assert_valid(result, items, hosts)
    assert place(items, hosts, policy) == result


@settings(max_examples=150, deadline=None, database=None)
@given(hosts=host_lists(), count=st.integers(0, 30), memory=NEEDS, vcpus=VCPUS, policy=st.sampled_from(POLICIES))
def test_property_identical_items_place_exactly_when_capacity_allows(hosts, count, memory, vcpus, policy):
    item = {"memory_mb": memory, "vcpus": vcpus}
    capacity = capacity_of(hosts, item, count)
    if sum(capacity) < count:
        with pytest.raises(PlacementError) as err:
            place(count, hosts, policy, item=item)
        assert err.value.fits == sum(capacity)
        return
    result = place(count, hosts, policy, item=item)
    items = [{"name": str(i), "memory_mb": memory, "vcpus": vcpus} for i in range(1, count + 1)]
    assert_valid(result, items, hosts)
    names = [host["name"] for host in hosts]
    counts = per_host_counts(result, names)
    assert sum(counts) == count
    used = [i for i, n in enumerate(counts) if n]
    if policy in ("even", "concentrated", "weighted"):
        # contiguous blocks in host order
        assert hosts_of(result) == sorted(hosts_of(result), key=names.index)
    if policy == "even":
        not_full = [n for n, cap in zip(counts, capacity) if n < cap]
        if not_full:
            assert max(not_full) - min(not_full) <= 1
            # a capped host never holds more than a host that still has room
            assert all(n <= min(not_full) + 1 for n in counts)
    if policy == "concentrated" and used:
        # a prefix of hosts: every host before the last one used is full
        assert all(counts[i] == capacity[i] for i in range(used[-1]))


@settings(max_examples=100, deadline=None, database=None)
@given(weights=st.lists(st.integers(1, 9), min_size=1, max_size=6), count=st.integers(0, 40))
def test_property_weighted_shares_are_rounded_quotas(weights, count):
    hosts = [{"name": "h%d" % i, "weight": w} for i, w in enumerate(weights)]
    counts = per_host_counts(place(count, hosts, "weighted"), [h["name"] for h in hosts])
    assert sum(counts) == count
    for n, w in zip(counts, weights):
        assert abs(n - count * w / sum(weights)) < 1


@settings(max_examples=50, deadline=None, database=None)
@given(host_count=st.integers(1, 6), count=st.integers(0, 30))
def test_property_round_robin_on_unlimited_hosts_cycles(host_count, count):
    names = ["h%d" % i for i in range(host_count)]
    assert hosts_of(place(count, names)) == [names[i % host_count] for i in range(count)]
