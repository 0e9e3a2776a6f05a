# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Transitional: the range engine now lives in expand.py (reading) and fold.py (writing).

Kept only until every importer has switched; new code imports from those two files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import NodeRangeError, expand  # noqa: F401
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.fold import fold, nodesort  # noqa: F401

__all__ = ["NodeRangeError", "expand", "fold", "nodesort"]
