# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""ZFS names: the rules a dataset or snapshot name must follow (checked before any zfs command runs),
and the arithmetic of names in the dataset tree (parent, ancestors, depth, common root).
Pure, standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsNameError

MAX_NAME_LEN = 255

_BAD_CHAR = re.compile(r"[^A-Za-z0-9_.:-]")
_ALLOWED = "letters, digits and the characters _ . : -"


def depth(name):
    return name.count("/")


def parent(name):
    return name.rpartition("/")[0]


def ancestors(name):
    """pool/a/b/c -> [pool/a/b, pool/a, pool], nearest first."""
    out = []
    while "/" in name:
        name = parent(name)
        out.append(name)
    return out


def common_root(names):
    """The deepest dataset that is an ancestor-or-self of every name."""
    split = [name.split("/") for name in names]
    common = []
    for parts in zip(*split):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return "/".join(common)


def _check_component(component, name, what):
    if component in (".", ".."):
        raise ZfsNameError("%s %r has a component %r, which ZFS does not allow; use a real name" % (what, name, component))
    bad = _BAD_CHAR.search(component)
    if bad:
        raise ZfsNameError("%s %r contains %r, which ZFS does not allow in names; use only %s"
                           % (what, name, bad.group(), _ALLOWED))


def check_dataset_name(name, what="dataset"):
    """Raise ZfsNameError unless ``name`` is a valid filesystem or volume name (pool/path/name)."""
    if not isinstance(name, str):
        raise ZfsNameError("%s must be a string such as pool/path/name, got %s %r" % (what, type_name(name), name))
    if not name:
        raise ZfsNameError("%s is empty; give a dataset name such as pool/path/name" % what)
    if "@" in name:
        raise ZfsNameError("%s %r names a snapshot; give a dataset (the part before '@')" % (what, name))
    if len(name) > MAX_NAME_LEN:
        raise ZfsNameError("%s %r is %d characters long, more than ZFS's limit of %d; use a shorter name"
                           % (what, name, len(name), MAX_NAME_LEN))
    if name.startswith("/") or name.endswith("/"):
        raise ZfsNameError("%s %r starts or ends with '/'; write the dataset as pool/path/name, not a mountpoint"
                           % (what, name))
    components = name.split("/")
    if "" in components:
        raise ZfsNameError("%s %r has an empty component ('//'); remove the extra '/'" % (what, name))
    for component in components:
        _check_component(component, name, what)
    pool = components[0]
    if not ("a" <= pool[0].lower() <= "z"):
        raise ZfsNameError("%s %r: the pool name %r must begin with a letter" % (what, name, pool))


def check_snapshot_component(snapname, what="snapshot_name"):
    """Raise ZfsNameError unless ``snapname`` is valid as the part after '@'."""
    if not isinstance(snapname, str):
        raise ZfsNameError("%s must be a string, got %s %r" % (what, type_name(snapname), snapname))
    if not snapname:
        raise ZfsNameError("%s is empty; give the snapshot's name (the part after '@')" % what)
    if "@" in snapname or "/" in snapname:
        raise ZfsNameError("%s %r must be only the part after '@', without '@' or '/'" % (what, snapname))
    _check_component(snapname, snapname, what)


def check_snapshot_name(name, what="snapshot"):
    """Raise ZfsNameError unless ``name`` is dataset@snapshot."""
    if not isinstance(name, str):
        raise ZfsNameError("%s must be a string such as pool/path@name, got %s %r" % (what, type_name(name), name))
    if name.count("@") != 1:
        raise ZfsNameError("%s %r must be written dataset@name with exactly one '@' (for example pool/projects/P@clonesource)"
                           % (what, name))
    dataset, snapname = name.split("@")
    check_dataset_name(dataset, "%s %r: the dataset" % (what, name))
    check_snapshot_component(snapname, "%s %r: the snapshot name" % (what, name))
    if len(name) > MAX_NAME_LEN:
        raise ZfsNameError("%s %r is %d characters long, more than ZFS's limit of %d; use a shorter name"
                           % (what, name, len(name), MAX_NAME_LEN))
