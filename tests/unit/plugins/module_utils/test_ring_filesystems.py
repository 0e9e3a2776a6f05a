# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filesystem-aware transfer: the ext2/3/4 and FAT readers on images made by the real mkfs.ext4 and mkfs.vfat
(compared with dumpe2fs's own free block lists), copies made of the used blocks alone (over zeros, and over
stale bytes, as a block device target keeps them) checked by e2fsck/fsck.fat and by their files, the
fallbacks to a whole copy, and the source's segments."""

import filecmp
import mmap
import os
import random
import shutil
import socket
import struct
import subprocess

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.ext4 import bit_runs, crc16, crc32c, ext4_used
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import SourceItem
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import KIND_DATA, KIND_HOLE, KIND_UNUSED
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.used_blocks import FreeMap, close_gaps, intersect, used_extents
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.vfat import vfat_used

from lab.ring import Background

MiB = 1 << 20
KEY = "unit-test-ring-key-0123456789"


def need(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip("%s not installed (hack/setup.sh installs e2fsprogs, dosfstools, mtools)" % ", ".join(missing))


def stale_bytes(path, size, seed=1):
    """A file of ``size`` bytes of pseudo-random data: what deleted files leave on a disk."""
    rng = random.Random(seed)
    with open(str(path), "wb") as handle:
        for dummy in range(size // MiB):
            handle.write(rng.randbytes(MiB))


def files_dir(tmp_path, count=5, size=300000):
    tree = tmp_path / "files"
    (tree / "sub").mkdir(parents=True)
    rng = random.Random(7)
    for index in range(count):
        (tree / ("f%d.bin" % index)).write_bytes(rng.randbytes(size + index * 4097))
    (tree / "sub" / "small.txt").write_text("hello\n")
    os.symlink("f0.bin", str(tree / "link"))
    return tree


def mkfs_ext4(tmp_path, name, size, options, tree):
    image = tmp_path / name
    stale_bytes(image, size)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-d", str(tree)] + options + [str(image)],
                   check=True, capture_output=True)
    return image


def read_used(image, reader=used_extents):
    fd = os.open(str(image), os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as mapped:
            return reader(lambda offset, length: mapped[offset:offset + length], size)
    finally:
        os.close(fd)


def dumpe2fs_used(image):
    """The blocks e2fsprogs says are in use: the complement of dumpe2fs's per-group free block lists."""
    out = subprocess.run(["dumpe2fs", str(image)], capture_output=True, text=True, check=True).stdout
    blocks = int(next(line for line in out.splitlines() if line.startswith("Block count:")).split(":")[1])
    free = set()
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Free blocks: "):
            for part in line[len("Free blocks: "):].split(","):
                if part.strip():
                    first, dummy, last = part.strip().partition("-")
                    free.update(range(int(first), int(last or first) + 1))
    return set(range(blocks)) - free


def copy_used(image, extents, copy, background=None):
    """``copy``: the bytes of ``image`` in ``extents``, and elsewhere zeros (a file target) or ``background``'s
    bytes (a block device target that keeps what it held)."""
    if background is not None:
        shutil.copyfile(str(background), str(copy))
    with open(str(image), "rb") as src, open(str(copy), "r+b" if background is not None else "wb") as dst:
        dst.truncate(os.path.getsize(str(image)))
        for start, end in extents:
            src.seek(start)
            dst.seek(start)
            dst.write(src.read(end - start))


def ext4_files(image, where):
    """The files of an ext image, dumped by debugfs (no mount) into ``where``/files."""
    (where / "files").mkdir(parents=True)
    subprocess.run(["debugfs", "-R", "rdump / %s" % (where / "files"), str(image)], check=True, capture_output=True)
    return where


def same_tree(left, right, ignore=()):
    compare = filecmp.dircmp(str(left), str(right), ignore=list(ignore))
    assert not compare.left_only and not compare.right_only and not compare.diff_files, compare.report()
    for name in compare.common_files:
        assert filecmp.cmp(os.path.join(str(left), name), os.path.join(str(right), name), shallow=False)
    for sub in compare.common_dirs:
        same_tree(os.path.join(str(left), sub), os.path.join(str(right), sub))


# --------------------------------------------------------------------------------------------
# Pure helpers

def test_checksums_are_the_kernels():
    # crc32c("123456789") is 0xe3069283 with the usual pre/post inversion; the kernel's form has neither
    assert crc32c(0xFFFFFFFF, b"123456789") ^ 0xFFFFFFFF == 0xE3069283
    assert crc16(0, b"123456789") == 0xBB3D     # CRC-16/ARC


@pytest.mark.parametrize("bitmap,nbits,want", [
    (b"\x00\x00", 16, []),
    (b"\xff\xff", 16, [(0, 16)]),
    (b"\xff\xff", 12, [(0, 12)]),
    (b"\x01\x80", 16, [(0, 1), (15, 16)]),
    (b"\xf0\xff\x0f", 24, [(4, 20)]),
    (b"\x05\x00\xff\x01", 32, [(0, 1), (2, 3), (16, 25)]),
])
def test_bit_runs(bitmap, nbits, want):
    assert bit_runs(bitmap, nbits) == want
    bits = [i for i in range(nbits) if bitmap[i // 8] >> (i % 8) & 1]
    assert [i for first, end in want for i in range(first, end)] == bits


def test_extent_helpers():
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert intersect([(0, 10)], []) == []
    assert close_gaps([(0, 10), (15, 20), (100, 110)], min_gap=10) == [(0, 20), (100, 110)]
    free = FreeMap([(10, 20), (40, 50)])
    assert free.free(0, 10) and free.free(20, 20) and free.free(50, 100)
    assert not free.free(0, 11) and not free.free(15, 1) and not free.free(19, 30) and not free.free(30, 11)


# --------------------------------------------------------------------------------------------
# ext2/3/4 on images made by mkfs.ext4

EXT4_FEATURES = {
    "default": [],
    "no_flex_bg": ["-O", "^flex_bg"],
    "64bit": ["-O", "64bit"],
    "no_64bit": ["-O", "^64bit"],
    "1k_blocks": ["-b", "1024"],
    "uninit_bg": ["-O", "^metadata_csum,uninit_bg"],
    "no_checksums": ["-O", "^metadata_csum,^uninit_bg"],
    "ext2": ["-t", "ext2"],
    "sparse_super2": ["-O", "sparse_super2"],
}


@pytest.mark.parametrize("features", sorted(EXT4_FEATURES))
def test_ext4_used_blocks_are_exactly_e2fsprogs_and_a_copy_of_them_is_the_same_file_system(tmp_path, features):
    need("mkfs.ext4", "dumpe2fs", "debugfs", "e2fsck")
    tree = files_dir(tmp_path)
    # 48 MiB in groups of 4096 blocks: 3 groups of 4 KiB blocks, 12 of 1 KiB; the stale bytes stay in free space
    image = mkfs_ext4(tmp_path, "fs.img", 48 * MiB, ["-g", "4096"] + EXT4_FEATURES[features], tree)
    used, info = read_used(image, ext4_used)
    assert info["filesystem"] == "ext4", info
    block = info["block_size"]
    mine = set(b for start, end in used for b in range(start // block, end // block))
    assert mine == dumpe2fs_used(image)
    assert info["used_bytes"] < 24 * MiB

    original = tmp_path / "original"
    original.mkdir()
    ext4_files(image, original)
    same_tree(tree, original / "files", ignore=["lost+found"])
    for name, background in (("zeros", None), ("stale", tmp_path / "stale.img")):
        if background is not None:
            stale_bytes(background, 48 * MiB, seed=2)
        copy = tmp_path / ("copy-%s.img" % name)
        copy_used(image, used, copy, background)
        fsck = subprocess.run(["e2fsck", "-f", "-n", str(copy)], capture_output=True, text=True, check=False)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        out = tmp_path / ("out-%s" % name)
        out.mkdir()
        same_tree(original, ext4_files(copy, out))


def test_ext4_block_uninit_groups_and_a_1_gib_sparse_image(tmp_path):
    need("mkfs.ext4", "dumpe2fs")
    image = tmp_path / "big.img"
    with open(str(image), "wb") as handle:
        handle.truncate(1 << 30)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", str(image)], check=True, capture_output=True)
    assert "BLOCK_UNINIT" in subprocess.run(["dumpe2fs", str(image)], capture_output=True, text=True, check=False).stdout
    used, info = read_used(image, ext4_used)
    assert info["groups"] == 8
    mine = set(b for start, end in used for b in range(start // 4096, end // 4096))
    assert mine == dumpe2fs_used(image)


def corrupt(image, offset, data):
    with open(str(image), "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def sb_field(image, offset, fmt):
    with open(str(image), "rb") as handle:
        handle.seek(1024 + offset)
        return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]


@pytest.mark.parametrize("damage,reason", [
    ("magic", "no ext2/3/4 or FAT file system recognised"),
    ("shorter", "larger than the item"),
    ("recovery", "journal needs recovery"),
    ("not_clean", "state is not clean"),
    ("meta_bg", "meta_bg"),
    ("unknown_incompat", "unknown incompatible features 0x80000000"),
    ("bitmap", "free blocks, its descriptor says"),
    ("descriptor", "descriptor checksum is wrong"),
    ("superblock_csum", "superblock's checksum is wrong"),
])
def test_ext4_that_does_not_look_sane_is_sent_whole_with_the_reason(tmp_path, damage, reason):
    need("mkfs.ext4")
    tree = files_dir(tmp_path, count=1)
    options = [] if damage in ("descriptor", "superblock_csum") else ["-O", "^metadata_csum,uninit_bg"]
    image = mkfs_ext4(tmp_path, "fs.img", 32 * MiB, options + ["-b", "4096"], tree)
    if damage == "magic":
        corrupt(image, 1024 + 0x38, b"\0\0")
    elif damage == "shorter":
        with open(str(image), "r+b") as handle:
            handle.truncate(31 * MiB)
    elif damage in ("recovery", "meta_bg", "unknown_incompat"):
        bit = {"recovery": 0x4, "meta_bg": 0x10, "unknown_incompat": 0x80000000}[damage]
        corrupt(image, 1024 + 0x60, struct.pack("<I", sb_field(image, 0x60, "<I") | bit))
    elif damage == "not_clean":
        corrupt(image, 1024 + 0x3A, struct.pack("<H", 0))
    elif damage == "bitmap":
        # group 0's block bitmap, as its descriptor says: mark one more block used than the count says
        bitmap = struct.unpack("<I", open(str(image), "rb").read()[4096:4100])[0] * 4096
        data = open(str(image), "rb").read()
        last = data[bitmap:bitmap + 1024].rstrip(b"\0")
        corrupt(image, bitmap + len(last) + 8, b"\x01")
    elif damage == "descriptor":
        corrupt(image, 4096 + 0x0C, b"\x00\x00")    # group 0's free count, without its checksum
    elif damage == "superblock_csum":
        corrupt(image, 1024 + 0x3A, struct.pack("<H", 1 | 4))
    used, info = read_used(image)
    assert used is None
    assert reason in info["reason"], info


def test_ext4_layouts_this_reader_does_not_know_are_sent_whole(tmp_path):
    need("mkfs.ext4")
    tree = files_dir(tmp_path, count=1)
    for name, options, reason in (("meta_bg", ["-O", "^resize_inode,meta_bg"], "meta_bg"),
                                  ("bigalloc", ["-O", "bigalloc", "-C", "16384"], "bigalloc")):
        image = mkfs_ext4(tmp_path, name + ".img", 64 * MiB, options, tree)
        used, info = read_used(image)
        assert used is None and reason in info["reason"], info


# --------------------------------------------------------------------------------------------
# FAT12/16/32 on images made by mkfs.vfat

@pytest.mark.parametrize("bits,size", [(12, 4), (16, 32), (32, 64)])
def test_vfat_used_clusters_and_a_copy_of_them_is_the_same_file_system(tmp_path, bits, size):
    need("mkfs.vfat", "mcopy", "mdir", "fsck.fat")
    image = tmp_path / "fat.img"
    stale_bytes(image, size * MiB)
    subprocess.run(["mkfs.vfat", "-F", str(bits), str(image)], check=True, capture_output=True)
    tree = files_dir(tmp_path, count=2, size=100000 if bits == 12 else 400000)
    os.remove(str(tree / "link"))
    subprocess.run(["mcopy", "-s", "-i", str(image)] + [str(p) for p in sorted(tree.iterdir())] + ["::"],
                   check=True, capture_output=True)
    used, info = read_used(image, vfat_used)
    assert info["filesystem"] == "vfat" and info["fat_bits"] == bits, info
    assert info["used_bytes"] < os.path.getsize(str(image)) // 2
    for name, background in (("zeros", None), ("stale", tmp_path / "stale.img")):
        if background is not None:
            stale_bytes(background, size * MiB, seed=3)
        copy = tmp_path / ("copy-%s.img" % name)
        copy_used(image, used, copy, background)
        fsck = subprocess.run(["fsck.fat", "-n", str(copy)], capture_output=True, text=True, check=False)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        out = tmp_path / ("out-%s" % name)
        out.mkdir()
        subprocess.run(["mcopy", "-s", "-n", "-i", str(copy), "::*", str(out)], check=True, capture_output=True)
        same_tree(tree, out)


def test_a_boot_sector_that_is_not_a_sane_fat_is_sent_whole(tmp_path):
    need("mkfs.vfat")
    image = tmp_path / "fat.img"
    with open(str(image), "wb") as handle:
        handle.truncate(32 * MiB)
    subprocess.run(["mkfs.vfat", "-F", "16", str(image)], check=True, capture_output=True)
    corrupt(image, 0x15, b"\x12")    # the media byte
    used, info = read_used(image)
    assert used is None and info["reason"].startswith("vfat: "), info
    corrupt(image, 0x15, b"\xf8")
    assert read_used(image)[0] is not None
    with open(str(image), "r+b") as handle:
        handle.truncate(16 * MiB)
    used, info = read_used(image)
    assert used is None and "larger than the item" in info["reason"], info


# --------------------------------------------------------------------------------------------
# The source's segments

def test_a_source_item_holding_ext4_sends_its_used_blocks_and_the_rest_as_unused_holes(tmp_path):
    need("mkfs.ext4")
    tree = files_dir(tmp_path)
    image = mkfs_ext4(tmp_path, "fs.img", 128 * MiB, ["-b", "4096"], tree)
    checksum = wire.checksum_function("crc32")
    item = SourceItem(0, {"name": "fs", "src": str(image)}, MiB, "crc32", checksum, True)
    whole = SourceItem(0, {"name": "fs", "src": str(image)}, MiB, "crc32", checksum, True, filesystem_aware=False)
    try:
        assert item.filesystem["filesystem"] == "ext4" and item.filesystem["reason"] is None
        segments = list(item.segments())
        assert sum(length for dummy, length, dummy, dummy in segments) == 128 * MiB
        data = sum(length for dummy, length, kind, dummy in segments if kind == KIND_DATA)
        assert data <= item.filesystem["used_bytes"] < 32 * MiB
        assert {kind for dummy, dummy, kind, dummy in segments} >= {KIND_DATA, KIND_UNUSED}
        # the same digest each time it is computed; another than the whole copy's, whose identity differs too
        assert item.digest() == item.digest()
        assert whole.filesystem == {"filesystem": None, "reason": "filesystem_aware is off"}
        # the whole copy sends the stale bytes of the free space too (zero chunks, such as the journal's, as holes)
        assert {kind for dummy, dummy, kind, dummy in whole.segments()} == {KIND_DATA, KIND_HOLE}
        assert sum(length for dummy, length, kind, dummy in whole.segments() if kind == KIND_DATA) > 100 * MiB
        assert whole.digest() != item.digest() and whole.identity != item.identity
    finally:
        item.close()
        whole.close()


def test_a_sparse_file_without_a_file_system_keeps_its_holes_and_says_why(tmp_path):
    path = tmp_path / "plain.img"
    with open(str(path), "wb") as handle:
        handle.write(os.urandom(MiB))
        handle.truncate(8 * MiB)
    item = SourceItem(0, {"name": "p", "src": str(path)}, MiB, "crc32", wire.checksum_function("crc32"), True)
    try:
        assert item.filesystem == {"filesystem": None, "reason": "no ext2/3/4 or FAT file system recognised and no partition table"}
        assert [kind for dummy, dummy, kind, dummy in item.segments()] == [KIND_DATA] + [KIND_HOLE] * 7
    finally:
        item.close()


# --------------------------------------------------------------------------------------------
# Through a ring of one receiver on 127.0.0.1

def test_a_ring_copy_of_an_ext4_image_sends_its_used_blocks_and_the_file_target_stays_sparse(tmp_path):
    need("mkfs.ext4", "e2fsck", "debugfs")
    tree = files_dir(tmp_path)
    image = mkfs_ext4(tmp_path, "fs.img", 128 * MiB, ["-b", "4096"], tree)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dest = tmp_path / "copy.img"
    node = Background(Receiver("fs", KEY, "127.0.0.1:%d" % port, {"fs": str(dest)}, timeout=10, wait_timeout=20,
                               state_dir=str(tmp_path / "state"), name="r1"))
    sent = Sender("fs", KEY, [{"name": "fs", "src": str(image)}], ["127.0.0.1:%d" % port], listen="127.0.0.1:0",
                  timeout=10, chunk=MiB).run()
    got = node.join()
    assert got["ok"] and sent["failed_nodes"] == [], (got, sent)
    used = sent["filesystems"]["fs"]
    assert used["filesystem"] == "ext4" and 0 < sent["sent_bytes"] <= used["used_bytes"] < 32 * MiB
    assert got["items"]["fs"]["bytes_written"] == sent["sent_bytes"]
    assert got["items"]["fs"]["digest"] == sent["digests"]["fs"]
    assert os.stat(str(dest)).st_blocks * 512 < 40 * MiB     # the unused blocks stayed holes
    fsck = subprocess.run(["e2fsck", "-f", "-n", str(dest)], capture_output=True, text=True, check=False)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    for name, path in (("src", image), ("dst", dest)):
        (tmp_path / name).mkdir()
        ext4_files(path, tmp_path / name)
    same_tree(tmp_path / "src", tmp_path / "dst")


# --------------------------------------------------------------------------------------------
# Whole disks: an MBR or a GPT, each partition by its own file system

def make_disk(tmp_path, label):
    """A 132 MiB disk image over stale bytes: a boot loader's bytes after the MBR, a 32 MiB FAT16 partition
    and a 96 MiB ext4 one, each made by its mkfs in a file and put in place."""
    need("sfdisk", "mkfs.vfat", "mcopy", "mkfs.ext4")
    disk = tmp_path / ("disk-%s.img" % label)
    stale_bytes(disk, 132 * MiB, seed=4)
    table = "label: %s\nstart=2048, size=65536, type=%s\nstart=67584, size=196608, type=%s\n" % (
        (label, "uefi", "linux") if label == "gpt" else (label, "e", "83"))
    subprocess.run(["sfdisk", "-q", str(disk)], input=table, text=True, check=True, capture_output=True)
    corrupt(disk, 64 * 512, b"a boot loader between the table and the first partition")
    fat = tmp_path / "p1.img"
    stale_bytes(fat, 32 * MiB, seed=5)
    subprocess.run(["mkfs.vfat", "-F", "16", str(fat)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", str(fat), str(files_dir(tmp_path, count=1) / "f0.bin"), "::"], check=True)
    ext = mkfs_ext4(tmp_path, "p2.img", 96 * MiB, ["-b", "4096"], tmp_path / "files")
    with open(str(disk), "r+b") as handle:
        for part, offset in ((fat, 2048 * 512), (ext, 67584 * 512)):
            handle.seek(offset)
            handle.write(part.read_bytes())
    return disk


def extract(disk, start, size, where):
    with open(str(disk), "rb") as handle:
        handle.seek(start)
        where.write_bytes(handle.read(size))
    return where


@pytest.mark.parametrize("label", ["gpt", "dos"])
def test_a_whole_disk_sends_its_table_and_boot_loader_and_each_partitions_used_blocks(tmp_path, label):
    need("e2fsck", "fsck.fat", "debugfs")
    disk = make_disk(tmp_path, label)
    used, info = read_used(disk)
    assert info["filesystem"] == "partitions" and info["table"] == ("gpt" if label == "gpt" else "mbr"), info
    assert [(p["number"], p["filesystem"]) for p in info["partitions"]] == [(1, "vfat"), (2, "ext4")]
    assert used[0][0] == 0 and used[0][1] > 2048 * 512       # the table and the boot loader's gap, whole
    if label == "gpt":
        assert used[-1][1] == 132 * MiB                      # the backup GPT, after the last partition
    assert info["used_bytes"] < 40 * MiB
    copy = tmp_path / "copy.img"
    stale_bytes(tmp_path / "stale.img", 132 * MiB, seed=6)
    copy_used(disk, used, copy, background=tmp_path / "stale.img")
    assert subprocess.run(["sfdisk", "-d", str(copy)], capture_output=True, text=True, check=False).stdout == \
        subprocess.run(["sfdisk", "-d", str(disk)], capture_output=True, text=True, check=False).stdout.replace(str(disk), str(copy))
    with open(str(copy), "rb") as handle:
        handle.seek(64 * 512)
        assert handle.read(20) == b"a boot loader betwee"
    fat = extract(copy, 2048 * 512, 32 * MiB, tmp_path / "copy-p1.img")
    assert subprocess.run(["fsck.fat", "-n", str(fat)], capture_output=True, check=False).returncode == 0
    ext = extract(copy, 67584 * 512, 96 * MiB, tmp_path / "copy-p2.img")
    fsck = subprocess.run(["e2fsck", "-f", "-n", str(ext)], capture_output=True, text=True, check=False)
    assert fsck.returncode == 0, fsck.stdout
    original = ext4_files(tmp_path / "p2.img", tmp_path / "original")
    same_tree(original, ext4_files(ext, tmp_path / "copied"))


def test_a_disk_whose_partitions_hold_no_known_file_system_is_sent_whole(tmp_path):
    need("sfdisk")
    disk = tmp_path / "disk.img"
    stale_bytes(disk, 8 * MiB)
    subprocess.run(["sfdisk", "-q", str(disk)], input="label: gpt\nstart=2048, size=8192, type=linux\n", text=True,
                   check=True, capture_output=True)
    used, info = read_used(disk)
    assert used is None and "no file system recognised in its 1 partitions" in info["reason"], info
    corrupt(disk, 512 + 40, b"\xff")               # inside the GPT header: its CRC-32 fails
    used, info = read_used(disk)
    assert used is None and "GPT header fails its CRC-32" in info["reason"], info
