# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""zfs_clone's options, checked before any zfs command runs: the clone names (a range or a list, by
_ranges.names' rule), the snapshot, properties, state and retries. Each failure is a ZfsNameError that
names the option. Pure, standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import MAX_TIMEOUT
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.names import NamesError, names_from
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsNameError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.names import (
    check_dataset_name, check_snapshot_component, check_snapshot_name)

MAX_RETRIES = 20
DEFAULT_RETRIES = 6
MAX_CLONES = 100000
CLONES_EXAMPLE = "pool/clones/C[01-40]"
STATES = ("present", "absent")

_PROPERTY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:+-]*$")


def expand_clones(clones):
    """The clone names: one noderange string, or a list of literal names. Checked, duplicates dropped.

    An empty list (or blank string) gives no names: a batch of nothing, which a role may well compute.
    """
    try:
        names = names_from(clones, "clones", MAX_CLONES, CLONES_EXAMPLE, allow_empty=True)
    except NamesError as exc:
        raise ZfsNameError(str(exc))
    for name in names:
        check_dataset_name(name, "clone")
    return names


def resolve_snapshot(snapshot, source, snapshot_name):
    """The snapshot to clone: ``snapshot`` itself, or ``source``@``snapshot_name``; checked."""
    if snapshot is not None:
        check_snapshot_name(snapshot)
        return snapshot
    check_dataset_name(source, "source")
    check_snapshot_component(snapshot_name)
    name = source + "@" + snapshot_name
    check_snapshot_name(name, "source@snapshot_name")
    return name


def property_args(properties):
    """``{k: v}`` -> ['-o', 'k=v', ...]: booleans become on/off, names and values are checked."""
    if properties is None:
        return []
    if not isinstance(properties, dict):
        raise ZfsNameError("properties must be a mapping of property: value, got %s" % type_name(properties))
    args = []
    for key, value in properties.items():
        if not isinstance(key, str) or not _PROPERTY_NAME.match(key) or len(key) > 256:
            raise ZfsNameError("properties: %r is not a ZFS property name; native properties are lower case "
                               "(compression, canmount), user properties contain a ':' (com.example:tag)" % (key,))
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise ZfsNameError("properties.%s must be a string, number or boolean, got %s" % (key, type_name(value)))
        if "\n" in value or "\0" in value or len(value) > 8192:
            raise ZfsNameError("properties.%s: the value %r cannot be set: no newlines and at most 8192 characters"
                               % (key, value))
        args.extend(["-o", "%s=%s" % (key, value)])
    return args


def check_state(state):
    if state not in STATES:
        raise ZfsNameError("state must be present or absent, got %r" % (state,))


def check_retries(retries):
    """How often a busy dataset is retried: a whole number (an int, not a string) from 0 to MAX_RETRIES."""
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise ZfsNameError("retries must be a whole number from 0 to %d, got %r" % (MAX_RETRIES, retries))
    return retries


def check_lock_timeout(value):
    """lock_timeout in seconds: how long a batch waits for another batch on the host (0: not at all)."""
    try:
        return parse_whole(value, "lock_timeout", 0, MAX_TIMEOUT, "Give the seconds to wait for another zfs_clone "
                           "batch on the same host, for example 300")
    except ValueError as exc:
        raise ZfsNameError(str(exc))
