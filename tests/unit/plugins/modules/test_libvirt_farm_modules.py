# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt_farm and libvirt_farm_info as Ansible runs them, on libvirt's test driver (test:///default: one
running domain of 8 GiB that is not the farm's, a pool on /default-pool). Each module call opens its own
connection, and the test driver's state lives in that connection: every call starts from the same node."""

import pytest

pytest.importorskip("libvirt")

from ansible_collections.labfarm.massclone.plugins.modules import libvirt_farm, libvirt_farm_info  # noqa: E402

HYPERVISOR = {"name": "hv1", "uri": "test:///default", "pool_dir": "/default-pool", "memory_mb": 8192 + 1024, "vcpus": 16}


def farm_args(**extra):
    args = {"vms": "lfvm[1-3]", "hypervisors": [HYPERVISOR], "backing_file": "/img/base.qcow2",
            "template": {"memory_mb": 256, "network": "default"}}
    args.update(extra)
    return args


def test_farm_creates_and_starts_the_batch_and_shows_the_diff_only_with_diff(run_module):
    result = run_module(libvirt_farm, farm_args())
    assert result["changed"] is True and "diff" not in result
    assert result["created"] == result["started"] == ["lfvm1", "lfvm2", "lfvm3"]
    assert [vm["state"] for vm in result["vms"]] == ["running"] * 3
    assert result["placement"] == [{"hypervisor": "hv1", "vms": 3}]
    with_diff = run_module(libvirt_farm, farm_args(_ansible_diff=True))
    assert with_diff["diff"]["before"]["vms"]["lfvm1"] is None
    assert with_diff["diff"]["after"]["vms"]["lfvm1"]["state"] == "running"


def test_farm_check_mode_reports_the_plan(run_module):
    result = run_module(libvirt_farm, farm_args(_ansible_check_mode=True, state="paused"))
    assert result["changed"] is True and result["created"] == ["lfvm1", "lfvm2", "lfvm3"]
    assert [vm["state"] for vm in result["vms"]] == ["paused"] * 3 and not any(vm["uuid"] for vm in result["vms"])


def test_farm_failure_carries_the_capacity_figures(run_module):
    result = run_module(libvirt_farm, farm_args(vms="lfvm[1-5]", template={"memory_mb": 512}))
    assert result["failed"] is True and result["msg"].startswith("not enough capacity, nothing was created")
    assert result["capacity"][0]["name"] == "hv1" and result["asked"] == 5 and result["fits"] == 2


def test_info_reports_what_fits_and_changes_nothing(run_module):
    result = run_module(libvirt_farm_info, {"hypervisors": [HYPERVISOR], "template": {"memory_mb": 256, "bridge": "br0"}})
    assert result["changed"] is False and result["max_vms"] == 4
    assert result["template"] == {"memory_mb": 256, "vcpus": 1}
    assert result["hypervisors"][0]["placement_host"]["used_memory_mb"] == 8192


@pytest.mark.parametrize("module, args", [(libvirt_farm, farm_args()), (libvirt_farm_info, {"vms": "lfvm[1-3]"})])
def test_both_modules_check_the_hypervisor_and_template_options_alike(run_module, module, args):
    result = run_module(module, dict(args, hypervisors=[HYPERVISOR], template={"memroy_mb": 256}))
    assert result["failed"] is True and "memroy_mb" in result["msg"]
    result = run_module(module, dict(args, hypervisors=[{"name": "hv1", "uri": "test:///default"}]))
    assert result["failed"] is True and "pool_dir" in result["msg"]
