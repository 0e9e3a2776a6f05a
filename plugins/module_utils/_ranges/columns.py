# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What each host of a range gets by its position: an index and a zero-padded number, an IP address from
a subnet, a MAC address from a prefix. The noderange inventory plugin reads its options and calls these;
they compute, and refuse with ColumnError naming the option key. Standard library only (``ipaddress``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import MacError, format_mac, parse_mac_prefix


class ColumnError(ValueError):
    """A column that cannot be made: ``key`` is the option at fault (``ip.start``), the message what and the fix."""

    def __init__(self, key, message):
        super(ColumnError, self).__init__(message)
        self.key = key


def index_columns(count, start):
    """(indexes, numbers) of ``count`` hosts from ``start``: [1, 2, ...] and ['01', '02', ...], the numbers
    padded to the width of the last index."""
    last = start + count - 1
    width = len(str(last))
    indexes = list(range(start, last + 1))
    return indexes, ["%0*d" % (width, i) for i in indexes]


def _usable(net):
    """The first and last address of a subnet a host may have: not the network and broadcast addresses of
    an IPv4 subnet larger than /31."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen < 31:
        first, last = first + 1, last - 1
    return first, last


def ip_column(count, subnet, start=None, offset=1):
    """``count`` consecutive addresses in ``subnet``: from ``start``, else from the network address plus
    ``offset``; all of them usable host addresses of the subnet."""
    try:
        net = ipaddress.ip_network(str(subnet), strict=False)
    except ValueError as exc:
        raise ColumnError("ip.subnet", "%r is not a subnet: %s" % (subnet, exc))
    first_usable, last_usable = _usable(net)
    if start is not None:
        try:
            first = int(ipaddress.ip_address(str(start)))
        except ValueError as exc:
            raise ColumnError("ip.start", "%r is not an IP address: %s" % (start, exc))
        key = "ip.start"
    else:
        first = int(net.network_address) + offset
        key = "ip.offset"
    last = first + count - 1
    address = ipaddress.ip_address if net.version == 4 else ipaddress.IPv6Address
    if count and (first < first_usable or last > last_usable):
        raise ColumnError(key, "%d hosts from %s do not fit in the usable addresses of %s (%s to %s, %d addresses); use a "
                          "larger subnet or start lower" % (count, _text(first, net.version), net,
                                                            _text(first_usable, net.version),
                                                            _text(last_usable, net.version),
                                                            last_usable - first_usable + 1))
    return [str(address(value)) for value in range(first, last + 1)]


def _text(value, version):
    """An address as text, even one outside the address space (an offset past the end of it)."""
    try:
        return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))
    except ValueError:
        return str(value)


def mac_column(count, prefix, offset=0):
    """``count`` consecutive MACs under a locally administered unicast ``prefix``, from ``offset``."""
    try:
        block = parse_mac_prefix(prefix)
    except MacError as exc:
        raise ColumnError("mac.prefix", "not a locally administered unicast prefix: %s" % exc)
    if offset < 0:
        raise ColumnError("mac.offset", "must be 0 or more, got %d" % offset)
    if offset + count > block.size:
        raise ColumnError("mac.offset", "%d hosts from offset %d do not fit behind prefix %s (%d addresses); use a shorter "
                          "prefix" % (count, offset, prefix, block.size))
    return [format_mac(block.base | value) for value in range(offset, offset + count)]
