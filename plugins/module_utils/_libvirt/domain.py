# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A farm VM as libvirt XML, and its identities. Pure functions, no connection.

* ``wanted_spec()``: what a VM should be (the template, its MAC, overlay and backing file);
* ``render_xml()`` / ``read_domain()``: the domain XML made from a spec, and what a domain's XML says;
  a domain made here carries ``<metadata><labfarm:farm>`` with the spec it was made from and whether
  its overlay was made here, so a rerun compares specs and ``absent`` removes only overlays it made;
* ``differences()``: the spec keys a rerun would change;
* ``mac_for()`` / ``ips_for()``: a VM's MAC (derived from its name) and address (from its rank);
* ``overlay_volume_xml()`` / ``pool_xml()``: the storage XML of an overlay and of a transient pool.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import xml.etree.ElementTree as ET

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import format_mac
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError

NS = "https://github.com/labfarm/massclone/vm_farm/1"
ET.register_namespace("labfarm", NS)
# What a rerun compares (and update changes); the live domain is read for the first five too.
SPEC_KEYS = ("memory_mb", "vcpus", "mac", "overlay", "network", "bridge", "nic_model", "machine", "arch",
             "domain_type", "boot", "extra_xml", "backing_file", "backing_format", "disk_gb")
# virDomainState, by number
STATE_NAMES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
               6: "crashed", 7: "pmsuspended"}


# -- identities ---------------------------------------------------------------

def mac_for(octets, name, taken):
    """Deterministic MAC for ``name``: the prefix, then bytes of sha256(name#n) for the first n whose
    MAC is not in ``taken`` (usually n = 0, so a VM keeps its MAC whatever else is in the batch)."""
    prefix = bytes(bytearray(octets))
    n = 0
    while True:
        digest = hashlib.sha256(("%s#%d" % (name, n)).encode("utf-8")).digest()
        mac = format_mac(int.from_bytes(prefix + digest[:6 - len(prefix)], "big"))
        if mac not in taken:
            return mac
        n += 1


def ips_for(first_ip, names):
    """{name: address}: VM number i of ``names`` gets ``first_ip`` + i; {name: None} without ``first_ip``."""
    if not first_ip:
        return dict.fromkeys(names)
    first = ipaddress.ip_address(first_ip)
    return dict((name, str(first + index)) for index, name in enumerate(names))


# -- domain XML ---------------------------------------------------------------

def wanted_spec(template, name, mac, overlay, backing_file, backing_format, domain_type):
    """The spec a VM of ``template`` should have (SPEC_KEYS); no MAC and no NIC model without a NIC."""
    keys = ("memory_mb", "vcpus", "network", "bridge", "nic_model", "machine", "arch", "boot", "extra_xml", "disk_gb")
    spec = dict((k, template[k]) for k in keys)
    spec.update(mac=mac if (template["network"] or template["bridge"]) else None, overlay=overlay,
                backing_file=backing_file, backing_format=backing_format, domain_type=domain_type)
    if not spec["network"] and not spec["bridge"]:
        spec["nic_model"] = None
    return spec


def extra_elements(text):
    """The elements of a template's extra_xml; FarmError when it is not well-formed."""
    try:
        return list(ET.fromstring("<extra>%s</extra>" % text))
    except ET.ParseError as exc:
        raise FarmError("template.extra_xml is not well-formed XML (%s): give one or more elements, e.g. "
                        "<devices><serial type='pty'/></devices>." % exc)


def render_xml(name, spec, uuid=None, overlay_created=True):
    """The domain XML of VM ``name`` made from ``spec``, with the spec recorded in its metadata."""
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
    for element in extra_elements(spec["extra_xml"]) if spec["extra_xml"] else []:
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


# -- storage XML --------------------------------------------------------------

def xml_escape(text):
    """``text`` safe inside an XML element or a single-quoted attribute."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


def overlay_volume_xml(spec, volume_name):
    """The storage volume XML of a VM's qcow2 overlay on its backing file (the backing file's size
    unless the spec gives disk_gb)."""
    size = spec["disk_gb"] * 1024 ** 3 if spec["disk_gb"] else 0
    return ("<volume><name>%s</name><capacity unit='bytes'>%d</capacity><target><format type='qcow2'/>"
            "<permissions><mode>0600</mode></permissions></target><backingStore><path>%s</path>"
            "<format type='%s'/></backingStore></volume>"
            % (xml_escape(volume_name), size, xml_escape(spec["backing_file"]), spec["backing_format"]))


def pool_xml(pool_dir):
    """The XML of the transient directory pool made on ``pool_dir`` when no pool holds it; its name is
    derived from the directory, so two calls on one directory use one name."""
    name = "labfarm-%s" % hashlib.sha1(pool_dir.encode("utf-8")).hexdigest()[:10]
    return "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, xml_escape(pool_dir))


def pool_target(pool_xml_text):
    """The target directory a storage pool's XML names, or None."""
    return ET.fromstring(pool_xml_text).findtext("target/path")


def volume_backing(volume_xml_text):
    """The backing file a storage volume's XML names, or None."""
    return ET.fromstring(volume_xml_text).findtext("backingStore/path")


def domain_types(capabilities_xml):
    """The domain types (kvm, qemu, test...) a hypervisor's capabilities XML offers."""
    root = ET.fromstring(capabilities_xml)
    return set(domain.get("type") for domain in root.iter("domain") if domain.get("type"))
