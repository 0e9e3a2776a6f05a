# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The VM farm's error: what failed and how to fix it, with what exists now."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError


class FarmError(ResultError):
    """A user-facing failure of libvirt_farm or libvirt_farm_info: ``msg`` says what and how to fix it;
    ``result`` what exists now (the VMs, what was rolled back, the capacity that did not suffice)."""
