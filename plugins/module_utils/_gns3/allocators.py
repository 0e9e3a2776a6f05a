# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What a reset hands out: console ports, MAC blocks, small ids (dynamips, IOU), and the ids of a clone.

The clone's ids are the one rule for them on the farm (the mass_clone role names its clones with
derive_project_id too): UUIDv5 of the source's ids and the clone's name, so the same clone always gets
the same ids. Pure, standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid

DYNAMIPS_ID_RANGE = (1, 4096)        # GNS3 compute/dynamips: ids 1-4096
IOU_APPLICATION_ID_RANGE = (1, 512)  # GNS3 utils/application_id: 1-512 per compute


def derive_project_id(source_project_id, name):
    """The project id of the clone `name` of the project `source_project_id`."""
    return str(uuid.uuid5(uuid.UUID(source_project_id), name))


def derive_id(project_id, old_id):
    """Node, link and drawing ids of a clone: stable for a given clone and source id."""
    return str(uuid.uuid5(uuid.UUID(project_id), old_id))


class PortAllocator:
    """Console ports from the TOP of each range downwards: when a project opens, GNS3 gives VPCS and
    qemu telnet consoles a hidden internal port, the lowest free one in the console range, and would
    take a port that another, not yet opened, clone has in its file."""

    def __init__(self, used):
        self.used = set(used)
        self._cursor = {}

    def claim(self, port):
        if port in self.used:
            return False
        self.used.add(port)
        return True

    def allocate(self, bounds):
        port = self._cursor.get(bounds, bounds[1])
        while port >= bounds[0]:
            if port not in self.used:
                self.used.add(port)
                self._cursor[bounds] = port - 1
                return port
            port -= 1
        self._cursor[bounds] = bounds[0] - 1
        return None

    def free_count(self, bounds):
        return sum(1 for port in range(bounds[0], bounds[1] + 1) if port not in self.used)


class PortPools:
    """One PortAllocator per compute. GNS3 reserves a node's console and aux ports in the port manager of the
    compute that runs the node (compute/port_manager.py, one per compute process), so two nodes on two computes
    may hold the same port; key None is the single pool of a reset without computes, where every port is unique
    across the projects root as before. ``reserved`` (used_console_ports) is taken in every pool, ``used`` is
    {key: ports} of the other projects of the farm."""

    def __init__(self, reserved, used=None):
        self.reserved = set(reserved)
        self.used = used or {}
        self.pools = {}

    def pool(self, key):
        if key not in self.pools:
            self.pools[key] = PortAllocator(self.reserved | set(self.used.get(key, ())))
        return self.pools[key]


class MacAllocator:
    """Blocks of MACs under a prefix: a node with n adapters takes base..base+n-1, and no address
    of the block may be in use anywhere on the farm."""

    def __init__(self, prefix, free_bits, used):
        self.prefix = prefix
        self.free_bits = free_bits
        self.size = 1 << free_bits
        self.used = set(used)
        self._cursor = 1   # skip prefix:00:00:00

    def covers(self, mac):
        """Whether `mac` lies under the prefix."""
        return mac >> self.free_bits == self.prefix >> self.free_bits

    def claim(self, base, block):
        block_range = range(base, base + block)
        if any(mac in self.used for mac in block_range):
            return False
        self.used.update(block_range)
        return True

    def allocate(self, block, align=1):
        offset = self._cursor
        while True:
            if offset % align:
                offset += align - offset % align
            if offset + block > self.size:
                return None
            base = self.prefix + offset
            clash = [mac for mac in range(base, base + block) if mac in self.used]
            if not clash:
                self.used.update(range(base, base + block))
                self._cursor = offset + block
                return base
            offset = clash[-1] - self.prefix + 1


class IdAllocator:
    """Small ids (dynamips_id, IOU application_id) from the bottom of their range."""

    def __init__(self, bounds, used):
        self.bounds = bounds
        self.used = set(used)
        self._next = bounds[0]

    def claim(self, value):
        if value in self.used or not self.bounds[0] <= value <= self.bounds[1]:
            return False
        self.used.add(value)
        return True

    def allocate(self):
        value = self._next
        while value <= self.bounds[1]:
            if value not in self.used:
                self.used.add(value)
                self._next = value + 1
                return value
            value += 1
        return None
