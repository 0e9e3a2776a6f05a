# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter labfarm.massclone.bmc_problems: what the BMC preflight of the role labfarm.massclone.netboot_server
(tasks_from bmc_check) computes from community.general.ipmi_power's answers.

Its documentation lives in bmc_problems.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.bmc import bmc_problems as _bmc_problems


def bmc_problems(nodes, results=None):
    """One message per node whose BMC is not given, does not answer, or refuses the credentials."""
    if not isinstance(nodes, list):
        raise AnsibleFilterError("labfarm.massclone.bmc_problems: the nodes must be a list, not %s" % type_name(nodes))
    if results is not None and not isinstance(results, list):
        raise AnsibleFilterError("labfarm.massclone.bmc_problems: results must be a list (a loop's .results), not %s"
                                 % type_name(results))
    return _bmc_problems(nodes, results)


class FilterModule(object):
    """The BMC preflight's filter."""

    def filters(self):
        return {"bmc_problems": bmc_problems}
