# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The libvirt side of one hypervisor: its connection, what it reports (memory, CPUs, domain types),
the domains it holds, and the storage pool of the overlays; and libvirt-python itself, for the modules.

Written against the libvirt-python module object handed in (``lv``), so that tests run it on
libvirt's test driver and on a real libvirtd without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import (
    STATE_NAMES,
    domain_types,
    pool_target,
    pool_xml,
    volume_backing,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError

try:
    import libvirt
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()
else:
    LIBVIRT_IMPORT_ERROR = None


def libvirt_for(module):
    """libvirt-python for a module, its errors kept off stderr (the module reports them); the task fails
    saying what to install when it is missing."""
    if libvirt is None:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    libvirt.registerErrorHandler(lambda *args: None, None)
    return libvirt


def lv_message(exc):
    """What a libvirtError says, without libvirt's prefix when it has one."""
    try:
        return exc.get_error_message() or str(exc)
    except Exception:  # pylint: disable=broad-except
        return str(exc)


class Hypervisor:
    """One connection and what it holds: capacity, domains, the overlay pool."""

    def __init__(self, lv, record, conn=None):
        self.lv = lv
        self.name = record["name"]
        self.uri = record["uri"]
        self.pool_dir = record["pool_dir"]
        self.record = record
        self.conn = conn
        self.own_conn = conn is None
        self.pool = None
        self.pool_made = False
        self.domains = {}      # name -> {"dom", "active", "state", "memory_mb", "vcpus", "xml"}
        self.domain_types = set()
        self.memory_mb = self.cpus = 0

    def error(self, what, exc):
        return FarmError("hypervisor %r (%s): %s: %s" % (self.name, self.uri, what, lv_message(exc)))

    def open(self):
        """Connect (unless a connection was handed in) and read the node's memory, CPUs and domain types."""
        if self.conn is None:
            try:
                self.conn = self.lv.open(self.uri)
            except self.lv.libvirtError as exc:
                raise FarmError("hypervisor %r: cannot connect to %s: %s. Check the URI, that libvirtd runs there and "
                                "that this user may connect (ssh keys for qemu+ssh)." % (self.name, self.uri, lv_message(exc)))
        try:
            info = self.conn.getInfo()
            self.memory_mb, self.cpus = int(info[1]), int(info[2])
            caps = self.conn.getCapabilities()
        except self.lv.libvirtError as exc:
            raise self.error("reading node info", exc)
        self.domain_types = domain_types(caps)
        return self

    def scan(self):
        """Read every domain defined there: state, memory, vCPUs and inactive XML."""
        self.domains = {}
        try:
            for dom in self.conn.listAllDomains(0):
                state = dom.state()[0]
                info = dom.info()
                self.domains[dom.name()] = {
                    "dom": dom, "active": bool(dom.isActive()), "state": STATE_NAMES.get(state, str(state)),
                    "memory_mb": int(info[1]) // 1024, "vcpus": int(info[3]),
                    "xml": dom.XMLDesc(self.lv.VIR_DOMAIN_XML_INACTIVE),
                }
        except self.lv.libvirtError as exc:
            raise self.error("listing domains", exc)
        return self

    def domain_type(self, wanted):
        """The domain type to define: ``wanted``, or for auto the best one the hypervisor offers."""
        if wanted != "auto":
            return wanted
        for kind in ("kvm", "qemu", "test"):
            if kind in self.domain_types:
                return kind
        return "qemu"

    def find_pool(self, make):
        """The active storage pool whose target is pool_dir; a transient one (destroyed by close()) when
        none exists and ``make``; None otherwise."""
        if self.pool is not None:
            return self.pool
        try:
            for pool in self.conn.listAllStoragePools(0):
                path = pool_target(pool.XMLDesc(0))
                if path and os.path.normpath(path) == self.pool_dir:
                    if not pool.isActive():
                        if not make:
                            return None
                        pool.create(0)
                    pool.refresh(0)
                    self.pool = pool
                    return pool
            if not make:
                return None
            xml = pool_xml(self.pool_dir)
            try:
                self.pool = self.conn.storagePoolCreateXML(xml, self.lv.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
            except self.lv.libvirtError:
                self.pool = self.conn.storagePoolCreateXML(xml, 0)   # the test driver builds nothing
            self.pool_made = True
            self.pool.refresh(0)
            return self.pool
        except self.lv.libvirtError as exc:
            raise self.error("storage pool for pool_dir %s" % self.pool_dir, exc)

    def overlay(self, name, pool=None):
        """(volume or None, its backing path) of ``name``'s overlay in the pool."""
        pool = pool or self.pool
        if pool is None:
            return None, None
        try:
            vol = pool.storageVolLookupByName(name)
        except self.lv.libvirtError:
            return None, None
        return vol, volume_backing(vol.XMLDesc(0))

    def close(self):
        """Destroy the transient pool made here and close the connection opened here."""
        if self.pool is not None and self.pool_made:
            try:
                self.pool.destroy()
            except self.lv.libvirtError:
                pass
        self.pool = None
        if self.conn is not None and self.own_conn:
            try:
                self.conn.close()
            except self.lv.libvirtError:
                pass
            self.conn = None


def open_hypervisors(lv, records, connections=None):
    """Hypervisor objects, connected and scanned; all or none (FarmError names the one that failed)."""
    hvs = []
    try:
        for record in records:
            conn = (connections or {}).get(record["name"])
            hvs.append(Hypervisor(lv, record, conn).open().scan())
    except FarmError:
        for hv in hvs:
            hv.close()
        raise
    return hvs
