# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The partitions of a whole disk (an MBR or a GPT), so that each partition's file system can say what it uses.

``partition_table(read, size)`` -> ``(table, partitions, reason)``: ``table`` is ``"gpt"`` or ``"mbr"`` and
``partitions`` a list of ``{"number", "start", "end"}`` byte ranges, or ``table`` None with the reason when
there is no partition table this reader trusts: no boot signature, a GPT whose header or entry array fails its
CRC-32, a partition beyond the disk, partitions that overlap. MBR extended partitions are returned whole
(``"extended": True``): their logical partitions are sent whole too.

Pure: ``read(offset, length)`` -> bytes is the caller's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct
import zlib

SECTOR = 512
GPT_SIGNATURE = b"EFI PART"
PROTECTIVE, EXTENDED = 0xEE, (0x05, 0x0F, 0x85)


class TableError(Exception):
    """Why the partition table is not trusted."""


def _mbr(boot, size):
    parts = []
    for number in range(4):
        entry = boot[446 + 16 * number:446 + 16 * (number + 1)]
        status, kind = entry[0], entry[4]
        first, count = struct.unpack_from("<II", entry, 8)
        if kind == 0 or count == 0:
            continue
        if status not in (0x00, 0x80):
            raise TableError("MBR entry %d has the boot flag 0x%x" % (number + 1, status))
        parts.append({"number": number + 1, "start": first * SECTOR, "end": (first + count) * SECTOR,
                      "extended": kind in EXTENDED, "type": "0x%02x" % kind})
    return parts


def _gpt(read, size, sector):
    header = read(sector, 92)
    if header[:8] != GPT_SIGNATURE:
        raise TableError("a protective MBR without a GPT header")
    header_size = struct.unpack_from("<I", header, 12)[0]
    if not 92 <= header_size <= sector:
        raise TableError("GPT header size %d is not sane" % header_size)
    header = bytearray(read(sector, header_size))
    crc = struct.unpack_from("<I", header, 16)[0]
    header[16:20] = b"\0\0\0\0"
    if zlib.crc32(bytes(header)) & 0xFFFFFFFF != crc:
        raise TableError("the GPT header fails its CRC-32")
    entries_lba, count, entry_size, entries_crc = struct.unpack_from("<QIII", header, 72)
    if entry_size < 128 or entry_size % 8 or count > 4096:
        raise TableError("GPT entries (%d of %d bytes) are not sane" % (count, entry_size))
    entries = read(entries_lba * sector, count * entry_size)
    if len(entries) != count * entry_size or zlib.crc32(entries) & 0xFFFFFFFF != entries_crc:
        raise TableError("the GPT entry array fails its CRC-32")
    parts = []
    for number in range(count):
        entry = entries[number * entry_size:(number + 1) * entry_size]
        if entry[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        if last < first:
            raise TableError("GPT partition %d ends before it starts" % (number + 1))
        parts.append({"number": number + 1, "start": first * sector, "end": (last + 1) * sector, "extended": False})
    return parts


def partition_table(read, size):
    """(table, partitions, reason) of a disk image or device of ``size`` bytes."""
    if size < 2 * SECTOR:
        return None, [], "too small for a partition table"
    boot = read(0, SECTOR)
    if boot[510:512] != b"\x55\xaa":
        return None, [], "no partition table"
    try:
        parts = _mbr(boot, size)
        table = "mbr"
        if any(p["type"] == "0x%02x" % PROTECTIVE for p in parts):
            table = "gpt"
            try:
                parts = _gpt(read, size, SECTOR)
            except TableError:
                if read(4096, 8) != GPT_SIGNATURE:   # not a disk of 4 KiB sectors either: the first error says why
                    raise
                parts = _gpt(read, size, 4096)
        if not parts:
            raise TableError("an empty partition table")
        parts.sort(key=lambda p: p["start"])
        for index, part in enumerate(parts):
            if part["start"] < SECTOR or part["end"] > size:
                raise TableError("partition %d (bytes %d-%d) is not inside the disk (%d bytes)"
                                 % (part["number"], part["start"], part["end"], size))
            if index and part["start"] < parts[index - 1]["end"]:
                raise TableError("partitions %d and %d overlap" % (parts[index - 1]["number"], part["number"]))
    except (TableError, struct.error) as exc:
        return None, [], "partition table: %s" % exc
    return table, parts, None
