# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The VM farm on libvirt: many tiny VMs on qcow2 overlays of one backing file, over hypervisors.

What the ``libvirt_farm`` and ``libvirt_farm_info`` modules do, as plain Python written against the
libvirt-python module object handed in (``lv``), so that tests run it on libvirt's test driver and
on a real libvirtd without Ansible:

* ``check_*`` validate the options and name the bad value and its fix, before any connection.
* ``Hypervisor`` opens one connection, reads capacity (node memory and CPUs, minus what running
  domains outside the batch use) and the domains and overlays that exist.
* ``plan()`` decides per VM: keep, create, update, start, pause, remove; VMs that exist stay where
  they are, missing ones are placed by ``placement.place()`` in what is left.
* ``apply()`` creates overlays (libvirt storage volumes, so remote URIs work) and domains, rolls
  back what it created if one fails, and starts them through ``GradualScheduler``.

A domain made here carries ``<metadata><labfarm:farm>`` with the spec it was made from and whether
its overlay was made here: a rerun compares specs, and ``absent`` removes only overlays it made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import re
import threading
import xml.etree.ElementTree as ET

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.gradual import GradualScheduler
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.names import NamesError, names_from
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import (
    POLICIES,
    PlacementError,
    max_items,
    place,
)

NS = "https://github.com/labfarm/massclone/vm_farm/1"
ET.register_namespace("labfarm", NS)
STATES = ("present", "running", "paused", "absent")
BOOT_DEVICES = ("hd", "network", "cdrom")
DOMAIN_TYPES = ("auto", "kvm", "qemu", "test")
MAX_VMS = 10000
TEMPLATE_DEFAULTS = {
    "memory_mb": 512, "vcpus": 1, "disk_gb": None, "network": None, "bridge": None, "nic_model": "virtio",
    "machine": None, "arch": "x86_64", "domain_type": "auto", "boot": ["hd"], "extra_xml": None,
}
# What a rerun compares (and update changes); the live domain is read for the first five too.
SPEC_KEYS = ("memory_mb", "vcpus", "mac", "overlay", "network", "bridge", "nic_model", "machine", "arch",
             "domain_type", "boot", "extra_xml", "backing_file", "backing_format", "disk_gb")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_STATE_NAMES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
                6: "crashed", 7: "pmsuspended"}


class FarmError(Exception):
    """A user-facing failure: ``msg`` says what and how to fix it; ``result`` what exists now."""

    def __init__(self, msg, **result):
        super(FarmError, self).__init__(msg)
        self.msg = msg
        self.result = result


# -- options ------------------------------------------------------------------

def expand_vms(vms):
    """VM names from one noderange string or a list of literal names (_ranges.names' rule); checked, in order."""
    try:
        names = names_from(vms, "vms", MAX_VMS, "lfvm[001-050]", allow_empty=True)
    except NamesError as exc:
        raise FarmError(str(exc))
    for name in names:
        if not _NAME_RE.match(name) or len(name) > 200:
            raise FarmError("vms: %r is not a usable domain name; use letters, digits and _ . + - "
                            "(it also names the overlay file)." % name)
    return names


def _whole(where, value, minimum, fix):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise FarmError("%s must be a whole number >= %d, got %r. %s" % (where, minimum, value, fix))
    if value < minimum:
        raise FarmError("%s must be a whole number >= %d, got %r. %s" % (where, minimum, value, fix))
    return value


def check_template(template):
    """The template with defaults filled in; FarmError naming the bad key otherwise."""
    if template is None:
        template = {}
    if not isinstance(template, dict):
        raise FarmError("template must be a mapping (memory_mb, vcpus, disk_gb, network or bridge, ...), got %s."
                        % type_name(template))
    unknown = sorted(set(template) - set(TEMPLATE_DEFAULTS))
    if unknown:
        raise FarmError("template: unknown key(s) %s; known keys: %s." % (", ".join(unknown), ", ".join(sorted(TEMPLATE_DEFAULTS))))
    spec = dict(TEMPLATE_DEFAULTS)
    spec.update((k, v) for k, v in template.items() if v is not None)
    spec["memory_mb"] = _whole("template.memory_mb", spec["memory_mb"], 1, "Give the memory of each VM in MiB, e.g. 512.")
    spec["vcpus"] = _whole("template.vcpus", spec["vcpus"], 1, "Give the vCPUs of each VM, e.g. 1.")
    if spec["disk_gb"] is not None:
        spec["disk_gb"] = _whole("template.disk_gb", spec["disk_gb"], 1,
                                 "Give the overlay's size in GiB, or leave it out for the backing file's size.")
    if spec["network"] and spec["bridge"]:
        raise FarmError("template: network %r and bridge %r are both set; a VM's NIC is on a libvirt network or on a "
                        "host bridge: keep one." % (spec["network"], spec["bridge"]))
    for key in ("network", "bridge", "nic_model", "machine", "arch", "extra_xml"):
        if spec[key] is not None and not isinstance(spec[key], str):
            raise FarmError("template.%s must be a string, got %r." % (key, spec[key]))
    if spec["domain_type"] not in DOMAIN_TYPES:
        raise FarmError("template.domain_type is %r; use one of %s (auto: kvm when the hypervisor offers it, else qemu)."
                        % (spec["domain_type"], ", ".join(DOMAIN_TYPES)))
    boot = spec["boot"]
    if isinstance(boot, str):
        boot = [boot]
    if not isinstance(boot, list) or not boot or any(dev not in BOOT_DEVICES for dev in boot):
        raise FarmError("template.boot is %r; give a list of boot devices in order from %s, e.g. [network, hd] "
                        "for PXE." % (spec["boot"], ", ".join(BOOT_DEVICES)))
    spec["boot"] = list(boot)
    if spec["extra_xml"]:
        _extra_elements(spec["extra_xml"])
    return spec


def _extra_elements(text):
    try:
        return list(ET.fromstring("<extra>%s</extra>" % text))
    except ET.ParseError as exc:
        raise FarmError("template.extra_xml is not well-formed XML (%s): give one or more elements, e.g. "
                        "<devices><serial type='pty'/></devices>." % exc)


def check_mac_prefix(prefix):
    """'52:54:00' -> [0x52, 0x54, 0x00]; 1 to 5 octets, unicast."""
    parts = str(prefix).strip().lower().replace("-", ":").split(":")
    try:
        octets = [int(part, 16) for part in parts]
        if not 1 <= len(octets) <= 5 or any(len(p) != 2 for p in parts):
            raise ValueError
    except ValueError:
        raise FarmError("mac_prefix %r is not 1 to 5 hex octets such as 52:54:00; fix it." % (prefix,))
    if octets[0] & 1:
        raise FarmError("mac_prefix %r is a multicast prefix (lowest bit of the first octet set); VMs need unicast "
                        "MACs: use e.g. 52:54:00 (QEMU's) or 02:xx (locally administered)." % (prefix,))
    return octets


def check_hypervisors(hypervisors):
    if not isinstance(hypervisors, list) or not hypervisors:
        raise FarmError("hypervisors must be a non-empty list of {name, uri, pool_dir}, got %r." % (hypervisors,))
    seen = set()
    out = []
    for index, hv in enumerate(hypervisors):
        where = "hypervisors[%d]" % index
        if not isinstance(hv, dict):
            raise FarmError("%s must be a mapping {name, uri, pool_dir}, got %s." % (where, type_name(hv)))
        unknown = sorted(set(hv) - {"name", "uri", "pool_dir", "memory_mb", "vcpus", "weight", "max_vms"})
        if unknown:
            raise FarmError("%s: unknown key(s) %s; known: name, uri, pool_dir, memory_mb, vcpus, weight, max_vms."
                            % (where, ", ".join(unknown)))
        name, uri, pool_dir = hv.get("name"), hv.get("uri"), hv.get("pool_dir")
        if not isinstance(name, str) or not name.strip():
            raise FarmError("%s: name is missing; give each hypervisor a unique name." % where)
        if name in seen:
            raise FarmError("%s: hypervisor name %r is used twice; names must be unique." % (where, name))
        seen.add(name)
        if not isinstance(uri, str) or "://" not in uri:
            raise FarmError("hypervisor %r: uri %r is not a libvirt URI; use e.g. qemu:///system or "
                            "qemu+ssh://root@host/system." % (name, uri))
        if not isinstance(pool_dir, str) or not os.path.isabs(pool_dir):
            raise FarmError("hypervisor %r: pool_dir %r must be an absolute directory on that hypervisor (where the "
                            "overlays go), e.g. /var/lib/libvirt/images/farm." % (name, pool_dir))
        record = {"name": name, "uri": uri, "pool_dir": os.path.normpath(pool_dir)}
        for key in ("memory_mb", "vcpus", "max_vms"):
            if hv.get(key) is not None:
                record[key] = _whole("hypervisor %r: %s" % (name, key), hv[key], 0,
                                     "Leave it out to read it from the hypervisor.")
        if hv.get("weight") is not None:
            record["weight"] = hv["weight"]
        out.append(record)
    return out


def check_params(params):
    """All option checks of libvirt_farm; returns (names, template, hypervisors, mac octets)."""
    state = params.get("state", "running")
    if state not in STATES:
        raise FarmError("state %r: use one of %s." % (state, ", ".join(STATES)))
    names = expand_vms(params.get("vms"))
    hypervisors = check_hypervisors(params.get("hypervisors"))
    template = check_template(params.get("template"))
    mac = check_mac_prefix(params.get("mac_prefix") or "52:54:00")
    if params.get("distribution", "round_robin") not in POLICIES:
        raise FarmError("distribution %r: use one of %s." % (params.get("distribution"), ", ".join(POLICIES)))
    backing = params.get("backing_file")
    if state != "absent":
        if not isinstance(backing, str) or not os.path.isabs(backing):
            raise FarmError("backing_file %r must be the absolute path of the image the overlays are made on (the "
                            "same path on every hypervisor)." % (backing,))
        if params.get("backing_format", "qcow2") not in ("qcow2", "raw"):
            raise FarmError("backing_format %r: use qcow2 or raw." % params.get("backing_format"))
        for hv in hypervisors:
            if os.path.dirname(os.path.normpath(backing)) == hv["pool_dir"] and \
                    os.path.basename(backing) in ["%s.qcow2" % n for n in names]:
                raise FarmError("backing_file %r is also the overlay path of a VM in pool_dir %s; rename the backing "
                                "file or the VM." % (backing, hv["pool_dir"]))
    rate = params.get("start_rate", 0)
    if rate is None or rate < 0:
        raise FarmError("start_rate must be >= 0 VMs per second (0: no pacing), got %r." % rate)
    if (params.get("concurrency") or 0) < 1:
        raise FarmError("concurrency must be >= 1 (VMs starting at once), got %r." % params.get("concurrency"))
    if params.get("cpu_overcommit", 1.0) is None or params.get("cpu_overcommit", 1.0) <= 0:
        raise FarmError("cpu_overcommit must be > 0 (1.0: no overcommit), got %r." % params.get("cpu_overcommit"))
    assignment = params.get("assignment")
    if assignment is not None:
        if not isinstance(assignment, dict) or not all(isinstance(v, str) for v in assignment.values()):
            raise FarmError("assignment must map VM names to hypervisor names (as the placement filter computes it), "
                            "got %r." % (assignment,))
    if params.get("first_ip"):
        try:
            first = ipaddress.ip_address(params["first_ip"])
            first + len(names)
        except (ValueError, ipaddress.AddressValueError) as exc:
            raise FarmError("first_ip %r: %s; give the address of the first VM, e.g. 10.97.0.10." % (params["first_ip"], exc))
    return names, template, hypervisors, mac


# -- identities ---------------------------------------------------------------

def mac_for(octets, name, taken):
    """Deterministic MAC for ``name``: the prefix, then bytes of sha256(name#n) for the first n whose
    MAC is not in ``taken`` (usually n = 0, so a VM keeps its MAC whatever else is in the batch)."""
    n = 0
    while True:
        digest = hashlib.sha256(("%s#%d" % (name, n)).encode("utf-8")).digest()
        mac = ":".join("%02x" % b for b in (list(octets) + list(digest[:6 - len(octets)])))
        if mac not in taken:
            return mac
        n += 1


def ips_for(first_ip, names):
    if not first_ip:
        return dict.fromkeys(names)
    first = ipaddress.ip_address(first_ip)
    return dict((name, str(first + index)) for index, name in enumerate(names))


# -- domain XML ---------------------------------------------------------------

def wanted_spec(template, name, mac, overlay, backing_file, backing_format, domain_type):
    keys = ("memory_mb", "vcpus", "network", "bridge", "nic_model", "machine", "arch", "boot", "extra_xml", "disk_gb")
    spec = dict((k, template[k]) for k in keys)
    spec.update(mac=mac if (template["network"] or template["bridge"]) else None, overlay=overlay,
                backing_file=backing_file, backing_format=backing_format, domain_type=domain_type)
    if not spec["network"] and not spec["bridge"]:
        spec["nic_model"] = None
    return spec


def render_xml(name, spec, uuid=None, overlay_created=True):
    dom = ET.Element("domain", type=spec["domain_type"])
    ET.SubElement(dom, "name").text = name
    if uuid:
        ET.SubElement(dom, "uuid").text = uuid
    metadata = ET.SubElement(dom, "metadata")
    farm = ET.SubElement(metadata, "{%s}farm" % NS, {"overlay-created": "yes" if overlay_created else "no"})
    farm.text = json.dumps(dict((k, spec[k]) for k in SPEC_KEYS), sort_keys=True)
    ET.SubElement(dom, "memory", unit="MiB").text = str(spec["memory_mb"])
    ET.SubElement(dom, "vcpu").text = str(spec["vcpus"])
    os_el = ET.SubElement(dom, "os")
    ostype = ET.SubElement(os_el, "type", arch=spec["arch"])
    if spec["machine"]:
        ostype.set("machine", spec["machine"])
    ostype.text = "hvm"
    for dev in spec["boot"]:
        ET.SubElement(os_el, "boot", dev=dev)
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    disk = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="qcow2")
    ET.SubElement(disk, "source", file=spec["overlay"])
    ET.SubElement(disk, "target", dev="vda", bus="virtio")
    if spec["network"] or spec["bridge"]:
        kind = "network" if spec["network"] else "bridge"
        nic = ET.SubElement(devices, "interface", type=kind)
        ET.SubElement(nic, "mac", address=spec["mac"])
        ET.SubElement(nic, "source", {kind: spec[kind]})
        ET.SubElement(nic, "model", type=spec["nic_model"])
    if spec["domain_type"] != "test":
        ET.SubElement(devices, "memballoon", model="none")
    for element in _extra_elements(spec["extra_xml"]) if spec["extra_xml"] else []:
        if element.tag == "devices":
            devices.extend(list(element))
        else:
            dom.append(element)
    return ET.tostring(dom, encoding="unicode")


def read_domain(xml):
    """(recorded spec or None, overlay_created, live fields) of a domain's XML."""
    root = ET.fromstring(xml)
    farm = root.find("metadata/{%s}farm" % NS)
    recorded, created = None, False
    if farm is not None:
        try:
            recorded = json.loads(farm.text or "")
        except ValueError:
            recorded = None
        created = farm.get("overlay-created") == "yes"
    memory = root.find("memory")
    kib = int(memory.text) * {"KiB": 1, "MiB": 1024, "GiB": 1024 * 1024, "b": 1.0 / 1024, "bytes": 1.0 / 1024}.get(
        memory.get("unit", "KiB"), 1) if memory is not None else 0
    vcpu = root.find("vcpu")
    mac = root.find("devices/interface/mac")
    source = root.find("devices/disk[@device='disk']/source")
    live = {
        "memory_mb": int(kib // 1024),
        "vcpus": int(vcpu.text) if vcpu is not None else None,
        "mac": mac.get("address").lower() if mac is not None else None,
        "overlay": source.get("file") if source is not None else None,
        "uuid": root.findtext("uuid"),
        "macs": [m.get("address").lower() for m in root.findall("devices/interface/mac")],
    }
    return recorded, created, live


def differences(wanted, recorded, live):
    """Keys whose wanted value differs from what the domain was made from or what it is now."""
    keys = []
    for key in SPEC_KEYS:
        if recorded is None or recorded.get(key) != wanted[key]:
            keys.append(key)
        elif key in ("memory_mb", "vcpus", "mac", "overlay") and live.get(key) != wanted[key]:
            keys.append(key)
    return keys


# -- hypervisors --------------------------------------------------------------

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
        return FarmError("hypervisor %r (%s): %s: %s" % (self.name, self.uri, what, _lv_message(exc)))

    def open(self):
        if self.conn is None:
            try:
                self.conn = self.lv.open(self.uri)
            except self.lv.libvirtError as exc:
                raise FarmError("hypervisor %r: cannot connect to %s: %s. Check the URI, that libvirtd runs there and "
                                "that this user may connect (ssh keys for qemu+ssh)." % (self.name, self.uri, _lv_message(exc)))
        try:
            info = self.conn.getInfo()
            self.memory_mb, self.cpus = int(info[1]), int(info[2])
            caps = self.conn.getCapabilities()
        except self.lv.libvirtError as exc:
            raise self.error("reading node info", exc)
        self.domain_types = set(re.findall(r"<domain type=['\"](\w+)['\"]", caps))
        return self

    def scan(self):
        self.domains = {}
        try:
            for dom in self.conn.listAllDomains(0):
                state = dom.state()[0]
                info = dom.info()
                self.domains[dom.name()] = {
                    "dom": dom, "active": bool(dom.isActive()), "state": _STATE_NAMES.get(state, str(state)),
                    "memory_mb": int(info[1]) // 1024, "vcpus": int(info[3]),
                    "xml": dom.XMLDesc(self.lv.VIR_DOMAIN_XML_INACTIVE),
                }
        except self.lv.libvirtError as exc:
            raise self.error("listing domains", exc)
        return self

    def domain_type(self, wanted):
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
                path = ET.fromstring(pool.XMLDesc(0)).findtext("target/path")
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
            name = "labfarm-%s" % hashlib.sha1(self.pool_dir.encode("utf-8")).hexdigest()[:10]
            xml = "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, _xml_escape(self.pool_dir))
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
        backing = ET.fromstring(vol.XMLDesc(0)).findtext("backingStore/path")
        return vol, backing

    def close(self):
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


def _lv_message(exc):
    try:
        return exc.get_error_message() or str(exc)
    except Exception:  # pylint: disable=broad-except
        return str(exc)


def _xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


def capacity(hv, batch, template, reserve_mb):
    """A placement host record for ``hv``: what the node has, minus reserve, minus running domains
    outside ``batch`` and every domain of the batch already there."""
    used_memory = used_vcpus = 0
    existing = 0
    for name, dom in hv.domains.items():
        if name in batch:
            existing += 1
            used_memory += dom["memory_mb"]
            used_vcpus += dom["vcpus"]
        elif dom["active"]:
            used_memory += dom["memory_mb"]
            used_vcpus += dom["vcpus"]
    memory = hv.record.get("memory_mb", max(0, hv.memory_mb - reserve_mb))
    host = {"name": hv.name, "memory_mb": memory, "vcpus": hv.record.get("vcpus", hv.cpus),
            "used_memory_mb": used_memory, "used_vcpus": used_vcpus}
    if hv.record.get("max_vms") is not None:
        host["max_items"] = max(0, hv.record["max_vms"] - existing)
    if hv.record.get("weight") is not None:
        host["weight"] = hv.record["weight"]
    return host


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


# -- the info module ----------------------------------------------------------

def farm_info(lv, params, connections=None):
    records = check_hypervisors(params.get("hypervisors"))
    template = check_template(params.get("template"))
    reserve = params.get("reserve_memory_mb") or 0
    batch = set(expand_vms(params["vms"])) if params.get("vms") else set()
    hvs = open_hypervisors(lv, records, connections)
    try:
        hosts = [capacity(hv, batch, template, reserve) for hv in hvs]
        try:
            fits = max_items(hosts, {"memory_mb": template["memory_mb"], "vcpus": template["vcpus"]},
                             cpu_overcommit=params.get("cpu_overcommit") or 1.0)
        except PlacementError as exc:
            raise FarmError(str(exc))
        per_host = dict((entry["host"], entry["max_items"]) for entry in fits["per_host"])
        out = []
        for hv, host in zip(hvs, hosts):
            out.append({
                "name": hv.name, "uri": hv.uri, "memory_mb": hv.memory_mb, "cpus": hv.cpus,
                "domains": len(hv.domains), "active_domains": sum(1 for d in hv.domains.values() if d["active"]),
                "used_memory_mb": host["used_memory_mb"], "used_vcpus": host["used_vcpus"],
                "free_memory_mb": max(0, host["memory_mb"] - host["used_memory_mb"]),
                "free_vcpus": hv.cpus * float(params.get("cpu_overcommit") or 1.0) - host["used_vcpus"],
                "max_vms": per_host[hv.name], "domain_types": sorted(hv.domain_types),
                "farm_vms": sorted(batch.intersection(hv.domains)), "placement_host": host,
            })
        return {"changed": False, "hypervisors": out, "max_vms": fits["total"],
                "template": {"memory_mb": template["memory_mb"], "vcpus": template["vcpus"]}}
    finally:
        for hv in hvs:
            hv.close()


# -- the farm -----------------------------------------------------------------

class Farm:
    """One libvirt_farm call: check, scan, plan, apply."""

    def __init__(self, lv, params, check_mode=False, connections=None, log=None):
        self.lv = lv
        self.params = params
        self.check_mode = check_mode
        self.connections = connections
        self.log = log or (lambda text: None)
        self.names, self.template, self.records, self.mac_octets = check_params(params)
        self.state = params.get("state", "running")
        self.hvs = []
        self.by_name = {}
        self.vms = {}
        self.created_domains = []
        self.created_overlays = []
        self._local = threading.local()
        self._extra_conns = []
        self._extra_lock = threading.Lock()

    def _parallel(self, hv):
        """Whether worker threads get connections of their own to ``hv``: libvirtd serves one connection's
        calls partly in turn. Not for the test driver (its state is per connection) nor for connections
        handed in."""
        return (self.params.get("concurrency") or 1) > 1 and hv.own_conn and not hv.uri.startswith("test:")

    def _conn(self, hv):
        """(connection, overlay pool) to use for ``hv`` in this thread."""
        if threading.current_thread() is threading.main_thread() or not self._parallel(hv):
            return hv.conn, hv.pool
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        if hv.name not in conns:
            try:
                conn = self.lv.open(hv.uri)
                pool = conn.storagePoolLookupByName(hv.pool.name()) if hv.pool is not None else None
                conns[hv.name] = (conn, pool)
                with self._extra_lock:
                    self._extra_conns.append(conn)
            except self.lv.libvirtError:
                conns[hv.name] = (hv.conn, hv.pool)
        return conns[hv.name]

    def _close_extra(self):
        for conn in self._extra_conns:
            try:
                conn.close()
            except self.lv.libvirtError:
                pass
        self._extra_conns = []

    # -- plan --
    def run(self):
        self.hvs = open_hypervisors(self.lv, self.records, self.connections)
        self.by_name = dict((hv.name, hv) for hv in self.hvs)
        try:
            self.plan()
            if not self.check_mode:
                self.apply()
            return self.result()
        finally:
            self._close_extra()
            for hv in self.hvs:
                hv.close()

    def plan(self):
        batch = set(self.names)
        where = {}
        conflicts = []
        for hv in self.hvs:
            for name in batch.intersection(hv.domains):
                if name in where:
                    conflicts.append("%s is defined on both %s and %s" % (name, where[name].name, hv.name))
                where[name] = hv
        taken = set()
        for hv in self.hvs:
            for name, dom in hv.domains.items():
                if name not in batch:
                    taken.update(read_domain(dom["xml"])[2]["macs"])
        ips = ips_for(self.params.get("first_ip"), self.names)
        all_names = list(self.names)
        assignment = self.params.get("assignment")
        if assignment is not None:
            # placed elsewhere (the role's other hypervisors): not this call's business
            self.names = [n for n in self.names if n in where or assignment.get(n) in self.by_name]
            batch = set(self.names)
        backing = self.params.get("backing_file")
        backing_format = self.params.get("backing_format") or "qcow2"
        for name in self.names:
            hv = where.get(name)
            vm = {"name": name, "hypervisor": hv.name if hv else None, "uri": hv.uri if hv else None,
                  "ip": ips[name], "action": None, "differs": [], "before": None}
            if hv:
                dom = hv.domains[name]
                recorded, created, live = read_domain(dom["xml"])
                if recorded is None:
                    conflicts.append("%s on %s exists and was not made by libvirt_farm (no labfarm metadata)"
                                     % (name, hv.name))
                vm.update(exists=True, dom=dom, recorded=recorded or {}, overlay_created=created, live=live,
                          uuid=live["uuid"], state_before=dom["state"], mac=live["mac"], overlay=live["overlay"])
                vm["before"] = {"hypervisor": hv.name, "state": dom["state"]}
                vm["before"].update((k, (recorded or {}).get(k, live.get(k))) for k in ("memory_mb", "vcpus", "mac"))
            else:
                vm.update(exists=False, state_before="absent", mac=None, overlay=None, uuid=None, overlay_created=False)
            self.vms[name] = vm
        if conflicts:
            raise FarmError("refusing to touch domains made elsewhere or twice: %s. Remove or rename those domains, or "
                            "leave these names out of vms." % "; ".join(conflicts), conflicts=conflicts)
        if self.state == "absent":
            for vm in self.vms.values():
                vm["action"] = "remove" if vm["exists"] else "none"
            return
        # MACs: existing VMs keep theirs unless the prefix changed; then deterministic from the name
        for name in all_names:      # the whole batch, so a VM's MAC does not depend on how it is split
            vm = self.vms.get(name)
            if vm is None:
                taken.add(mac_for(self.mac_octets, name, taken))
                continue
            keep = vm["mac"] if vm["exists"] and vm["mac"] and self._mac_matches_prefix(vm["mac"]) else None
            vm["want_mac"] = keep or mac_for(self.mac_octets, name, taken)
            taken.add(vm["want_mac"])
        missing = [name for name in self.names if not self.vms[name]["exists"]]
        if missing and assignment is not None:
            for name in missing:
                self.vms[name].update(hypervisor=assignment[name], uri=self.by_name[assignment[name]].uri)
        elif missing:
            hosts = [capacity(hv, batch, self.template, self.params.get("reserve_memory_mb") or 0) for hv in self.hvs]
            try:
                pairs = place(missing, hosts, policy=self.params.get("distribution") or "round_robin",
                              item={"memory_mb": self.template["memory_mb"], "vcpus": self.template["vcpus"]},
                              cpu_overcommit=self.params.get("cpu_overcommit") or 1.0)
            except PlacementError as exc:
                raise FarmError("not enough capacity, nothing was created: %s" % exc, capacity=hosts,
                                asked=exc.asked, fits=exc.fits)
            for name, host in pairs:
                self.vms[name].update(hypervisor=host, uri=self.by_name[host].uri)
        for name in self.names:
            vm = self.vms[name]
            hv = self.by_name[vm["hypervisor"]]
            overlay = vm["overlay"] if vm["exists"] and vm["overlay"] else os.path.join(hv.pool_dir, "%s.qcow2" % name)
            if vm["exists"] and vm["recorded"].get("overlay"):
                overlay = vm["recorded"]["overlay"]
            vm["want"] = wanted_spec(self.template, name, vm["want_mac"], overlay, backing, backing_format,
                                     hv.domain_type(self.template["domain_type"]))
            if vm["exists"]:
                vm["differs"] = differences(vm["want"], vm["recorded"], vm["live"])
                if vm["differs"]:
                    vm["action"] = "update" if self.params.get("update") else "differs"
                else:
                    vm["action"] = "keep"
            else:
                vm["action"] = "create"
            vm["state_action"] = self._state_action(vm)

    def _mac_matches_prefix(self, mac):
        return [int(x, 16) for x in mac.split(":")[:len(self.mac_octets)]] == self.mac_octets

    def _state_action(self, vm):
        now = vm["state_before"] if vm["action"] not in ("create",) else "shutoff"
        if vm["action"] == "update" and now in ("running", "paused", "blocked"):
            now = "restart"
        if self.state == "running":
            if now == "restart":
                return "restart"
            return {"running": None, "blocked": None, "paused": "resume"}.get(now, "start")
        if self.state == "paused":
            if now == "restart":
                return "restart"
            return {"paused": None, "running": "suspend", "blocked": "suspend"}.get(now, "start")
        return None   # present: leave the run state as it is

    # -- apply --
    def apply(self):
        if self.state == "absent":
            self._remove()
            return
        todo = [self.vms[n] for n in self.names if self.vms[n]["action"] in ("create", "update")]
        need_pool = set(vm["hypervisor"] for vm in todo)
        for hv in self.hvs:
            if hv.name in need_pool:
                hv.find_pool(make=True)
        try:
            self._define_all(todo)
        except FarmError as exc:
            rolled = self._rollback() if self.params.get("rollback", True) else []
            raise FarmError("%s%s" % (exc.msg, "; rolled back: %s" % ", ".join(rolled) if rolled else
                                      "; kept: %s" % ", ".join(self.created_domains)),
                            vms=self._vm_results(), rolled_back=rolled)
        self._states()

    def _define_all(self, todo):
        """Overlays and domains, ``concurrency`` at a time; the first failure is raised once all are done."""
        workers = min(self.params.get("concurrency") or 1, len(todo))
        if workers <= 1 or not any(self._parallel(hv) for hv in self.hvs):
            for vm in todo:
                self._define(vm)
            return
        queue = list(reversed(todo))
        errors = []
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not queue or errors:
                        return
                    vm = queue.pop()
                try:
                    self._define(vm)
                except FarmError as exc:
                    with lock:
                        errors.append(exc)
                except Exception as exc:  # pylint: disable=broad-except
                    with lock:
                        errors.append(FarmError("%s: %s: %s" % (vm["name"], type(exc).__name__, exc)))

        threads = [threading.Thread(target=worker) for dummy in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _define(self, vm):
        hv = self.by_name[vm["hypervisor"]]
        conn, pool = self._conn(hv)
        spec = vm["want"]
        name = vm["name"]
        vol, backing = hv.overlay(os.path.basename(spec["overlay"]), pool)
        created = vm.get("overlay_created", False)
        if vol is not None and backing != spec["backing_file"]:
            if vm["action"] == "update" and created:
                self._delete_volume(hv, vol, name)
                vol = None
            else:
                raise FarmError("%s: overlay %s on %s exists with backing file %r, not %r; remove it, or give the "
                                "right backing_file." % (name, spec["overlay"], hv.name, backing, spec["backing_file"]))
        if vol is None:
            size = spec["disk_gb"] * 1024 ** 3 if spec["disk_gb"] else 0
            xml = ("<volume><name>%s</name><capacity unit='bytes'>%d</capacity><target><format type='qcow2'/>"
                   "<permissions><mode>0600</mode></permissions></target><backingStore><path>%s</path>"
                   "<format type='%s'/></backingStore></volume>"
                   % (_xml_escape(os.path.basename(spec["overlay"])), size, _xml_escape(spec["backing_file"]),
                      spec["backing_format"]))
            try:
                pool.createXML(xml, 0)
            except self.lv.libvirtError as exc:
                raise FarmError("%s: creating overlay %s on %s failed: %s" % (name, spec["overlay"], hv.name, _lv_message(exc)))
            self.created_overlays.append((hv, os.path.basename(spec["overlay"])))
            created = True
            vm["overlay_made"] = True
        xml = render_xml(name, spec, uuid=vm.get("uuid"), overlay_created=created)
        try:
            dom = conn.defineXML(xml)
        except self.lv.libvirtError as exc:
            raise FarmError("%s: libvirt refused the domain on %s: %s" % (name, hv.name, _lv_message(exc)))
        if vm["action"] == "create":
            self.created_domains.append(name)
        vm["dom"] = {"dom": dom}
        vm["uuid"] = dom.UUIDString()
        vm["mac"], vm["overlay"] = spec["mac"], spec["overlay"]
        vm["done"] = "created" if vm["action"] == "create" else "updated"

    def _delete_volume(self, hv, vol, name):
        try:
            vol.delete(0)
        except self.lv.libvirtError as exc:
            raise FarmError("%s: removing overlay on %s failed: %s" % (name, hv.name, _lv_message(exc)))

    def _rollback(self):
        rolled = []
        for name in reversed(self.created_domains):
            vm = self.vms[name]
            try:
                vm["dom"]["dom"].undefine()
                rolled.append(name)
                vm["done"] = "rolled_back"
            except self.lv.libvirtError:
                pass
        for hv, volname in reversed(self.created_overlays):
            vol, dummy = hv.overlay(volname)
            if vol is not None:
                try:
                    vol.delete(0)
                    rolled.append(os.path.join(hv.pool_dir, volname))
                except self.lv.libvirtError:
                    pass
        return rolled

    def _states(self):
        # a domain that differs (and is not updated) still gets the run state asked for
        jobs = [vm for vm in (self.vms[n] for n in self.names) if vm.get("state_action")]
        lv = self.lv

        def domain_of(vm):
            hv = self.by_name[vm["hypervisor"]]
            dom = vm["dom"]["dom"]
            conn = self._conn(hv)[0]
            return dom if conn is hv.conn else conn.lookupByUUIDString(dom.UUIDString())

        def operate(vm):
            dom = domain_of(vm)
            action = vm["state_action"]
            if action == "restart":
                if dom.isActive():
                    dom.destroy()
                action = "start"
            if action == "resume":
                dom.resume()
            elif action == "suspend":
                dom.suspend()
            elif action == "start":
                if self.state == "paused":
                    try:
                        dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED)
                    except lv.libvirtError as exc:
                        if exc.get_error_code() != lv.VIR_ERR_NO_SUPPORT and "unsupported" not in _lv_message(exc):
                            raise
                        dom.create()     # the test driver cannot start paused
                        dom.suspend()
                else:
                    dom.create()
            return _STATE_NAMES.get(dom.state()[0])

        def status_of(vm):
            return _STATE_NAMES.get(vm["dom"]["dom"].state()[0])

        if not jobs:
            return
        scheduler = GradualScheduler(rate=self.params.get("start_rate") or 0, concurrency=self.params.get("concurrency") or 4,
                                     wait=False)
        results = scheduler.run(jobs, operate, status_of, "running" if self.state == "running" else "paused")
        failed = []
        for vm, res in zip(jobs, results):
            vm["run_state"] = res["status"]
            if res["ok"]:
                vm["state_done"] = vm["state_action"]
            else:
                vm["state_error"] = res["error"]
                failed.append("%s on %s: %s" % (vm["name"], vm["hypervisor"], res["error"]))
        if failed:
            raise FarmError("%d of %d VMs did not reach state %s (they stay defined; a rerun retries): %s"
                            % (len(failed), len(jobs), self.state, "; ".join(failed)), vms=self._vm_results())

    def _remove(self):
        errors = []
        for name in self.names:
            vm = self.vms[name]
            if not vm["exists"]:
                continue
            hv = self.by_name[vm["hypervisor"]]
            dom = vm["dom"]["dom"]
            try:
                if dom.isActive():
                    dom.destroy()
                try:
                    dom.undefineFlags(self.lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | self.lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                      | self.lv.VIR_DOMAIN_UNDEFINE_NVRAM)
                except self.lv.libvirtError:
                    dom.undefine()
            except self.lv.libvirtError as exc:
                errors.append("%s on %s: %s" % (name, hv.name, _lv_message(exc)))
                continue
            vm["done"] = "removed"
            overlay = vm["recorded"].get("overlay") or vm["overlay"]
            backing = vm["recorded"].get("backing_file")
            if vm["overlay_created"] and overlay and overlay != backing:
                hv.find_pool(make=True)
                vol, dummy = hv.overlay(os.path.basename(overlay))
                if vol is not None and os.path.normpath(vol.path()) == os.path.normpath(overlay):
                    try:
                        vol.delete(0)
                        vm["overlay_removed"] = True
                    except self.lv.libvirtError as exc:
                        errors.append("%s: overlay %s: %s" % (name, overlay, _lv_message(exc)))
        if errors:
            raise FarmError("removing failed for: %s. A rerun removes what is left." % "; ".join(errors),
                            vms=self._vm_results())

    # -- results --
    def _vm_results(self):
        out = []
        for name in self.names:
            vm = self.vms[name]
            if self.state == "absent":
                state = "absent" if (vm.get("done") == "removed" or (self.check_mode and vm["exists"]) or not vm["exists"]) \
                    else vm["state_before"]
                action = "removed" if vm["exists"] else "none"
                out.append({"name": name, "hypervisor": vm["hypervisor"], "uri": vm["uri"], "mac": vm["mac"],
                            "ip": vm["ip"], "overlay": vm["overlay"], "uuid": vm["uuid"], "state": state,
                            "action": action, "overlay_removed": bool(vm.get("overlay_removed")
                                                                      or (self.check_mode and vm["overlay_created"]))})
                continue
            want = vm.get("want") or {}
            if vm["action"] == "differs":
                mac, overlay = vm["mac"], vm["overlay"]
            else:
                mac, overlay = want.get("mac"), want.get("overlay")
            state = vm.get("run_state") or (self._target_state(vm) if self.check_mode else vm["state_before"])
            if not self.check_mode and vm["action"] == "create" and not vm.get("run_state"):
                state = "shutoff"
            actions = {"create": "created", "update": "updated", "keep": "unchanged", "differs": "differs"}
            out.append({"name": name, "hypervisor": vm["hypervisor"], "uri": vm["uri"], "mac": mac, "ip": vm["ip"],
                        "overlay": overlay, "uuid": vm["uuid"], "state": state, "action": actions.get(vm["action"]),
                        "started": vm.get("state_action"),
                        "differs": vm["differs"]})
        return out

    def _target_state(self, vm):
        if self.state in ("running", "paused"):
            return self.state
        return "shutoff" if vm["action"] == "create" else vm["state_before"]

    def result(self):
        vms = self._vm_results()
        created = [v["name"] for v in vms if v["action"] == "created"]
        updated = [v["name"] for v in vms if v["action"] == "updated"]
        removed = [v["name"] for v in vms if v["action"] == "removed"]
        differs = [v["name"] for v in vms if v["action"] == "differs"]
        started = [v["name"] for v in vms if v.get("started")]
        changed = bool(created or updated or removed or started)
        counts = dict((hv.name, 0) for hv in self.hvs)
        for v in vms:
            if v["hypervisor"] and v["state"] != "absent":
                counts[v["hypervisor"]] += 1
        before, after = {}, {}
        for entry in vms:       # one per name, in order: no search
            name = entry["name"]
            vm = self.vms[name]
            if entry["action"] in ("unchanged", "none") and not entry.get("started"):
                continue
            before[name] = vm["before"]
            if self.state == "absent":
                after[name] = None
            else:
                want = vm.get("want") or {}
                after[name] = {"hypervisor": entry["hypervisor"], "state": entry["state"],
                               "memory_mb": want.get("memory_mb"), "vcpus": want.get("vcpus"), "mac": entry["mac"]}
                if vm["differs"]:
                    after[name]["differs"] = dict((k, {"now": vm["recorded"].get(k, vm["live"].get(k)), "wanted": want.get(k)})
                                                  for k in vm["differs"])
                    if entry["action"] == "differs":
                        after[name]["update"] = "needs update: true"
        return {
            "changed": changed,
            "vms": vms,
            "created": created, "updated": updated, "removed": removed, "started": started, "differs": differs,
            "placement": [{"hypervisor": hv.name, "vms": counts[hv.name]} for hv in self.hvs],
            "diff": {"before": {"vms": before}, "after": {"vms": after}},
        }
