# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter labfarm.massclone.mass_clone_store_check: the mass_clone role's judgement of the GNS3 servers of a
shared store (_gns3/store.py). This file checks the values the role hands over; the documentation lives in
mass_clone_store_check.yml beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six import string_types

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.store import StoreError, judge_store


def mass_clone_store_check(probes, token, redistribute=False):
    """{up, down, unmounted, versions, errors} of the servers' probes."""
    plugin = "labfarm.massclone.mass_clone_store_check"
    if isinstance(probes, string_types) or not isinstance(probes, (list, tuple)):
        raise AnsibleFilterError("%s: the input must be the list of the servers' probes, got %s" % (plugin, type_name(probes)))
    if not isinstance(token, string_types) or not token:
        raise AnsibleFilterError("%s: token must be the marker's non-empty text, got %s" % (plugin, type_name(token)))
    if not isinstance(redistribute, bool):
        raise AnsibleFilterError("%s: redistribute must be a boolean, got %s" % (plugin, type_name(redistribute)))
    try:
        return judge_store([dict(probe) if isinstance(probe, dict) else probe for probe in probes],
                           to_native(token), redistribute=redistribute)
    except StoreError as exc:
        raise AnsibleFilterError("%s: %s" % (plugin, to_native(exc)))


class FilterModule(object):
    """The mass_clone role's shared store."""

    def filters(self):
        return {"mass_clone_store_check": mass_clone_store_check}
