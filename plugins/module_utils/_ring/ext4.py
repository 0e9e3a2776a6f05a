# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The blocks an ext2/ext3/ext4 file system uses, from its own allocation bitmaps (KA's and Frisbee's trick).

``ext4_used(read, size)`` -> ``(used, info)``: ``used`` the sorted byte ranges [(start, end)] the file system
uses, or None when this is not an ext file system that can be read safely; ``info`` says what was found
(block size, block count, used bytes) or why the whole item must be copied instead.

What counts as used: block 0 (the boot sector and the superblock), every block its group's bitmap marks,
and for a group whose bitmap was never initialised (BLOCK_UNINIT, trusted only with group descriptor
checksums) the blocks the kernel would mark: the backup superblock and descriptor blocks, and the group's
own bitmaps and inode table. Anything that makes the bitmaps doubtful is a reason to copy the whole item:
a bad magic or checksum, a file system larger than the item, an incompatible feature that changes the layout
(meta_bg, bigalloc, an external journal, compression), a journal that needs recovery (mounted, or not
unmounted cleanly), a bitmap that does not mark a group's own metadata, or whose free count differs from its
descriptor's.

Pure: ``read(offset, length)`` -> bytes is the caller's (a mapped file or device).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import struct

SUPERBLOCK = 1024
MAGIC = 0xEF53

# feature bits (linux/fs/ext4/ext4.h)
COMPAT_SPARSE_SUPER2 = 0x200
INCOMPAT_NAMES = {0x1: "compression", 0x2: "filetype", 0x4: "needs_recovery", 0x8: "journal_dev", 0x10: "meta_bg",
                  0x40: "extent", 0x80: "64bit", 0x100: "mmp", 0x200: "flex_bg", 0x400: "ea_inode",
                  0x1000: "dirdata", 0x2000: "metadata_csum_seed", 0x4000: "large_dir", 0x8000: "inline_data",
                  0x10000: "encrypt", 0x20000: "casefold"}
INCOMPAT_RECOVER, INCOMPAT_64BIT, INCOMPAT_CSUM_SEED = 0x4, 0x80, 0x2000
# features that change where blocks are or what a bitmap bit means: not read here
INCOMPAT_REFUSED = 0x1 | 0x8 | 0x10
INCOMPAT_KNOWN = sum(INCOMPAT_NAMES)
RO_COMPAT_SPARSE_SUPER, RO_COMPAT_GDT_CSUM, RO_COMPAT_BIGALLOC, RO_COMPAT_METADATA_CSUM = 0x1, 0x10, 0x200, 0x400
BG_BLOCK_UNINIT = 0x2
STATE_VALID, STATE_ERROR = 0x1, 0x2

_FULL = re.compile(b"\xff+")
_SET = re.compile(b"[^\x00]+")


def _crc_table(poly):
    table = []
    for byte in range(256):
        crc = byte
        for dummy in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc_table(0x82F63B78)
_CRC16 = _crc_table(0xA001)


def crc32c(crc, data):
    """The kernel's crc32c_le(crc, data): reflected Castagnoli, no final inversion (ext4_chksum)."""
    table = _CRC32C
    for byte in bytearray(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def crc16(crc, data):
    """The kernel's crc16(crc, data) (polynomial 0x8005 reflected), used by uninit_bg descriptors."""
    table = _CRC16
    for byte in bytearray(data):
        crc = (table[(crc ^ byte) & 0xFF] ^ (crc >> 8)) & 0xFFFF
    return crc


def bit_runs(bitmap, nbits):
    """Runs [(first, end)] of set bits among the first ``nbits`` of an ext4 bitmap (bit i of byte j is
    item 8j+i). Whole 0xff bytes are found by regular expression, so a full bitmap costs one match."""
    runs = []
    data = bytes(bitmap[:(nbits + 7) // 8])

    def add(first, end):
        end = min(end, nbits)
        if first >= end:
            return
        if runs and runs[-1][1] == first:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((first, end))

    for span in _SET.finditer(data):
        pos = span.start()
        for full in _FULL.finditer(data, span.start(), span.end()):
            for index in range(pos, full.start()):
                _byte_runs(data[index], index * 8, add)
            add(full.start() * 8, full.end() * 8)
            pos = full.end()
        for index in range(pos, span.end()):
            _byte_runs(data[index], index * 8, add)
    return runs


def _byte_runs(value, base, add):
    for bit in range(8):
        if value >> bit & 1:
            add(base + bit, base + bit + 1)


class Ext4Error(Exception):
    """Why this item's bitmaps are not used (the whole item is copied)."""


class Superblock:
    """The fields of an ext superblock this reader needs, checked for sanity."""

    def __init__(self, raw, size):
        if len(raw) < 1024:
            raise Ext4Error("the item is too small for an ext superblock")
        (self.inodes, blocks_lo, dummy_reserved, dummy_free_blocks, dummy_free_inodes, self.first_data_block, log_block,
         log_cluster, self.blocks_per_group, dummy_clusters, self.inodes_per_group) = struct.unpack_from("<11I", raw, 0)
        magic, self.state = struct.unpack_from("<HH", raw, 0x38)
        if magic != MAGIC:
            raise Ext4Error("no ext2/3/4 magic")
        self.rev = struct.unpack_from("<I", raw, 0x4C)[0]
        self.inode_size = struct.unpack_from("<H", raw, 0x58)[0] if self.rev else 128
        self.compat, self.incompat, self.ro_compat = struct.unpack_from("<3I", raw, 0x5C) if self.rev else (0, 0, 0)
        self.uuid = raw[0x68:0x78]
        self.reserved_gdt = struct.unpack_from("<H", raw, 0xCE)[0] if self.rev else 0
        self.backup_bgs = struct.unpack_from("<2I", raw, 0x24C)
        self.is64 = bool(self.incompat & INCOMPAT_64BIT)
        self.desc_size = struct.unpack_from("<H", raw, 0xFE)[0] if self.is64 else 32
        blocks_hi = struct.unpack_from("<I", raw, 0x150)[0] if self.is64 else 0
        self.blocks = blocks_lo | blocks_hi << 32
        self.raw = raw
        if log_block > 6:
            raise Ext4Error("block size 2^%d KiB is not an ext block size" % log_block)
        self.block_size = 1024 << log_block
        self._check(log_block, log_cluster, size)
        self.groups = (self.blocks - self.first_data_block + self.blocks_per_group - 1) // self.blocks_per_group
        if self.inodes != self.groups * self.inodes_per_group:
            raise Ext4Error("the superblock's inode count (%d) is not its %d groups of %d inodes"
                            % (self.inodes, self.groups, self.inodes_per_group))
        self.csum_seed = None
        if self.ro_compat & RO_COMPAT_METADATA_CSUM:
            if crc32c(0xFFFFFFFF, raw[:0x3FC]) != struct.unpack_from("<I", raw, 0x3FC)[0]:
                raise Ext4Error("the superblock's checksum is wrong")
            if self.incompat & INCOMPAT_CSUM_SEED:
                self.csum_seed = struct.unpack_from("<I", raw, 0x270)[0]
            else:
                self.csum_seed = crc32c(0xFFFFFFFF, self.uuid)

    def _check(self, log_block, log_cluster, size):
        unknown = self.incompat & ~INCOMPAT_KNOWN
        refused = self.incompat & INCOMPAT_REFUSED
        if unknown:
            raise Ext4Error("unknown incompatible features 0x%x" % unknown)
        if refused:
            raise Ext4Error("features %s change the layout this reader knows"
                            % ", ".join(n for bit, n in sorted(INCOMPAT_NAMES.items()) if refused & bit))
        if self.ro_compat & RO_COMPAT_BIGALLOC or log_cluster != log_block:
            raise Ext4Error("bigalloc (clusters of several blocks) is not read here")
        if self.incompat & INCOMPAT_RECOVER:
            raise Ext4Error("its journal needs recovery (mounted, or not unmounted cleanly)")
        if self.state & STATE_ERROR or not self.state & STATE_VALID:
            raise Ext4Error("its state is not clean (state 0x%x: mounted, or errors; run e2fsck)" % self.state)
        if self.blocks_per_group == 0 or self.blocks_per_group > 8 * self.block_size or self.blocks_per_group % 8:
            raise Ext4Error("%d blocks per group do not fit one bitmap block" % self.blocks_per_group)
        if self.inodes_per_group == 0 or self.inode_size < 128 or self.inode_size > self.block_size:
            raise Ext4Error("inodes per group %d or inode size %d are not sane" % (self.inodes_per_group, self.inode_size))
        if self.first_data_block != (1 if self.block_size == 1024 else 0):
            raise Ext4Error("first data block %d does not match block size %d" % (self.first_data_block, self.block_size))
        if self.is64 and (self.desc_size < 64 or self.desc_size > 1024 or self.desc_size & (self.desc_size - 1)):
            raise Ext4Error("descriptor size %d is not sane for a 64bit file system" % self.desc_size)
        if self.blocks <= self.first_data_block:
            raise Ext4Error("block count %d is not sane" % self.blocks)
        if self.blocks * self.block_size > size:
            raise Ext4Error("the file system (%d blocks of %d bytes) is larger than the item (%d bytes)"
                            % (self.blocks, self.block_size, size))

    def has_super(self, group):
        """Whether a group holds a superblock (and descriptor) backup."""
        if group == 0:
            return True
        if self.compat & COMPAT_SPARSE_SUPER2:
            return group in self.backup_bgs
        if not self.ro_compat & RO_COMPAT_SPARSE_SUPER or group == 1:
            return True
        for base in (3, 5, 7):
            power = base
            while power < group:
                power *= base
            if power == group:
                return True
        return False

    @property
    def has_desc_csum(self):
        return bool(self.ro_compat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM))

    def desc_checksum(self, group, desc):
        """A group descriptor's checksum as the kernel computes it (metadata_csum or uninit_bg)."""
        number = struct.pack("<I", group)
        if self.ro_compat & RO_COMPAT_METADATA_CSUM:
            crc = crc32c(self.csum_seed, number)
            crc = crc32c(crc, desc[:0x1E] + b"\0\0" + desc[0x20:])
            return crc & 0xFFFF
        crc = crc16(0xFFFF, self.uuid)
        crc = crc16(crc, number)
        crc = crc16(crc, desc[:0x1E])
        if self.is64 and len(desc) > 0x20:
            crc = crc16(crc, desc[0x20:])
        return crc


class Group:
    """One block group's descriptor: where its bitmaps and inode table are, its flags, its free count."""

    def __init__(self, sb, number, desc):
        self.number = number
        self.start = sb.first_data_block + number * sb.blocks_per_group
        self.count = min(sb.blocks_per_group, sb.blocks - self.start)
        lo = struct.unpack_from("<IIIHHHH", desc, 0)
        hi = struct.unpack_from("<IIIH", desc, 0x20) if sb.is64 else (0, 0, 0, 0)
        self.block_bitmap = lo[0] | hi[0] << 32
        self.inode_bitmap = lo[1] | hi[1] << 32
        self.inode_table = lo[2] | hi[2] << 32
        self.free = lo[3] | hi[3] << 16
        self.flags = lo[6]
        self.checksum = struct.unpack_from("<H", desc, 0x1E)[0]
        self.table_blocks = (sb.inodes_per_group * sb.inode_size + sb.block_size - 1) // sb.block_size

    def metadata(self):
        """[(first, end)] blocks of this group's own bitmaps and inode table."""
        return [(self.block_bitmap, self.block_bitmap + 1), (self.inode_bitmap, self.inode_bitmap + 1),
                (self.inode_table, self.inode_table + self.table_blocks)]


def _merge(runs):
    merged = []
    for first, end in sorted(runs):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((first, end))
    return merged


def _covered(runs, first, end):
    """Whether the sorted, merged block runs cover [first, end)."""
    for run_first, run_end in runs:
        if run_first <= first and end <= run_end:
            return True
        if run_first > first:
            return False
    return False


def ext4_used(read, size):
    """(used byte ranges, info) of the ext file system in an item of ``size`` bytes; (None, info with
    ``reason``) when there is none or its bitmaps cannot be trusted."""
    if size < SUPERBLOCK + 1024:
        return None, {"filesystem": None, "reason": "too small for an ext file system"}
    raw = read(SUPERBLOCK, 1024)
    if struct.unpack_from("<H", raw, 0x38)[0] != MAGIC:
        return None, {"filesystem": None, "reason": "no ext2/3/4 magic"}
    try:
        sb = Superblock(raw, size)
        runs = _used_blocks(sb, read)
    except (Ext4Error, struct.error) as exc:
        return None, {"filesystem": None, "reason": "ext4: %s" % exc, "recognised": True}
    bs = sb.block_size
    # block 0 holds the boot sector and, with 1 KiB blocks, is outside every group: always sent
    used = _merge([(0, sb.first_data_block + 1)] + runs)
    extents = [(first * bs, end * bs) for first, end in used]
    return extents, {"filesystem": "ext4", "reason": None, "block_size": bs, "blocks": sb.blocks, "groups": sb.groups,
                     "used_bytes": sum(end - first for first, end in extents)}


def _used_blocks(sb, read):
    bs = sb.block_size
    gdt_start = (sb.first_data_block + 1) * bs
    gdt_blocks = (sb.groups * sb.desc_size + bs - 1) // bs
    table = read(gdt_start, sb.groups * sb.desc_size)
    if len(table) < sb.groups * sb.desc_size:
        raise Ext4Error("the group descriptors are beyond the item")
    groups = []
    for number in range(sb.groups):
        desc = table[number * sb.desc_size:(number + 1) * sb.desc_size]
        group = Group(sb, number, desc)
        if sb.has_desc_csum and sb.desc_checksum(number, desc) != group.checksum:
            raise Ext4Error("group %d's descriptor checksum is wrong" % number)
        for first, end in group.metadata():
            if first < sb.first_data_block or end > sb.blocks:
                raise Ext4Error("group %d's bitmaps or inode table (blocks %d-%d) are outside the file system"
                                % (number, first, end - 1))
        groups.append(group)
    runs = []
    base_meta = 1 + gdt_blocks + sb.reserved_gdt
    for group in groups:
        if sb.has_desc_csum and group.flags & BG_BLOCK_UNINIT:
            # never initialised: the kernel's view (ext4_init_block_bitmap) is the backups and its own metadata
            if group.number == sb.groups - 1:
                raise Ext4Error("the last group (%d) is marked BLOCK_UNINIT" % group.number)
            if sb.has_super(group.number):
                runs.append((group.start, group.start + base_meta))
            for first, end in group.metadata():
                if group.start <= first and end <= group.start + group.count:
                    runs.append((first, end))
            continue
        bitmap = read(group.block_bitmap * bs, bs)
        group_runs = bit_runs(bitmap, group.count)
        used = sum(end - first for first, end in group_runs)
        if group.count - used != group.free:
            raise Ext4Error("group %d's bitmap has %d free blocks, its descriptor says %d"
                            % (group.number, group.count - used, group.free))
        if sb.has_super(group.number) and (not group_runs or group_runs[0][0] != 0):
            raise Ext4Error("group %d's bitmap does not mark its superblock backup" % group.number)
        runs.extend((group.start + first, group.start + end) for first, end in group_runs)
    runs = _merge(runs)
    for group in groups:
        for first, end in group.metadata():
            if not _covered(runs, first, end):
                raise Ext4Error("the bitmaps do not mark group %d's bitmaps and inode table (blocks %d-%d) as used"
                                % (group.number, first, end - 1))
    return runs
