# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""How an item is cut into segments, and its digest: the same on every node and in every run.

* Items are cut on a fixed grid of ``chunk`` bytes, split again where data meets a hole.
* An item's digest is SHA-256 over the list of its segments (offset, length, kind, chunk checksum):
  the same grid on every node, so a receiver's digest equals the source's only when every chunk it
  wrote had the source's checksum. Holes and unused ranges enter with their kind and checksum 0: the
  digest covers the bytes sent and where the rest is, not the content of space the file system does
  not use.

Pure: the files are read in ``items``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import struct

# DATA: bytes sent; HOLE: zeros (a sparse file's hole, an all-zero chunk); UNUSED: space the item's file system
# does not use (filesystem-aware transfer): a hole in a file target, left as it is on a block device
KIND_DATA, KIND_HOLE, KIND_UNUSED = 0, 1, 2
RECORD = struct.Struct("!QIBQ")


def item_digest(records):
    """SHA-256 of an item's segment list; records: (offset, length, kind, checksum) in order."""
    digest = hashlib.sha256()
    for rec in records:
        digest.update(RECORD.pack(*rec))
    return digest.hexdigest()


def grid_segments(extents, size, chunk, start=0):
    """Cut [start, size) on the chunk grid, split where data meets a hole.
    extents: sorted (offset, end) data regions. Yields (offset, length, is_data)."""
    pos = start
    for data_start, data_end in list(extents) + [(size, size)]:
        if data_end <= pos and data_start < size:
            continue
        data_start = max(data_start, pos)
        for kind_start, kind_end, is_data in ((pos, data_start, False), (data_start, data_end, True)):
            cursor = kind_start
            while cursor < kind_end:
                cell_end = min(kind_end, (cursor // chunk + 1) * chunk)
                yield cursor, cell_end - cursor, is_data
                cursor = cell_end
        pos = max(pos, data_end)
        if pos >= size:
            return
