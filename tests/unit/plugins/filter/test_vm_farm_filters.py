# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vm_farm role's filters: the assignment it gives its per-hypervisor libvirt_farm calls (the same as one
call over all the hypervisors would place), and the VM list it gathers from them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.vm_farm import FilterModule, vm_farm_assignment, vm_farm_list
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import render_xml, wanted_spec
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.farm import Farm, farm_info
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import check_template

TEMPLATE = {"memory_mb": 256, "vcpus": 1}


def report(name, memory_mb, vcpus, farm_vms=(), used_memory_mb=0, used_vcpus=0):
    """One libvirt_farm_info result for one hypervisor, as the role registers it."""
    host = {"name": name, "memory_mb": memory_mb, "vcpus": vcpus, "used_memory_mb": used_memory_mb, "used_vcpus": used_vcpus}
    return {"changed": False, "hypervisors": [{"name": name, "farm_vms": list(farm_vms), "placement_host": host}]}


def test_existing_vms_stay_and_the_missing_are_placed_by_policy():
    capacities = [report("hv1", 1024, 2, farm_vms=["lab3"], used_memory_mb=256, used_vcpus=1), report("hv2", 2048, 8)]
    assert vm_farm_assignment("lab[1-4]", capacities, template=TEMPLATE) == {
        "lab3": "hv1", "lab1": "hv1", "lab2": "hv2", "lab4": "hv2"}
    assert vm_farm_assignment(["lab1", "lab2"], capacities, template=TEMPLATE, distribution="concentrated") == {
        "lab3": "hv1", "lab1": "hv1", "lab2": "hv2"}


def test_absent_places_nothing():
    capacities = [report("hv1", 0, 0, farm_vms=["lab2"]), report("hv2", 0, 0)]
    assert vm_farm_assignment("lab[1-3]", capacities, state="absent") == {"lab2": "hv1"}


def test_template_defaults_count_and_a_shortage_is_refused_with_its_figures():
    capacities = [report("hv1", 1024, 4)]
    assert len(vm_farm_assignment("lab[1-2]", capacities)) == 2        # 512 MiB each by default
    with pytest.raises(AnsibleFilterError, match="labfarm.massclone.vm_farm_assignment: not enough capacity"):
        vm_farm_assignment("lab[1-3]", capacities)


@pytest.mark.parametrize("vms, capacities, template, needle", [
    ("lab[1-", [report("hv1", 1024, 4)], None, "vms: "),
    ("lab1", [{"changed": False}], None, "result 0 is not a libvirt_farm_info result"),
    ("lab1", "hv1", None, "must be a list"),
    ("lab1", [report("hv1", 1024, 4)], {"memroy_mb": 1}, "unknown key"),
])
def test_bad_inputs_are_named(vms, capacities, template, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        vm_farm_assignment(vms, capacities, template=template)


class FakeLibvirt:
    VIR_DOMAIN_XML_INACTIVE = 2

    class libvirtError(Exception):
        pass


class FakeDomain:
    def __init__(self, name, xml):
        self._name, self._xml = name, xml

    def name(self):
        return self._name

    @staticmethod
    def state():
        return [5, 0]

    @staticmethod
    def info():
        return [5, 256 * 1024, 256 * 1024, 1, 0]

    @staticmethod
    def isActive():
        return False

    def XMLDesc(self, flags):
        return self._xml


class FakeNode:
    """A test-driver-like connection: node memory (MiB) and CPUs, and the farm's domains there."""

    def __init__(self, memory_mb, cpus, vms=()):
        self.memory_mb, self.cpus = memory_mb, cpus
        tpl = check_template(TEMPLATE)
        self.domains = [FakeDomain(name, render_xml(name, wanted_spec(tpl, name, None, "/p/%s.qcow2" % name, "/b.qcow2",
                                                                      "qcow2", "test"))) for name in vms]

    def getInfo(self):
        return ["x86_64", self.memory_mb, self.cpus]

    @staticmethod
    def getCapabilities():
        return "<capabilities><guest><arch name='x86_64'><domain type='test'/></arch></guest></capabilities>"

    def listAllDomains(self, flags):
        return list(self.domains)


@pytest.mark.parametrize("distribution", ["round_robin", "even", "concentrated", "weighted"])
def test_the_role_places_as_one_libvirt_farm_call_would(distribution):
    nodes = {"hv1": FakeNode(1024, 2, vms=["lab2"]), "hv2": FakeNode(4096, 8), "hv3": FakeNode(1024, 8)}
    hypervisors = [{"name": name, "uri": "test:///default", "pool_dir": "/p"} for name in nodes]
    params = {"vms": "lab[1-12]", "hypervisors": hypervisors, "template": TEMPLATE, "backing_file": "/b.qcow2",
              "distribution": distribution, "state": "running", "start_rate": 0, "concurrency": 1, "cpu_overcommit": 1.0}
    one_call = Farm(FakeLibvirt, params, check_mode=True, connections=nodes).run()
    capacities = _info_results(nodes, hypervisors)
    assert vm_farm_assignment("lab[1-12]", capacities, template=TEMPLATE, distribution=distribution) == dict(
        (vm["name"], vm["hypervisor"]) for vm in one_call["vms"])


def _info_results(nodes, hypervisors):
    """What the role's libvirt_farm_info task registers on each hypervisor."""
    return [farm_info(FakeLibvirt, {"hypervisors": [hv], "vms": "lab[1-12]", "template": TEMPLATE},
                      connections={hv["name"]: nodes[hv["name"]]}) for hv in hypervisors]


def vm(name, hypervisor, state="running"):
    return {"name": name, "hypervisor": hypervisor, "uri": "qemu:///system", "mac": "52:54:00:00:00:01", "ip": None,
            "overlay": "/p/%s.qcow2" % name, "state": state, "uuid": "u-" + name, "action": "created", "differs": []}


def test_the_list_follows_the_names_and_takes_each_vm_from_its_hypervisor():
    results = {"hv1": {"vms": [vm("lab3", "hv1"), vm("lab1", "hv1")]},
               "hv2": {"vms": [vm("lab2", "hv2"), vm("lab1", None, state="absent")]},
               "hv3": {"skipped": True}}
    listed = vm_farm_list("lab[1-4]", results)
    assert [(v["name"], v["hypervisor"]) for v in listed] == [("lab1", "hv1"), ("lab2", "hv2"), ("lab3", "hv1")]
    assert sorted(listed[0]) == ["hypervisor", "ip", "mac", "name", "overlay", "state", "uri", "uuid"]
    with pytest.raises(AnsibleFilterError, match="results must map each hypervisor"):
        vm_farm_list("lab1", [results["hv1"]])


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["vm_farm_assignment", "vm_farm_list"]
