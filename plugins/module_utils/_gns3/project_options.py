# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The options of gns3_project_reset and gns3_project_info, checked before any project is read: port
ranges, the MAC prefix, reservations, owner and group, the names and regex that select projects.
Each failure is a Gns3ProjectError naming the option. The rules themselves are _common's (MAC,
numbers) and _ranges.names' (a range or a list of names). Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import pwd
import re
from collections import namedtuple

from ansible_collections.labfarm.massclone.plugins.module_utils._common import mac as _mac
from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import DEFAULT_TIMEOUT, MAX_TIMEOUT
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_port_range, parse_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import UUID_RE, Gns3ProjectError
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import DEFAULT_LIMIT
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.names import NamesError, names_from

DEFAULT_CONSOLE_RANGE = (5000, 10000)   # GNS3's own defaults
DEFAULT_VNC_RANGE = (5900, 10000)
DEFAULT_MAC_PREFIX = _mac.EXAMPLE_PREFIX
SNAPSHOTS = ("drop", "keep")
# gns3_project_info's names: the range engine's own bound, and what an error shows.
MAX_NAMES = DEFAULT_LIMIT
NAMES_EXAMPLE = "Cexam_[01-40]"

ResetOptions = namedtuple("ResetOptions", "console_range vnc_range mac_prefix used_ports used_macs snapshots")


def port_range(value, option):
    """(first, last) of a port range option; a tuple is taken as already checked."""
    if isinstance(value, tuple):
        return value
    try:
        return parse_port_range(value, option)
    except ValueError as exc:
        raise Gns3ProjectError(str(exc))


def mac_prefix(value):
    """The MacPrefix of mac_prefix: 1 to 5 octets, unicast and locally administered, as a lab must use
    (_common.mac's rule)."""
    try:
        return _mac.parse_mac_prefix(value)
    except _mac.MacError as exc:
        raise Gns3ProjectError("mac_prefix: %s" % exc)


def parse_mac_prefix(value):
    """(prefix int, free bits) of mac_prefix."""
    prefix = mac_prefix(value)
    return prefix.base, prefix.free_bits


def used_macs(values):
    """used_macs as a set of ints."""
    macs = set()
    for value in values or ():
        try:
            macs.add(_mac.parse_mac(value))
        except _mac.MacError:
            raise Gns3ProjectError("used_macs: %r is not a MAC address: write it like 02:4c:46:00:00:01" % (value,))
    return macs


def used_ports(values):
    """used_console_ports as a set of ints."""
    ports = set()
    for port in values or ():
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise Gns3ProjectError("used_console_ports: %r is not a port number (1-65535)" % (port,))
        ports.add(port)
    return ports


def reset_options(console_port_range=DEFAULT_CONSOLE_RANGE, vnc_port_range=DEFAULT_VNC_RANGE,
                  mac_prefix_value=DEFAULT_MAC_PREFIX, used_console_ports=(), used_mac_addresses=(), snapshots="drop"):
    """Every option of a reset but the batch, checked: a ResetOptions (mac_prefix is a MacPrefix)."""
    console_range = port_range(console_port_range, "console_port_range")
    vnc_range = port_range(vnc_port_range, "vnc_port_range")
    prefix = mac_prefix(mac_prefix_value)
    if snapshots not in SNAPSHOTS:
        raise Gns3ProjectError("snapshots=%r: use drop or keep" % (snapshots,))
    return ResetOptions(console_range, vnc_range, prefix, used_ports(used_console_ports),
                        used_macs(used_mac_addresses), snapshots)


def lock_timeout(value):
    """lock_timeout in seconds: how long a reset waits for the farm lock another run holds (0: not at all)."""
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        return parse_whole(value, "lock_timeout", 0, MAX_TIMEOUT, "Give the seconds to wait for another run on the "
                           "same projects_root, for example 300")
    except ValueError as exc:
        raise Gns3ProjectError(str(exc))


def check_project_id(value, index):
    """projects[index].project_id, lower case; Gns3ProjectError unless it is a UUID."""
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise Gns3ProjectError("projects[%d].project_id %r is not a UUID: give a UUID or leave it out to "
                               "derive one from the source's id and the name" % (index, value))
    return value.lower()


def resolve_owner(value, kind):
    """owner or group (a name or a number) -> its id, None when not given; an error before anything changes."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == "owner" else grp.getgrnam(value).gr_gid
    except KeyError:
        raise Gns3ProjectError("%s %r does not exist on this host: create it first (the gns3 package creates "
                               "gns3:gns3) or give an existing name or number" % (kind, value))


def info_names(value):
    """gns3_project_info's names: None (every project), or the names of a range or a list."""
    if value is None:
        return None
    try:
        return names_from(value, "names", MAX_NAMES, NAMES_EXAMPLE, allow_empty=True)
    except NamesError as exc:
        raise Gns3ProjectError(str(exc))


def info_regex(value):
    """gns3_project_info's regex, compiled; None when not given."""
    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as exc:
        raise Gns3ProjectError("regex %r is not a valid regular expression: %s" % (value, exc))
