# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""MAC addresses and MAC prefixes: the one rule every job uses. Standard library only.

A MAC is 48 bits written as six two-digit hex octets joined by ``:`` or by ``-`` (one separator
throughout), or as Cisco/dynamips' dotted ``aabb.ccdd.eeff``; any letter case. A prefix is one to five
octets written the same way (``02:4c:46``); it must be unicast (the lowest bit of the first octet clear)
and, unless a caller allows universal prefixes, locally administered (bit 0x02 set), so that a lab's
addresses never collide with real hardware. Errors are ``MacError`` (a ValueError) whose message
describes the value; callers put the option's name in front.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$")
_DOTTED_RE = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")
_PREFIX_RE = re.compile(r"^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){0,3})?$")
EXAMPLE_PREFIX = "02:4c:46"
MAC_BITS = 48


class MacError(ValueError):
    """A MAC address or prefix that cannot be used; the message says why and gives an example."""


class MacPrefix(object):
    """A checked prefix: its octets, the first address it covers as an int, and how many bits are free."""

    __slots__ = ("text", "octets", "base", "free_bits")

    def __init__(self, text, octets):
        self.text = text
        self.octets = tuple(octets)
        self.free_bits = 8 * (6 - len(octets))
        base = 0
        for octet in octets:
            base = (base << 8) | octet
        self.base = base << self.free_bits

    @property
    def size(self):
        """How many addresses the prefix holds."""
        return 1 << self.free_bits

    def __contains__(self, mac):
        """Whether a MAC (int or text) lies under this prefix."""
        number = mac if isinstance(mac, int) else parse_mac(mac)
        return number >> self.free_bits == self.base >> self.free_bits

    def address(self, index):
        """The index-th address under the prefix, as an int."""
        if not 0 <= index < self.size:
            raise MacError("index %d is outside prefix %s (%d addresses)" % (index, self.text, self.size))
        return self.base | index


def parse_mac(value):
    """The MAC as an int; MacError when it is not written as a 48-bit MAC."""
    if not isinstance(value, str):
        raise MacError("%r is not a MAC address: write it as aa:bb:cc:dd:ee:ff" % (value,))
    text = value.strip()
    if _MAC_RE.match(text):
        return int(text.replace(":", "").replace("-", ""), 16)
    if _DOTTED_RE.match(text):
        return int(text.replace(".", ""), 16)
    raise MacError("%r is not a MAC address: write it as aa:bb:cc:dd:ee:ff" % (value,))


def format_mac(number):
    """An int as aa:bb:cc:dd:ee:ff."""
    digits = "%012x" % number
    # spelled out: a join over a generator costs three times as much, and reservations come by the 10,000
    return "%s:%s:%s:%s:%s:%s" % (digits[0:2], digits[2:4], digits[4:6], digits[6:8], digits[8:10], digits[10:12])


def format_dotted_mac(number):
    """An int as dynamips writes MACs: aabb.ccdd.eeff."""
    digits = "%012x" % number
    return ".".join(digits[i:i + 4] for i in range(0, 12, 4))


def normalize_mac(value):
    """Any accepted spelling -> 'aa:bb:cc:dd:ee:ff', or None when the value is not a MAC."""
    if isinstance(value, str) and _MAC_RE.match(value):   # the usual spellings, without the int round trip
        return value.lower().replace("-", ":")
    try:
        return format_mac(parse_mac(value))
    except MacError:
        return None


def parse_mac_prefix(value, allow_universal=False):
    """A MacPrefix for 1 to 5 octets; MacError when it is malformed, multicast, or (unless
    allow_universal) not locally administered."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not _PREFIX_RE.match(text):
        raise MacError("%r is not a MAC prefix of 1 to 5 octets: write it like %s" % (value, EXAMPLE_PREFIX))
    octets = [int(part, 16) for part in re.split(r"[:-]", text)]
    if octets[0] & 0x01:
        raise MacError("%s is a multicast prefix (the lowest bit of the first octet is set): use a unicast "
                       "prefix such as %s" % (text, EXAMPLE_PREFIX))
    if not allow_universal and not octets[0] & 0x02:
        raise MacError("%s is not locally administered (bit 0x02 of the first octet is clear), so it may collide "
                       "with real hardware: use a prefix such as %s" % (text, EXAMPLE_PREFIX))
    return MacPrefix(text.lower().replace("-", ":"), octets)
