# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The options of libvirt_farm and libvirt_farm_info: their argument spec, and the checks that name the
bad value and its fix before any connection is made. No connection here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import MacError, parse_mac_prefix
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_whole
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import extra_elements
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.names import NamesError, names_from
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.placement import POLICIES

STATES = ("present", "running", "paused", "absent")
BOOT_DEVICES = ("hd", "network", "cdrom")
DOMAIN_TYPES = ("auto", "kvm", "qemu", "test")
MAX_VMS = 10000
DEFAULT_MAC_PREFIX = "52:54:00"     # QEMU's own prefix
TEMPLATE_DEFAULTS = {
    "memory_mb": 512, "vcpus": 1, "disk_gb": None, "network": None, "bridge": None, "nic_model": "virtio",
    "machine": None, "arch": "x86_64", "domain_type": "auto", "boot": ["hd"], "extra_xml": None,
}
HYPERVISOR_KEYS = ("name", "uri", "pool_dir", "memory_mb", "vcpus", "weight", "max_vms")
# libvirt's own rule for a domain name, which also names the overlay file
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


# -- the argument spec --------------------------------------------------------

def shared_argument_spec():
    """The argument spec of the options both modules take (documented by the doc fragment
    labfarm.massclone.libvirt): hypervisors, template, cpu_overcommit, reserve_memory_mb."""
    return dict(
        hypervisors=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            uri=dict(type="str", required=True),
            pool_dir=dict(type="str", required=True),
            memory_mb=dict(type="int"),
            vcpus=dict(type="int"),
            max_vms=dict(type="int"),
            weight=dict(type="float"),
        )),
        template=dict(type="dict", default={}, options=dict(
            memory_mb=dict(type="int", default=TEMPLATE_DEFAULTS["memory_mb"]),
            vcpus=dict(type="int", default=TEMPLATE_DEFAULTS["vcpus"]),
            disk_gb=dict(type="int"),
            network=dict(type="str"),
            bridge=dict(type="str"),
            nic_model=dict(type="str", default=TEMPLATE_DEFAULTS["nic_model"]),
            machine=dict(type="str"),
            arch=dict(type="str", default=TEMPLATE_DEFAULTS["arch"]),
            domain_type=dict(type="str", default=TEMPLATE_DEFAULTS["domain_type"], choices=list(DOMAIN_TYPES)),
            boot=dict(type="list", elements="str", default=list(TEMPLATE_DEFAULTS["boot"])),
            extra_xml=dict(type="str"),
        )),
        cpu_overcommit=dict(type="float", default=1.0),
        reserve_memory_mb=dict(type="int", default=0),
    )


def info_params(params):
    """libvirt_farm_info's parameters as farm_info takes them: of the template, only what a VM needs
    (memory_mb, vcpus) counts; a template that libvirt_farm would refuse for its NIC or XML is not the
    info module's business."""
    params = dict(params)
    params["template"] = dict((k, v) for k, v in (params["template"] or {}).items() if k in ("memory_mb", "vcpus"))
    return params


# -- the checks ---------------------------------------------------------------

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
    try:
        return parse_whole(value, where, minimum=minimum, fix=fix)
    except ValueError as exc:
        raise FarmError(str(exc))


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
        extra_elements(spec["extra_xml"])
    return spec


def mac_prefix(value):
    """The VMs' MAC prefix (_common.mac's rule; universally administered prefixes such as QEMU's 52:54:00
    or Xen's 00:16:3e are allowed, as libvirt does); FarmError otherwise."""
    try:
        return parse_mac_prefix(value, allow_universal=True)
    except MacError as exc:
        raise FarmError("mac_prefix: %s. VMs take 1 to 5 hex octets of a unicast prefix; QEMU's is 52:54:00." % exc)


def check_mac_prefix(value):
    """'52:54:00' -> [0x52, 0x54, 0x00], the octets mac_for() takes."""
    return list(mac_prefix(value).octets)


def check_hypervisors(hypervisors):
    """The hypervisor records, checked and normalised (pool_dir normpath'ed); FarmError naming the bad one."""
    if not isinstance(hypervisors, list) or not hypervisors:
        raise FarmError("hypervisors must be a non-empty list of {name, uri, pool_dir}, got %r." % (hypervisors,))
    seen = set()
    out = []
    for index, hv in enumerate(hypervisors):
        where = "hypervisors[%d]" % index
        if not isinstance(hv, dict):
            raise FarmError("%s must be a mapping {name, uri, pool_dir}, got %s." % (where, type_name(hv)))
        unknown = sorted(set(hv) - set(HYPERVISOR_KEYS))
        if unknown:
            raise FarmError("%s: unknown key(s) %s; known: %s." % (where, ", ".join(unknown), ", ".join(HYPERVISOR_KEYS)))
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


def _check_backing(backing, params, names, hypervisors):
    if not isinstance(backing, str) or not os.path.isabs(backing):
        raise FarmError("backing_file %r must be the absolute path of the image the overlays are made on (the "
                        "same path on every hypervisor)." % (backing,))
    if params.get("backing_format", "qcow2") not in ("qcow2", "raw"):
        raise FarmError("backing_format %r: use qcow2 or raw." % params.get("backing_format"))
    directory, base = os.path.split(os.path.normpath(backing))
    if base.endswith(".qcow2") and base[:-len(".qcow2")] in set(names):
        for hv in hypervisors:
            if directory == hv["pool_dir"]:
                raise FarmError("backing_file %r is also the overlay path of a VM in pool_dir %s; rename the backing "
                                "file or the VM." % (backing, hv["pool_dir"]))


def check_params(params):
    """All option checks of libvirt_farm; returns (names, template, hypervisors, the MacPrefix)."""
    state = params.get("state", "running")
    if state not in STATES:
        raise FarmError("state %r: use one of %s." % (state, ", ".join(STATES)))
    names = expand_vms(params.get("vms"))
    hypervisors = check_hypervisors(params.get("hypervisors"))
    template = check_template(params.get("template"))
    prefix = mac_prefix(params.get("mac_prefix") or DEFAULT_MAC_PREFIX)
    if params.get("distribution", "round_robin") not in POLICIES:
        raise FarmError("distribution %r: use one of %s." % (params.get("distribution"), ", ".join(POLICIES)))
    if state != "absent":
        _check_backing(params.get("backing_file"), params, names, hypervisors)
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
    return names, template, hypervisors, prefix
