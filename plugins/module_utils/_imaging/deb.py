# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Debian packages read without dpkg, a chroot or root: the ar archive, its data.tar, its members into a Tree
(owners dropped, modes kept, hard links as copies). Reads .deb files; writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import tarfile

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.tree import Entry, normalise

AR_MAGIC = b"!<arch>\n"
_TAR_MODES = {"data.tar.xz": "r|xz", "data.tar.gz": "r|gz", "data.tar.bz2": "r|bz2", "data.tar": "r|"}


class DebError(Exception):
    """A .deb that cannot be read: names the file and what is wrong."""


class _Slice(object):
    """A read-only window of ``size`` bytes of an open file (one ar member), for tarfile's stream mode."""

    def __init__(self, handle, size):
        self.handle = handle
        self.left = size

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.handle.read(size)
        self.left -= len(data)
        return data


def ar_members(handle, path):
    """(name, size) of each member of the ar archive open as ``handle``, which is left at that member's data
    while the caller is between two iterations."""
    if handle.read(8) != AR_MAGIC:
        raise DebError("%s is not a Debian package (no ar header)" % path)
    while True:
        head = handle.read(60)
        if not head:
            return
        if len(head) < 60 or head[58:60] != b"`\n":
            raise DebError("%s: a damaged ar member header" % path)
        name = head[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(head[48:58].decode("ascii").strip())
        start = handle.tell()
        yield name, size
        handle.seek(start + size + (size % 2))


def members(path):
    """Each member of the package's data.tar as (tree path, TarInfo, file object or None); a file object must
    be read before the next member is asked for (the archive is read as a stream)."""
    with open(path, "rb") as handle:
        for name, size in ar_members(handle, path):
            if not name.startswith("data.tar"):
                continue
            mode = _TAR_MODES.get(name)
            if mode is None:
                raise DebError("%s: %s is compressed in a way this reader does not read" % (path, name))
            with tarfile.open(fileobj=_Slice(handle, size), mode=mode) as archive:
                for info in archive:
                    reader = archive.extractfile(info) if info.isfile() else None
                    yield normalise(info.name), info, reader
            return
    raise DebError("%s has no data.tar member" % path)


def unpack(tree, path, include=None):
    """Add the package's files, directories and links to ``tree`` (those whose tree path ``include`` accepts,
    all when it is None). Returns the tree paths added."""
    added = []
    data_of = {}
    for name, info, reader in members(path):
        if not name or (include is not None and not include(name)):
            continue
        mode = info.mode & 0o7777
        if info.isdir():
            entry = Entry(name, "dir", mode)
        elif info.isfile():
            data = reader.read()
            data_of[name] = data
            entry = Entry(name, "file", mode, data=data)
        elif info.issym():
            entry = Entry(name, "symlink", target=info.linkname)
        elif info.islnk():
            target = normalise(info.linkname)
            if target not in data_of:
                raise DebError("%s: hard link %s to %s, which comes later or is left out" % (path, name, target))
            entry = Entry(name, "file", mode, data=data_of[target])
        else:
            continue   # devices and fifos: a package does not ship them
        tree.add(entry)
        added.append(name)
    return added
