# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A batch of 10,000 VM names: the name checks, the plan and the result builder stay linear.

Time is not measured (two noisy cores): each name counts the comparisons made with it, and a budget of
a few comparisons per name stops a quadratic search (n * n / 2 = 50 million comparisons) at once."""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.farm import Farm
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import expand_vms

N = 10000
BUDGET_PER_NAME = 20


class CountedName(str):
    """A VM name that counts the equality tests made with it; past the budget it fails the test."""

    comparisons = 0
    budget = 0

    def __eq__(self, other):
        CountedName.comparisons += 1
        if CountedName.comparisons > CountedName.budget:
            raise AssertionError("more than %d name comparisons for %d names: a quadratic search"
                                 % (CountedName.budget, N))
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


@pytest.fixture
def names():
    CountedName.comparisons = 0
    CountedName.budget = BUDGET_PER_NAME * N
    return [CountedName("lfvm%05d" % i) for i in range(N)]


class FakeLibvirt:
    """The part of the libvirt module a check-mode run uses."""

    VIR_DOMAIN_XML_INACTIVE = 2

    class libvirtError(Exception):
        pass


class EmptyNode:
    """A connection to a hypervisor with room for the batch and no domains."""

    @staticmethod
    def getInfo():
        return ["x86_64", 64 * N, 2 * N]

    @staticmethod
    def getCapabilities():
        return "<capabilities><guest><arch name='x86_64'><domain type='test'/></arch></guest></capabilities>"

    @staticmethod
    def listAllDomains(flags):
        return []


def test_ten_thousand_listed_names_are_checked_without_a_quadratic_search(names):
    checked = expand_vms(names + names[:10])       # duplicates dropped, first place kept
    assert checked == names


def test_ten_thousand_vms_are_planned_and_reported_without_a_quadratic_search(names):
    params = {"vms": names, "backing_file": "/img/base.qcow2", "template": {"memory_mb": 32}, "state": "running",
              "hypervisors": [{"name": "hv1", "uri": "test:///default", "pool_dir": "/var/lib/farm"},
                              {"name": "hv2", "uri": "test:///default", "pool_dir": "/var/lib/farm"}],
              "start_rate": 0, "concurrency": 1, "cpu_overcommit": 1.0, "distribution": "even"}
    result = Farm(FakeLibvirt, params, check_mode=True, connections={"hv1": EmptyNode(), "hv2": EmptyNode()}).run()
    assert [vm["name"] for vm in result["vms"]] == names
    assert result["created"] == names and result["changed"] is True
    assert result["placement"] == [{"hypervisor": "hv1", "vms": N // 2}, {"hypervisor": "hv2", "vms": N // 2}]
    assert len(result["diff"]["after"]["vms"]) == N
    assert CountedName.comparisons <= CountedName.budget


def test_a_mac_prefix_too_small_for_the_batch_is_refused_not_searched_forever():
    """A 5-octet prefix holds 256 addresses: 300 VMs used to make mac_for() search it forever."""
    from ansible_collections.labfarm.massclone.plugins.module_utils._common.threads import daemon_thread
    from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError

    params = {"vms": "lfvm[001-300]", "backing_file": "/img/base.qcow2", "template": {"memory_mb": 32},
              "state": "running", "mac_prefix": "52:54:00:97:01",
              "hypervisors": [{"name": "hv1", "uri": "test:///default", "pool_dir": "/var/lib/farm"}],
              "start_rate": 0, "concurrency": 1, "cpu_overcommit": 1.0, "distribution": "even"}
    outcome = []

    def run():
        try:
            Farm(FakeLibvirt, params, check_mode=True, connections={"hv1": EmptyNode()}).run()
            outcome.append(None)
        except FarmError as exc:
            outcome.append(exc)

    daemon_thread(run, "farm").join(30)
    assert outcome, "the plan did not finish within 30 s"
    assert isinstance(outcome[0], FarmError)
    assert "mac_prefix 52:54:00:97:01 holds 256 addresses, and 300 VMs need one each" in outcome[0].msg
