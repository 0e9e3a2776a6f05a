# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What the image's ELF files need: the shared libraries an executable or library names (DT_NEEDED) and the
sections of a kernel module (.modinfo). Pure: 64-bit little-endian ELF read from bytes (amd64)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct

ELF_MAGIC = b"\x7fELF"
_DT_NEEDED = 1
_DT_STRTAB = 5
_SHT_DYNAMIC = 6


def is_elf(data):
    """True for a 64-bit little-endian ELF file."""
    return data[:4] == ELF_MAGIC and data[4:6] == b"\x02\x01"


def _sections(data):
    """(name, type, offset, size, link) of each section header."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if not shoff or not shnum:
        return []
    raw = [struct.unpack_from("<IIQQQQII", data, shoff + index * shentsize) for index in range(shnum)]
    names_offset = raw[shstrndx][4]
    result = []
    for name_index, kind, _flags, _addr, offset, size, link, _info in raw:
        end = data.index(b"\0", names_offset + name_index)
        result.append((data[names_offset + name_index:end].decode("ascii", "replace"), kind, offset, size, link))
    return result


def section(data, name):
    """The bytes of the section ``name``, or None."""
    if not is_elf(data):
        return None
    for section_name, _kind, offset, size, _link in _sections(data):
        if section_name == name:
            return data[offset:offset + size]
    return None


def needed(data):
    """The libraries a dynamically linked ELF file names (DT_NEEDED), in order; [] for a static one."""
    if not is_elf(data):
        return []
    sections = _sections(data)
    result = []
    for _name, kind, offset, size, link in sections:
        if kind != _SHT_DYNAMIC:
            continue
        strtab_offset = sections[link][2]
        for position in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, position)
            if tag == 0:
                break
            if tag == _DT_NEEDED:
                end = data.index(b"\0", strtab_offset + value)
                result.append(data[strtab_offset + value:end].decode("ascii", "replace"))
    return result
