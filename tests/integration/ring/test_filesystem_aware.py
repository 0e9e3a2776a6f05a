# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filesystem-aware transfer through the real ring (ring_copy in network namespaces, 1 source, 4 receivers):
a 1 GiB ext4 partition image holding 100 MiB of files, whose free space still holds the bytes of 200 MiB of
deleted files, costs at most 15% of its size; every copy passes e2fsck -n and holds the source's files (dumped
with debugfs, no mount). Two receivers write files (the unused blocks stay holes), one a loop device whose
unused blocks keep what they held. In the same session, a FAT image sends its used clusters, and a whole GPT disk
its table, its boot loader's gap and its ext4 partition's used blocks."""

import filecmp
import os
import shutil
import subprocess

import pytest

from conftest import write_random

MiB = 1 << 20
SIZE = 1 << 30
RECEIVERS = (1, 2, 3, 4)
STALE = b"stale bytes the target held before the ring. " * 90   # 4050 bytes


def need(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip("%s not installed (hack/setup.sh installs e2fsprogs, dosfstools, mtools)" % ", ".join(missing))


@pytest.fixture(scope="module")
def partitions(tmp_path_factory):
    """A 1 GiB sparse ext4 image: 100 MiB of files kept, 200 MiB of files written then deleted (debugfs rm:
    their blocks are free and still hold their bytes); and a 32 MiB FAT16 image with two files."""
    need("mkfs.ext4", "debugfs", "e2fsck", "mkfs.vfat", "mcopy", "fsck.fat", "sfdisk")
    base = tmp_path_factory.mktemp("fs-aware")
    tree = base / "tree"
    (tree / "keep" / "etc").mkdir(parents=True)
    (tree / "old").mkdir()
    for index in range(20):
        write_random(str(tree / "keep" / ("f%02d.bin" % index)), 5 * MiB, 100 + index)
    (tree / "keep" / "etc" / "hostname").write_text("golden\n")
    os.symlink("etc/hostname", str(tree / "keep" / "link"))
    for index in range(25):
        write_random(str(tree / "old" / ("o%02d.bin" % index)), 8 * MiB, 200 + index)
    image = base / "part.img"
    with open(str(image), "wb") as handle:
        handle.truncate(SIZE)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-d", str(tree), str(image)], check=True, capture_output=True)
    commands = ["rm /old/o%02d.bin" % index for index in range(25)] + ["rmdir /old"]
    subprocess.run(["debugfs", "-w", "-f", "-", str(image)], input="\n".join(commands) + "\n", text=True, check=True,
                   capture_output=True)
    shutil.rmtree(str(tree / "old"))
    fsck = subprocess.run(["e2fsck", "-f", "-n", str(image)], capture_output=True, text=True, check=False)
    assert fsck.returncode == 0, fsck.stdout
    assert os.stat(str(image)).st_blocks * 512 > 300 * MiB        # the deleted files' bytes are still there

    fat = base / "esp.img"
    with open(str(fat), "wb") as handle:
        handle.truncate(32 * MiB)
    subprocess.run(["mkfs.vfat", "-F", "16", str(fat)], check=True, capture_output=True)
    write_random(str(base / "BOOTX64.EFI"), 2 * MiB, 300)
    (base / "grub.cfg").write_text("set timeout=1\n")
    subprocess.run(["mcopy", "-i", str(fat), str(base / "BOOTX64.EFI"), str(base / "grub.cfg"), "::"], check=True)

    # a whole 96 MiB disk: a GPT, a boot loader's bytes in the gap, one 64 MiB ext4 partition from sector 2048
    disk, root = base / "disk.img", base / "root.img"
    with open(str(disk), "wb") as handle:
        handle.truncate(96 * MiB)
    subprocess.run(["sfdisk", "-q", str(disk)], input="label: gpt\nstart=2048, size=131072, type=linux\n", text=True,
                   check=True, capture_output=True)
    with open(str(root), "wb") as handle:
        handle.truncate(64 * MiB)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree / "keep" / "etc"), str(root)], check=True, capture_output=True)
    with open(str(disk), "r+b") as handle:
        handle.seek(64 * 512)
        handle.write(b"core.img of a boot loader")
        handle.seek(MiB)
        handle.write(root.read_bytes())
    return base


@pytest.fixture()
def loop_device(tmp_path):
    """A 1 GiB loop device on a sparse file; STALE written at the first block of each 64 MiB."""
    if os.geteuid() != 0 or not os.path.exists("/dev/loop-control"):
        pytest.skip("loop devices need root and /dev/loop-control")
    backing = tmp_path / "disk.raw"
    with open(str(backing), "wb") as handle:
        for offset in range(0, SIZE, 64 * MiB):
            handle.seek(offset)
            handle.write(STALE)
        handle.truncate(SIZE)
    device = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True,
                            check=True).stdout.strip()
    yield device
    subprocess.run(["losetup", "-d", device], check=False)


def free_offsets(image, step=64 * MiB):
    """The offsets of the blocks at each ``step`` that the ext image does not use (debugfs testb)."""
    blocks = range(0, SIZE // 4096, step // 4096)
    out = subprocess.run(["debugfs", "-f", "-", str(image)], input="".join("testb %d\n" % b for b in blocks),
                         capture_output=True, text=True, check=True).stdout
    return sorted(int(line.split()[1]) * 4096 for line in out.splitlines() if line.endswith(" not in use"))


def ext4_files(image, where):
    where.mkdir()
    subprocess.run(["debugfs", "-R", "rdump / %s" % where, str(image)], check=True, capture_output=True)
    return where


def same_tree(left, right):
    compare = filecmp.dircmp(str(left), str(right))
    assert not compare.left_only and not compare.right_only, compare.report()
    for name in compare.common_files:
        assert filecmp.cmp(os.path.join(str(left), name), os.path.join(str(right), name), shallow=False), name
    for sub in compare.common_dirs:
        same_tree(os.path.join(str(left), sub), os.path.join(str(right), sub))


def test_an_ext4_partition_sends_only_its_used_blocks_and_every_copy_holds_its_files(ring, partitions, loop_device, tmp_path):
    image, fat = partitions / "part.img", partitions / "esp.img"
    targets = {}

    def items_for(index):
        disk = loop_device if index == 3 else str(ring.dir(index) / "part.img")
        targets[index] = disk
        return [{"name": "part", "dest": disk}, {"name": "esp", "dest": str(ring.dir(index) / "esp.img")},
                {"name": "disk", "dest": str(ring.dir(index) / "disk.img")}]

    (status, sent), receivers = ring.run(
        "fsaware", [{"name": "part", "src": str(image)}, {"name": "esp", "src": str(fat)},
                    {"name": "disk", "src": str(partitions / "disk.img")}], items_for, RECEIVERS,
        source_options={"chunk_size": 4 * MiB})
    assert status in ("SUCCESS", "CHANGED") and sent["failed_nodes"] == [], sent
    assert sent["filesystems"]["part"]["filesystem"] == "ext4", sent["filesystems"]
    assert sent["filesystems"]["esp"]["filesystem"] == "vfat", sent["filesystems"]
    assert sent["filesystems"]["disk"]["filesystem"] == "partitions", sent["filesystems"]
    # the partition: 100 MiB of files and the file system's metadata, at most 15% of 1 GiB (each receiver wrote
    # what the source sent); the three items together too
    written = receivers[1][1]["items"]["part"]["bytes_written"]
    print("filesystem-aware: %d bytes sent for a %d-byte ext4 partition (%.1f%%), %d for the 3 items; found: %s"
          % (written, SIZE, 100.0 * written / SIZE, sent["sent_bytes"], sent["filesystems"]))
    assert 100 * MiB < written <= 0.15 * SIZE
    assert written < sent["sent_bytes"] <= 0.15 * SIZE
    for entry in sent["nodes"]:
        assert entry["ok"] and entry["items"]["part"]["digest"] == sent["digests"]["part"], entry

    source_files = ext4_files(image, tmp_path / "src")
    assert (source_files / "keep" / "f07.bin").stat().st_size == 5 * MiB and not (source_files / "old").exists()
    stale_offsets = free_offsets(image)
    assert len(stale_offsets) >= 8
    for index in RECEIVERS:
        target = targets[index]
        fsck = subprocess.run(["e2fsck", "-f", "-n", target], capture_output=True, text=True, check=False)
        assert fsck.returncode == 0, (index, fsck.stdout + fsck.stderr)
        same_tree(source_files, ext4_files(target, tmp_path / ("r%d" % index)))
        if index == 3:
            # a block device: the unused blocks keep what they held (Frisbee's and KA's choice)
            with open(target, "rb") as handle:
                for offset in stale_offsets:
                    handle.seek(offset)
                    assert handle.read(len(STALE)) == STALE, offset
        else:
            # a file: the unused blocks are holes, and read as zeros
            assert os.stat(target).st_blocks * 512 <= 0.15 * SIZE
            with open(target, "rb") as handle:
                handle.seek(stale_offsets[-1])
                assert handle.read(4096) == bytes(4096)
        esp = ring.dir(index) / "esp.img"
        fsck = subprocess.run(["fsck.fat", "-n", str(esp)], capture_output=True, text=True, check=False)
        assert fsck.returncode == 0, fsck.stdout
        out = tmp_path / ("esp%d" % index)
        out.mkdir()
        subprocess.run(["mcopy", "-n", "-i", str(esp), "::BOOTX64.EFI", str(out)], check=True)
        assert filecmp.cmp(str(out / "BOOTX64.EFI"), str(partitions / "BOOTX64.EFI"), shallow=False)
        disk = ring.dir(index) / "disk.img"
        with open(str(disk), "rb") as handle:
            assert handle.read(MiB)[64 * 512:64 * 512 + 25] == b"core.img of a boot loader"
            root = tmp_path / ("root%d.img" % index)
            root.write_bytes(handle.read(64 * MiB))
        table = subprocess.run(["sfdisk", "-d", str(disk)], capture_output=True, text=True, check=True).stdout
        assert table.replace(str(disk), "D") == subprocess.run(["sfdisk", "-d", str(partitions / "disk.img")], capture_output=True,
                                                               text=True, check=True).stdout.replace(str(partitions / "disk.img"), "D")
        fsck = subprocess.run(["e2fsck", "-f", "-n", str(root)], capture_output=True, text=True, check=False)
        assert fsck.returncode == 0, fsck.stdout
        same_tree(ext4_files(partitions / "root.img", tmp_path / ("root-src%d" % index)), ext4_files(root, tmp_path / ("root-dst%d" % index)))
