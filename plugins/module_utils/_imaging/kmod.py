# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Kernel modules: their names and dependencies (from .modinfo), and the order to load a set of them in.
Pure: module bytes and paths in, names and orders out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.elf import section


def module_name(path):
    """The kernel's name of a module file: base name without .ko, dashes as underscores."""
    name = posixpath.basename(path)
    for suffix in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    return name.replace("-", "_")


def modinfo(data):
    """The .modinfo fields of a module as a dict (a repeated key keeps its values joined by commas)."""
    raw = section(data, ".modinfo") or b""
    info = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.decode("utf-8", "replace").partition("=")
        if sep:
            info[key] = info[key] + "," + value if key in info else value
    return info


_DEPENDS_RE = re.compile(rb"\0depends=([^\0]*)\0")


def depends(data):
    """The module names a module needs loaded before it (its modinfo depends=). The field is found by a byte
    search (a kernel has thousands of modules: reading every section table in Python takes seconds)."""
    match = _DEPENDS_RE.search(data)
    if match is None:
        return []
    return [name.replace("-", "_") for name in match.group(1).decode("utf-8", "replace").split(",") if name]


def builtin_names(text):
    """Module names built into the kernel, from the package's modules.builtin (one module path a line)."""
    return set(module_name(line.strip()) for line in text.splitlines() if line.strip())


def load_order(wanted, deps, builtin=()):
    """The modules to load for ``wanted`` (names), dependencies first, each once: (order, unknown), where
    unknown lists the wanted names that are neither modules (``deps`` maps each module to its dependencies)
    nor built into the kernel. Depth-first in the order given, so the result depends only on the inputs."""
    order = []
    seen = set()
    unknown = []

    def visit(name, chain):
        if name in seen or name in builtin:
            return
        if name not in deps:
            if not chain:
                unknown.append(name)
            return
        if name in chain:
            return   # a cycle: modinfo has none, but never loop
        for dep in deps[name]:
            visit(dep, chain + (name,))
        seen.add(name)
        order.append(name)

    for name in wanted:
        visit(name.replace("-", "_"), ())
    return order, unknown
