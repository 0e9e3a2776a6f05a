# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters labfarm.massclone.vm_farm_assignment and vm_farm_list: what the role labfarm.massclone.vm_farm
computes (its tasks only gather the inputs and act on the answer), with the rules of libvirt_farm itself.

Their documentation lives in vm_farm_assignment.yml and vm_farm_list.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import check_template, expand_vms
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.planner import split_assignment
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.result import gather_vms


def _list(value, what, name):
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("labfarm.massclone.%s: %s must be a list, not %s" % (name, what, type_name(value)))
    return list(value)


def _reports(capacities):
    """The hypervisor entries of libvirt_farm_info results, in order."""
    reports = []
    for index, info in enumerate(_list(capacities, "the libvirt_farm_info results", "vm_farm_assignment")):
        entries = info.get("hypervisors") if isinstance(info, dict) else None
        if not isinstance(entries, list) or not all(
                isinstance(entry, dict) and {"name", "farm_vms", "placement_host"} <= set(entry) for entry in entries):
            raise AnsibleFilterError("labfarm.massclone.vm_farm_assignment: result %d is not a libvirt_farm_info result "
                                     "(hypervisors with name, farm_vms and placement_host)" % index)
        reports.extend(entries)
    return reports


def vm_farm_assignment(vms, capacities, template=None, distribution="round_robin", cpu_overcommit=1.0, state="running"):
    """{VM: hypervisor} for libvirt_farm's assignment: the VMs that exist stay, the missing are placed."""
    try:
        return split_assignment(expand_vms(vms), _reports(capacities), check_template(template), distribution,
                                cpu_overcommit, state)
    except FarmError as exc:
        raise AnsibleFilterError("labfarm.massclone.vm_farm_assignment: %s" % to_native(exc.msg))


def vm_farm_list(vms, results):
    """The VMs of several libvirt_farm calls (``results``: each hypervisor's result) in the order of ``vms``."""
    if not isinstance(results, dict):
        raise AnsibleFilterError("labfarm.massclone.vm_farm_list: results must map each hypervisor to its libvirt_farm "
                                 "result, not %s" % type_name(results))
    try:
        names = expand_vms(vms)
    except FarmError as exc:
        raise AnsibleFilterError("labfarm.massclone.vm_farm_list: %s" % to_native(exc.msg))
    return gather_vms(names, [(hv, result if isinstance(result, dict) else {}) for hv, result in results.items()])


class FilterModule(object):
    """The vm_farm role's filters."""

    def filters(self):
        return {"vm_farm_assignment": vm_farm_assignment, "vm_farm_list": vm_farm_list}
