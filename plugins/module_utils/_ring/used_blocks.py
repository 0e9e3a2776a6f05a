# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Filesystem-aware transfer: which byte ranges of a raw item its file system uses.

* ``used_extents(read, size)`` -> ``(extents, info)``: the used ranges of the ext2/3/4 (``ext4``) or FAT
  (``vfat``) file system the item holds, small gaps closed (``MIN_GAP``), or (None, info) with
  ``info["reason"]`` saying why the whole item is copied (no file system recognised, or one whose
  bitmaps do not look sane).
* ``intersect(a, b)``: the ranges in both (the data extents of a sparse file and the used blocks).
* ``FreeMap``: whether a segment lies wholly in space the file system does not use (sent as an
  unused hole: left as it is on a block device target).

Pure: ``read(offset, length)`` -> bytes is the caller's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.ext4 import ext4_used
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.vfat import vfat_used

# free gaps smaller than this between used ranges are sent as data: fewer, larger frames
MIN_GAP = 64 << 10
READERS = (ext4_used, vfat_used)


def close_gaps(extents, min_gap=MIN_GAP):
    """Sorted ranges with the gaps smaller than ``min_gap`` filled."""
    out = []
    for start, end in extents:
        if out and start - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def used_extents(read, size):
    """(sorted used byte ranges, info) of the file system in the item, or (None, info with the reason)."""
    reasons = []
    for reader in READERS:
        try:
            extents, info = reader(read, size)
        except (ValueError, IndexError, OverflowError) as exc:   # a reader's bug must never make a wrong copy
            extents, info = None, {"reason": "%s: %s" % (reader.__name__, exc), "recognised": True}
        if extents is not None:
            extents = close_gaps([(start, min(end, size)) for start, end in extents if start < size])
            info = dict(info, used_bytes=sum(end - start for start, end in extents))
            return extents, info
        if info.get("recognised"):
            reasons.append(info["reason"])
    # the reason of a reader that recognised its file system but did not trust it, not "no magic" of the others
    return None, {"filesystem": None, "reason": reasons[0] if reasons else "no ext2/3/4 or FAT file system recognised"}


def intersect(first, second):
    """The ranges in both sorted range lists."""
    out = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


class FreeMap:
    """The complement of sorted used ranges: ``free(offset, length)`` says whether no used byte is in
    [offset, offset + length)."""

    def __init__(self, used):
        self.used = list(used)
        self.starts = [start for start, dummy in self.used]

    def free(self, offset, length):
        index = bisect.bisect_right(self.starts, offset) - 1
        if index >= 0 and self.used[index][1] > offset:
            return False
        nxt = index + 1
        return nxt >= len(self.used) or self.used[nxt][0] >= offset + length
