# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Filesystem-aware transfer: which byte ranges of a raw item its file system uses.

* ``used_extents(read, size)`` -> ``(extents, info)``: the used ranges of the ext2/3/4 (``ext4``) or FAT
  (``vfat``) file system the item holds, or of a whole disk's partitions (``partitions``: an MBR or GPT,
  each partition by its own file system, the rest whole), small gaps closed (``MIN_GAP``); or (None,
  info) with ``info["reason"]`` saying why the whole item is copied (no file system recognised, or one
  whose bitmaps do not look sane).
* ``intersect(a, b)``: the ranges in both (the data extents of a sparse file and the used blocks).
* ``FreeMap``: whether a segment lies wholly in space the file system does not use (sent as an
  unused hole: left as it is on a block device target).

Pure: ``read(offset, length)`` -> bytes is the caller's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect

from ansible_collections.labfarm.massclone.plugins.module_utils._ring.ext4 import ext4_used
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.partitions import partition_table
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.vfat import vfat_used

# free gaps smaller than this between used ranges are sent as data: fewer, larger frames
MIN_GAP = 64 << 10
READERS = (ext4_used, vfat_used)
NOT_RECOGNISED = "no ext2/3/4 or FAT file system recognised"


def close_gaps(extents, min_gap=MIN_GAP):
    """Sorted ranges with the gaps smaller than ``min_gap`` filled."""
    out = []
    for start, end in extents:
        if out and start - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def filesystem_extents(read, size):
    """(sorted used byte ranges, info) of the file system that starts at byte 0, or (None, info with the reason)."""
    reasons = []
    for reader in READERS:
        try:
            extents, info = reader(read, size)
        except (ValueError, IndexError, OverflowError) as exc:   # a reader's bug must never make a wrong copy
            extents, info = None, {"reason": "%s: %s" % (reader.__name__, exc), "recognised": True}
        if extents is not None:
            extents = [(start, min(end, size)) for start, end in extents if start < size]
            return extents, dict(info, used_bytes=sum(end - start for start, end in extents))
        if info.get("recognised"):
            reasons.append(info["reason"])
    # the reason of a reader that recognised its file system but did not trust it, not "no magic" of the others
    return None, {"filesystem": None, "reason": reasons[0] if reasons else NOT_RECOGNISED}


def partitions_extents(read, size):
    """(sorted used byte ranges, info) of a whole disk: what is outside its partitions (partition table, boot
    loader, gaps) and the partitions whose file system is not recognised are used whole; the others only
    where their file system says. (None, info with the reason) when no partition has a recognised one."""
    table, parts, why = partition_table(read, size)
    if table is None:
        return None, {"filesystem": None, "reason": why}
    used, found, pos = [], [], 0
    for part in parts:
        start, end = part["start"], part["end"]
        used.append((pos, start))
        pos = end
        if part["extended"]:
            extents, info = None, {"filesystem": None, "reason": "an MBR extended partition is sent whole"}
        else:
            extents, info = filesystem_extents(lambda offset, length, base=start: read(base + offset, length), end - start)
        if extents is None:
            used.append((start, end))
            found.append({"number": part["number"], "start": start, "size": end - start, "filesystem": None,
                          "reason": info["reason"]})
        else:
            used.extend((start + first, start + last) for first, last in extents)
            found.append(dict(info, number=part["number"], start=start, size=end - start))
    used.append((pos, size))
    if not any(entry["filesystem"] for entry in found):
        return None, {"filesystem": None, "reason": "%s partition table: no file system recognised in its %d partitions (%s)"
                      % (table, len(found), "; ".join(entry["reason"] for entry in found))}
    used = [(start, end) for start, end in used if start < end]
    return used, {"filesystem": "partitions", "reason": None, "table": table, "partitions": found}


def used_extents(read, size):
    """(sorted used byte ranges, info) of the item: its file system's, or its partitions' file systems', small gaps
    closed; or (None, info with the reason the item is sent whole)."""
    extents, info = filesystem_extents(read, size)
    if extents is None and info["reason"] == NOT_RECOGNISED:
        extents, info = partitions_extents(read, size)
        if extents is None and info["reason"] == "no partition table":
            info = dict(info, reason=NOT_RECOGNISED + " and no partition table")
    if extents is None:
        return None, info
    extents = close_gaps(extents)
    return extents, dict(info, used_bytes=sum(end - start for start, end in extents))


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
