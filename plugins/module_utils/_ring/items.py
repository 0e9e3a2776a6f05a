# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What a ring session copies (dolly+'s iofiles): the source's items and each receiver's targets.

* An item is a raw file, partition or disk, or an archive (tar, tar.gz, tar.zst, cpio). The source
  names it; each receiver decides where it goes: a raw item into a file or block device, an archive
  unpacked into a directory (through a temporary directory beside it, renamed into place only once
  the whole archive arrived with the source's digest).
* Items are cut into segments (``segments``). Holes come from SEEK_DATA/SEEK_HOLE (sparse files)
  or from chunks that are all zeros (disks): they cross the wire as a length only and stay holes in
  file targets (zeros are written on block devices).
* Filesystem-aware transfer: a raw item that holds an ext2/3/4 or FAT file system sends only the blocks
  its allocation bitmaps (``used_blocks``) say are used. The rest are unused holes: holes in file targets,
  left as they are on block devices. An item whose file system is not recognised, or whose bitmaps do
  not look sane, is sent whole, and ``filesystem`` says why.
* Resume: a receiver keeps, per item and target, the records it made durable (fdatasync first) in
  a state file; a later run of the same source item (same identity: path, size, mtime, chunk,
  checksum) starts from there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import mmap
import os
import shutil
import stat
import struct
import subprocess
import threading
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.segments import KIND_DATA, KIND_HOLE, KIND_UNUSED, grid_segments, item_digest
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.used_blocks import FreeMap, intersect, used_extents

SEEK_DATA = getattr(os, "SEEK_DATA", 3)
SEEK_HOLE = getattr(os, "SEEK_HOLE", 4)
BLKGETSIZE64 = 0x80081272
BLKZEROOUT = 0x127f


def device_size(fd):
    import fcntl
    buf = bytearray(8)
    fcntl.ioctl(fd, BLKGETSIZE64, buf)
    return struct.unpack("Q", bytes(buf))[0]


def data_extents(fd, size):
    """Data regions of a regular file by SEEK_DATA/SEEK_HOLE; the whole file when the file system
    does not say."""
    extents = []
    pos = 0
    try:
        while pos < size:
            try:
                start = os.lseek(fd, pos, SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:   # no data after pos
                    break
                raise
            end = os.lseek(fd, start, SEEK_HOLE)
            extents.append((start, min(end, size)))
            pos = end
    except OSError:
        return [(0, size)] if size else []
    return extents


class SourceItem:
    """One item at the source: open, mapped, cut into segments, with its digest once scanned."""

    def __init__(self, index, spec, chunk, checksum_name, checksum, sparse, filesystem_aware=True):
        self.index = index
        self.name = spec["name"]
        self.path = spec["src"]
        self.format = spec.get("format") or "raw"
        self.chunk = chunk
        self.checksum = checksum
        self.sparse = sparse
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise RingError("item %s: cannot read src %s: %s" % (self.name, self.path, exc.strerror))
        info = os.fstat(self.fd)
        self.is_device = stat.S_ISBLK(info.st_mode)
        if not (self.is_device or stat.S_ISREG(info.st_mode)):
            raise RingError("item %s: src %s is neither a file nor a block device" % (self.name, self.path))
        self.size = device_size(self.fd) if self.is_device else info.st_size
        if self.format != "raw" and self.is_device:
            raise RingError("item %s: format %s needs an archive file as src, not the device %s"
                            % (self.name, self.format, self.path))
        self.map = mmap.mmap(self.fd, self.size, prot=mmap.PROT_READ) if self.size else None
        if self.map is not None:
            try:
                self.map.madvise(mmap.MADV_SEQUENTIAL)
            except (AttributeError, OSError):
                pass
        if sparse and self.format == "raw" and not self.is_device:
            self.extents = data_extents(self.fd, self.size)
        else:
            self.extents = [(0, self.size)] if self.size else []
        self.free = None
        self.filesystem = {"filesystem": None, "reason": "filesystem_aware is off"}
        if self.format != "raw":
            self.filesystem = {"filesystem": None, "reason": "an archive is sent whole"}
        elif filesystem_aware and self.map is not None:
            used, self.filesystem = used_extents(self._read, self.size)
            if used is not None:
                self.extents = intersect(self.extents, used)
                self.free = FreeMap(used)
        identity = [os.path.realpath(self.path), self.size, info.st_mtime_ns, info.st_ino, self.format, chunk, checksum_name]
        if self.free is not None:
            # a resumed target's records hold the unused holes of the same used-block map only
            identity.append(hashlib.sha256(json.dumps(used).encode("utf-8")).hexdigest())
        self.identity = hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()[:32]
        self.records = {}          # offset -> record, filled as segments are made
        self.zero_sums = {}

    def _read(self, offset, length):
        return self.map[offset:offset + length]

    def manifest(self):
        return {"name": self.name, "size": self.size, "format": self.format, "identity": self.identity}

    def segments(self, start=0, end=None):
        """(offset, length, kind, checksum) from `start` on; zero chunks become holes when sparse."""
        for offset, length, is_data in grid_segments(self.extents, self.size, self.chunk, start):
            if end is not None and offset >= end:
                return
            yield self._record(offset, length, is_data)

    def _record(self, offset, length, is_data):
        rec = self.records.get(offset)
        if rec is not None:
            return rec
        if is_data:
            view = memoryview(self.map)[offset:offset + length]
            value = self.checksum(view)
            view.release()
            if self.sparse and value == self._zero_sum(length) and self.map[offset:offset + length].count(0) == length:
                rec = (offset, length, KIND_HOLE, 0)
            else:
                rec = (offset, length, KIND_DATA, value)
        elif self.free is not None and self.free.free(offset, length):
            rec = (offset, length, KIND_UNUSED, 0)
        else:
            rec = (offset, length, KIND_HOLE, 0)
        self.records[offset] = rec
        return rec

    def _zero_sum(self, length):
        if length not in self.zero_sums:
            self.zero_sums[length] = self.checksum(bytes(length))
        return self.zero_sums[length]

    def digest(self):
        """The item's digest; reads and checksums only the segments not sent in this run."""
        return item_digest(self._record(*seg) for seg in grid_segments(self.extents, self.size, self.chunk))

    def close(self):
        if self.map is not None:
            self.map.close()
        os.close(self.fd)


# --------------------------------------------------------------------------------------------
# Receivers' targets


def _mounts_by_rdev():
    found = {}
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                fields = line.split()
                major, minor = fields[2].split(":")
                found.setdefault((int(major), int(minor)), fields[4])
    except OSError:
        pass
    return found


def device_in_use(path):
    """Why a block device must not be overwritten (mounted, a mounted partition, swap, held by
    LVM/md/dm, opened exclusively), or None."""
    rdev = os.stat(path).st_rdev
    major, minor = os.major(rdev), os.minor(rdev)
    mounts = _mounts_by_rdev()
    if (major, minor) in mounts:
        return "%s is mounted on %s" % (path, mounts[(major, minor)])
    sysdir = "/sys/dev/block/%d:%d" % (major, minor)
    try:
        for entry in os.listdir(sysdir):
            dev_file = os.path.join(sysdir, entry, "dev")
            if os.path.exists(dev_file):
                with open(dev_file) as handle:
                    pmaj, pmin = (int(x) for x in handle.read().split(":"))
                if (pmaj, pmin) in mounts:
                    return "%s has the partition %s mounted on %s" % (path, entry, mounts[(pmaj, pmin)])
        holders = os.listdir(os.path.join(sysdir, "holders"))
        if holders:
            return "%s is held by %s" % (path, ", ".join(sorted(holders)))
    except OSError:
        pass
    try:
        with open("/proc/swaps") as handle:
            for line in list(handle)[1:]:
                name = line.split()[0]
                if os.path.exists(name) and os.stat(name).st_rdev == rdev:
                    return "%s is in use as swap" % path
    except OSError:
        pass
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_EXCL))
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return "%s is in use (opened exclusively by the kernel or another program)" % path
    return None


def source_errors(items):
    """The source's items ([{name, src}]) whose src does not exist here."""
    return ["item %s: src %s does not exist" % (item["name"], item["src"])
            for item in items if item.get("src") and not os.path.exists(item["src"])]


def source_sizes(items):
    """{name: size} of the source's items ([{name, src}]): a regular file's size, None for anything else
    (a block device's size is read when it is opened)."""
    sizes = {}
    for item in items:
        info = os.stat(item["src"])
        sizes[item["name"]] = info.st_size if stat.S_ISREG(info.st_mode) else None
    return sizes


def check_targets(targets, force):
    """Refuse bad targets ({name: absolute dest}) before anything is written: a missing directory, a
    device in use (unless force). A directory given for a raw item is checked later, once the
    manifest says which items are archives."""
    for name, dest in targets.items():
        parent = os.path.dirname(dest.rstrip("/")) or "/"
        if not os.path.isdir(parent):
            raise RingError("item %s: the directory of dest %s, %s, does not exist; create it first" % (name, dest, parent))
        if os.path.exists(dest) and stat.S_ISBLK(os.stat(dest).st_mode) and not force:
            why = device_in_use(dest)
            if why:
                raise RingError("item %s: %s; unmount or release it first, or set force: true" % (name, why))


def make_state_dir(state_dir):
    """The receiver's state directory, made private (0700) when it is missing."""
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, 0o700)


class ItemState:
    """A receiver's durable record of one item in one target: identity, verified offset, records."""

    def __init__(self, state_dir, name, dest):
        key = hashlib.sha256(("%s\0%s" % (name, dest)).encode("utf-8")).hexdigest()[:24]
        self.path = os.path.join(state_dir, "%s.json" % key)
        self.data = {}

    def load(self, identity):
        try:
            with open(self.path) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        if data.get("identity") != identity:
            return None
        self.data = data
        return data

    def save(self, data):
        self.data = data
        atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"))

    def remove(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Target:
    """Where one item goes on this receiver, written only from the writer thread."""

    def __init__(self, name, dest, item, state, direct=False):
        self.name = name
        self.dest = dest
        self.size = item["size"]
        self.format = item["format"]
        self.identity = item["identity"]
        self.state = state
        self.direct = direct
        self.records = []
        self.offset = 0            # the end of the verified prefix (written, not yet durable)
        self.durable = 0
        self.complete = False
        self.error = None
        self.fd = None
        self.proc = None
        self.tmpdir = None
        self.zero = None
        self.is_device = False
        self.last_sync = time.monotonic()
        self.bytes_written = 0
        self.lock = threading.Lock()
        self.archive = self.format != "raw"
        if self.archive and os.path.exists(dest) and not os.path.isdir(dest):
            raise RingError("item %s is a %s archive: dest %s must be a directory (it is unpacked there)"
                            % (name, self.format, dest))
        if not self.archive and os.path.isdir(dest):
            raise RingError("item %s is raw: dest %s must be a file or block device, not a directory" % (name, dest))
        if self.archive and self.format == "tar.zst" and not shutil.which("zstd"):
            raise RingError("item %s is tar.zst: this receiver needs the zstd program (apt install zstd)" % name)
        if self.archive and self.format == "cpio" and not shutil.which("cpio"):
            raise RingError("item %s is cpio: this receiver needs the cpio program (apt install cpio)" % name)
        resumed = state.load(self.identity)
        if resumed and resumed.get("complete") and self._target_unchanged(resumed):
            self.records = [tuple(r) for r in resumed["records"]]
            self.offset = self.durable = self.size
            self.complete = True
        elif resumed and not self.archive and self._target_unchanged(resumed, partial=True):
            self.records = [tuple(r) for r in resumed["records"]]
            self.offset = self.durable = resumed["offset"]

    def _target_unchanged(self, saved, partial=False):
        try:
            info = os.stat(self.dest)
        except OSError:
            return False
        if stat.S_ISBLK(info.st_mode):
            return True
        if self.archive:
            return stat.S_ISDIR(info.st_mode) and int(info.st_mtime_ns) == saved.get("mtime_ns")
        return partial or (info.st_size == self.size and int(info.st_mtime_ns) == saved.get("mtime_ns"))

    @property
    def resume_offset(self):
        return self.size if self.complete else self.offset

    def open(self):
        """Open for writing from resume_offset on (called once the session starts)."""
        if self.complete:
            return
        if self.archive:
            self._start_unpack()
            return
        flags = os.O_WRONLY | os.O_CREAT
        try:
            self.fd = os.open(self.dest, flags, 0o600)
        except OSError as exc:
            raise RingError("item %s: cannot open dest %s: %s" % (self.name, self.dest, exc.strerror))
        info = os.fstat(self.fd)
        self.is_device = stat.S_ISBLK(info.st_mode)
        if self.is_device:
            room = device_size(self.fd)
            if room < self.size:
                raise RingError("item %s: dest %s holds %d bytes, the item has %d" % (self.name, self.dest, room, self.size))
        else:
            # everything past the verified prefix becomes a hole: no stale bytes of an older image
            os.ftruncate(self.fd, self.offset)
            os.ftruncate(self.fd, self.size)
        if self.direct:
            try:
                import fcntl
                fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) | os.O_DIRECT)
            except (OSError, AttributeError):
                self.direct = False

    def _start_unpack(self):
        parent = os.path.dirname(self.dest.rstrip("/")) or "/"
        if not os.path.isdir(parent):
            raise RingError("item %s: the parent directory of dest %s does not exist" % (self.name, self.dest))
        self.tmpdir = os.path.join(parent, ".%s.lfring-%d" % (os.path.basename(self.dest.rstrip("/")), os.getpid()))
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        os.mkdir(self.tmpdir, 0o755)
        if self.format == "cpio":
            argv = ["cpio", "-idm", "--quiet", "--no-absolute-filenames"]
        else:
            argv = ["tar", "-x", "--numeric-owner", "-f", "-"]
            argv += {"tar": [], "tar.gz": ["-z"], "tar.zst": ["--zstd"]}[self.format]
        self.stderr_path = self.tmpdir + ".err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=self.tmpdir, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)

    def write(self, offset, length, kind, checksum, payload):
        """Write one verified segment (called in order). Segments below the resume point are skipped."""
        if self.complete or self.error:
            return
        if offset < self.offset:
            return
        if offset != self.offset:
            raise RingError("item %s: a segment at %d where %d was expected" % (self.name, offset, self.offset))
        if self.archive:
            data = payload if kind == KIND_DATA else bytes(length)
            try:
                self.proc.stdin.write(data)
            except (BrokenPipeError, OSError):
                self.error = "unpacking stopped: %s" % self._unpack_error()
                return
        elif kind == KIND_DATA:
            self._pwrite(payload, offset)
        elif self.is_device and kind == KIND_HOLE:
            self._zero_device(offset, length)
        # KIND_UNUSED: space the file system does not use, left as it is (a hole in a file target)
        with self.lock:
            self.records.append((offset, length, kind, checksum))
            self.offset = offset + length
            self.bytes_written += length if kind == KIND_DATA else 0

    def _pwrite(self, payload, offset):
        view = memoryview(payload)
        if self.direct and (len(view) % 4096 or offset % 4096):
            import fcntl
            fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~os.O_DIRECT)
            self.direct = False
        done = 0
        while done < len(view):
            try:
                done += os.pwrite(self.fd, view[done:], offset + done)
            except OSError as exc:
                if exc.errno != errno.EINVAL or not self.direct:
                    raise
                # this file system or buffer does not take O_DIRECT: buffered writes from here on
                import fcntl
                fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~os.O_DIRECT)
                self.direct = False

    def _zero_device(self, offset, length):
        import fcntl
        try:
            fcntl.ioctl(self.fd, BLKZEROOUT, struct.pack("QQ", offset, length))
        except OSError:
            if self.zero is None or len(self.zero) < length:
                self.zero = bytes(length)
            self._pwrite(memoryview(self.zero)[:length], offset)

    def _unpack_error(self):
        try:
            with open(self.stderr_path) as handle:
                return handle.read().strip()[-500:] or "rc=%s" % self.proc.poll()
        except OSError:
            return "rc=%s" % self.proc.poll()

    def checkpoint(self, force=False):
        """Make the verified prefix durable and record it, at most once a second unless forced."""
        if self.archive or self.fd is None or self.complete:
            return
        now = time.monotonic()
        if not force and now - self.last_sync < 1.0:
            return
        self.last_sync = now
        with self.lock:
            offset, records = self.offset, list(self.records)
        os.fdatasync(self.fd)
        self.durable = offset
        self.state.save({"identity": self.identity, "dest": self.dest, "offset": offset, "records": records,
                         "complete": False})

    def finish(self, source_digest):
        """The item's last segment arrived: make it durable, compare digests, put archives in place.
        Returns (ok, digest, error)."""
        digest = item_digest(self.records)
        if self.error:
            self.abandon()
            return False, digest, self.error
        if self.offset != self.size:
            self.abandon()
            return False, digest, "item %s ended at %d of %d bytes" % (self.name, self.offset, self.size)
        if digest != source_digest:
            self.abandon()
            return False, digest, "item %s: digest %s differs from the source's %s" % (self.name, digest[:16], source_digest[:16])
        if self.archive:
            if not self.complete:
                self.proc.stdin.close()
                if self.proc.wait() != 0:
                    error = "unpacking failed: %s" % self._unpack_error()
                    self.abandon()
                    return False, digest, error
                self._swap_in()
                self.state.save({"identity": self.identity, "dest": self.dest, "records": self.records, "complete": True,
                                 "mtime_ns": int(os.stat(self.dest).st_mtime_ns)})
        elif self.fd is not None:
            os.fdatasync(self.fd)
            os.close(self.fd)
            self.fd = None
            info = os.stat(self.dest)
            self.state.save({"identity": self.identity, "dest": self.dest, "offset": self.size,
                             "records": self.records, "complete": True, "mtime_ns": int(info.st_mtime_ns)})
        self.complete = True
        return True, digest, None

    def _swap_in(self):
        os.remove(self.stderr_path)
        old = None
        if os.path.isdir(self.dest):
            old = self.tmpdir + ".old"
            os.rename(self.dest, old)
        os.rename(self.tmpdir, self.dest)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        self.tmpdir = None

    def abandon(self):
        """Stop without success: partial archives are removed, a raw target keeps its durable prefix."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            try:
                os.remove(self.stderr_path)
            except OSError:
                pass
            self.tmpdir = None
        if self.fd is not None:
            try:
                self.checkpoint(force=True)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None
