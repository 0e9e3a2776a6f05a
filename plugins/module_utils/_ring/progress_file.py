# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The progress file of a ring node (ring_copy's progress_file), rewritten every second by the source's
and each receiver's report loop, read by the ring_progress action. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write


def write_progress_file(path, document):
    """Replace the progress file with ``document`` as JSON; no fsync (it is rewritten every second),
    and a failure is not the session's."""
    if not path:
        return
    try:
        atomic_write(path, json.dumps(document).encode("utf-8"), fsync=False)
    except OSError:
        pass
