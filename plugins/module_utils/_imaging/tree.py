# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A root filesystem held in memory: what packages and the builder put in it, merged as Debian's merged /usr
lays it out, pruned of what a memory image does not need. Pure: the readers (deb.py) feed it, cpio.py and
write_dir() read it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import posixpath

# Debian bookworm's merged /usr: /bin, /sbin, /lib* are links into /usr (packages still ship the old paths).
MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

# What a memory image never reads: documentation, translations, manual pages, service-manager units.
DEFAULT_PRUNE = (
    "usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*", "usr/share/lintian/*",
    "usr/share/bug/*", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
    "usr/share/lintian", "usr/share/bug", "usr/lib/systemd/*", "usr/lib/systemd", "etc/init.d/*", "etc/init.d",
    "etc/systemd/*", "etc/systemd", "usr/lib/tmpfiles.d/*", "usr/lib/tmpfiles.d", "etc/cron.*", "etc/cron.*/*",
    "etc/logrotate.d", "etc/logrotate.d/*", "etc/ufw", "etc/ufw/*", "usr/share/apport", "usr/share/apport/*",
)


class Entry(object):
    """One path of the tree: kind is file, dir, symlink or char (a character device)."""

    __slots__ = ("path", "kind", "mode", "data", "target", "rdev")

    def __init__(self, path, kind, mode=0o644, data=b"", target="", rdev=(0, 0)):
        self.path = path
        self.kind = kind
        self.mode = mode
        self.data = data
        self.target = target
        self.rdev = rdev

    def __repr__(self):
        return "Entry(%r, %r)" % (self.path, self.kind)


def normalise(path):
    """A tree path: relative, no ./, no trailing slash, merged /usr applied (bin/x -> usr/bin/x)."""
    if ".." in path.split("/"):
        raise ValueError("path outside the tree: %r" % path)
    path = posixpath.normpath("/" + path).lstrip("/")
    head = path.split("/", 1)[0]
    if head in MERGED:
        path = "usr/" + path
    return path


class Tree(object):
    """Paths to entries, parents made as directories (0755) when missing."""

    def __init__(self, merged_usr=True):
        self.entries = {}
        if merged_usr:
            self.mkdir("usr")
            for name in MERGED[:3] + ("lib64",):
                self.mkdir("usr/" + name)
                self.entries[name] = Entry(name, "symlink", target="usr/" + name)

    def _parents(self, path):
        parent = posixpath.dirname(path)
        if parent and parent not in self.entries:
            self._parents(parent)
            self.entries[parent] = Entry(parent, "dir", 0o755)

    def add(self, entry):
        """Add or replace an entry (a directory never replaces a directory: the first one's mode stays)."""
        entry.path = normalise(entry.path)
        if not entry.path:
            return
        old = self.entries.get(entry.path)
        if old is not None and old.kind == "dir" and entry.kind == "dir":
            return
        self._parents(entry.path)
        self.entries[entry.path] = entry

    def mkdir(self, path, mode=0o755):
        self.add(Entry(path, "dir", mode))

    def file(self, path, data, mode=0o644):
        if not isinstance(data, bytes):
            data = data.encode("utf-8")
        self.add(Entry(path, "file", mode, data=data))

    def symlink(self, path, target):
        self.add(Entry(path, "symlink", target=target))

    def chardev(self, path, major, minor, mode=0o600):
        self.add(Entry(path, "char", mode, rdev=(major, minor)))

    def get(self, path):
        return self.entries.get(normalise(path))

    def resolve(self, path, depth=0):
        """The entry ``path`` leads to, symlinks followed (in directories too); None if it leads nowhere."""
        path = normalise(path)
        if depth > 40:
            return None
        parts = path.split("/") if path else []
        current = ""
        for index, part in enumerate(parts):
            current = posixpath.join(current, part) if current else part
            entry = self.entries.get(current)
            if entry is None:
                return None
            if entry.kind == "symlink":
                target = entry.target
                base = "" if target.startswith("/") else posixpath.dirname(current)
                rest = "/".join(parts[index + 1:])
                joined = posixpath.join(base, target.lstrip("/") if target.startswith("/") else target, rest)
                return self.resolve(posixpath.normpath("/" + joined).lstrip("/"), depth + 1)
        return self.entries.get(current) if parts else None

    def prune(self, patterns):
        """Drop every path matching one of the fnmatch ``patterns``; returns how many were dropped."""
        dropped = [path for path in self.entries if any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)]
        for path in dropped:
            del self.entries[path]
        return len(dropped)

    def sorted_entries(self):
        """Every entry, parents before children, in byte order of the path: the archive's order."""
        return [self.entries[path] for path in sorted(self.entries, key=lambda p: p.encode("utf-8"))]

    def size(self):
        """Bytes of file data in the tree."""
        return sum(len(entry.data) for entry in self.entries.values() if entry.kind == "file")

    def write_dir(self, root):
        """Write the tree under the directory ``root`` (for mkfs.ext4 -d), with its modes; character devices
        are left out (the booted system's devtmpfs has them). Files are owned by whoever runs this."""
        if not os.path.isdir(root):
            os.makedirs(root)
        for entry in self.sorted_entries():
            dest = os.path.join(root, entry.path)
            if entry.kind == "dir":
                if not os.path.isdir(dest):
                    os.makedirs(dest)
                os.chmod(dest, entry.mode)
            elif entry.kind == "file":
                with open(dest, "wb") as out:
                    out.write(entry.data)
                os.chmod(dest, entry.mode)
            elif entry.kind == "symlink":
                os.symlink(entry.target, dest)
