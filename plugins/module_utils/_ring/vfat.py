# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The clusters a FAT12/16/32 file system uses, from its first FAT.

``vfat_used(read, size)`` -> ``(used, info)``: ``used`` the sorted byte ranges [(start, end)]: the reserved
sectors (boot sector, FSInfo, backup boot sector), every FAT, the FAT12/16 root directory, and each cluster
whose FAT entry is not zero (free). None, with ``info["reason"]``, when this is not a FAT file system whose
boot sector and FAT look sane (signature, geometry, media byte in FAT[0], a file system no larger than
the item).

Pure: ``read(offset, length)`` -> bytes is the caller's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import array
import struct
import sys


class FatError(Exception):
    """Why this item's FAT is not used."""


def _geometry(boot, size):
    if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
        raise FatError("no boot sector signature")
    if boot[0] not in (0xEB, 0xE9):
        raise FatError("no jump instruction in the boot sector")
    bps, spc, reserved, nfats, root_entries, total16, media, fatsz16 = struct.unpack_from("<HBHBHHBH", boot, 11)
    total32, fatsz32 = struct.unpack_from("<II", boot, 32)
    if bps not in (512, 1024, 2048, 4096) or spc == 0 or spc & (spc - 1) or spc > 128:
        raise FatError("bytes per sector %d or sectors per cluster %d are not sane" % (bps, spc))
    if reserved == 0 or nfats == 0 or media not in (0xF0,) + tuple(range(0xF8, 0x100)):
        raise FatError("reserved sectors %d, FAT count %d or media byte 0x%x are not sane" % (reserved, nfats, media))
    total = total16 or total32
    fatsz = fatsz16 or fatsz32
    if not total or not fatsz:
        raise FatError("no sector count or FAT size")
    if total * bps > size:
        raise FatError("the file system (%d sectors of %d bytes) is larger than the item (%d bytes)" % (total, bps, size))
    root_sectors = (root_entries * 32 + bps - 1) // bps
    first_data = reserved + nfats * fatsz + root_sectors
    if first_data >= total:
        raise FatError("its FATs and root directory fill the whole file system")
    clusters = (total - first_data) // spc
    bits = 12 if clusters < 4085 else 16 if clusters < 65525 else 32
    if bits == 32 and (fatsz16 or root_entries):
        raise FatError("%d clusters make it FAT32, but the boot sector is FAT12/16's" % clusters)
    if fatsz * bps < ((clusters + 2) * bits + 7) // 8:
        raise FatError("a FAT of %d sectors cannot hold %d clusters" % (fatsz, clusters))
    return {"bps": bps, "spc": spc, "reserved": reserved, "fatsz": fatsz, "first_data": first_data,
            "clusters": clusters, "bits": bits, "media": media, "total": total}


def _entries(fat, bits, count):
    """The first ``count`` FAT entries as integers."""
    if bits == 12:
        out = []
        for index in range(count):
            pair = fat[index * 3 // 2] | fat[index * 3 // 2 + 1] << 8
            out.append(pair >> 4 if index & 1 else pair & 0xFFF)
        return out
    values = array.array("H" if bits == 16 else "I")
    if values.itemsize != bits // 8:
        values = array.array("I" if bits == 16 else "L")
    values.frombytes(bytes(fat[:count * (bits // 8)]))
    if sys.byteorder != "little":
        values.byteswap()
    if bits == 32:
        return [value & 0x0FFFFFFF for value in values]
    return values


def vfat_used(read, size):
    """(used byte ranges, info) of the FAT file system in an item of ``size`` bytes, or (None, info
    with ``reason``)."""
    boot = read(0, 512)
    try:
        geo = _geometry(boot, size)
        fat = read(geo["reserved"] * geo["bps"], geo["fatsz"] * geo["bps"])
        entries = _entries(fat, geo["bits"], geo["clusters"] + 2)
    except (FatError, struct.error, IndexError) as exc:
        # a FAT type label (FAT12/FAT16 at 0x36, FAT32 at 0x52) says it is one we refused, not something else
        recognised = boot[0x36:0x39] == b"FAT" or boot[0x52:0x57] == b"FAT32"
        return None, {"filesystem": None, "reason": "vfat: %s" % exc, "recognised": recognised}
    if len(entries) < geo["clusters"] + 2 or entries[0] & 0xFF != geo["media"]:
        return None, {"filesystem": None, "reason": "vfat: FAT[0] does not hold the media byte 0x%x" % geo["media"],
                      "recognised": True}
    bps, cluster = geo["bps"], geo["bps"] * geo["spc"]
    data = geo["first_data"] * bps
    used = [(0, data)]
    for number in range(2, geo["clusters"] + 2):
        if entries[number]:
            start = data + (number - 2) * cluster
            if used[-1][1] == start:
                used[-1] = (used[-1][0], start + cluster)
            else:
                used.append((start, start + cluster))
    return used, {"filesystem": "vfat", "reason": None, "fat_bits": geo["bits"], "cluster_size": cluster,
                  "clusters": geo["clusters"], "used_bytes": sum(end - start for start, end in used)}
