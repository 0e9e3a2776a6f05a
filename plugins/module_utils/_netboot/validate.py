# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The checks on what a user gives netboot_config: hosts, subnets, boot profiles and the options.

The whole batch is checked before anything is rendered or written (the daemons' own config tests miss
most of what goes wrong), and one NetbootError lists every offender: host name, value, rule broken.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.mac import normalize_mac

BACKENDS = ("dnsmasq", "isc", "kea")
PROFILE_TYPES = ("local", "linux", "ipxe_chain", "imaging")
BUILTIN_PROFILES = {
    "local": {"type": "local", "label": "Boot from local disk"},
}

_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class NetbootError(Exception):
    """Bad input or a failed step; the message names every offending value and the rule broken."""


class Subnet(object):
    """A checked subnet; lo and hi are its first and last address as ints, index its position in the input."""

    __slots__ = ("network", "gateway", "dns", "first", "last", "domain", "lo", "hi", "index")

    def __init__(self, index, network, gateway, dns, first, last, domain):
        self.index = index
        self.network = network
        self.gateway = gateway
        self.dns = dns
        self.first = first
        self.last = last
        self.domain = domain
        self.lo = int(network.network_address)
        self.hi = int(network.broadcast_address)


class Host(object):
    """A checked host: MAC written aa:bb:cc:dd:ee:ff, its boot profile's name and its Subnet."""

    __slots__ = ("name", "mac", "ip", "boot", "subnet")

    def __init__(self, name, mac, ip, boot, subnet):
        self.name = name
        self.mac = mac
        self.ip = ip
        self.boot = boot
        self.subnet = subnet

    def summary(self):
        return {"name": self.name, "mac": self.mac, "ip": self.ip, "boot": self.boot}


def check_options(backend, dest, tftp_server=None, tftp_root=None):
    """The options beside the hosts; returns tftp_server written as an IPv4 address (or as given when empty)."""
    if backend not in BACKENDS:
        raise NetbootError("backend %r is not one of %s" % (backend, ", ".join(BACKENDS)))
    if not dest or not os.path.isabs(dest):
        raise NetbootError("dest %r must be an absolute path to the daemon's main configuration file" % (dest,))
    if tftp_server:
        try:
            tftp_server = str(ipaddress.IPv4Address(str(tftp_server)))
        except ValueError:
            raise NetbootError("tftp_server %r is not an IPv4 address" % (tftp_server,))
    if tftp_root and not os.path.isabs(tftp_root):
        raise NetbootError("tftp_root %r must be an absolute path" % (tftp_root,))
    return tftp_server


def parse_subnets(subnets):
    """Check every subnet; returns a list of Subnet, or raises NetbootError listing every problem."""
    errors = []
    parsed = []
    if not subnets:
        raise NetbootError("subnets is empty: give at least one {network, gateway} the hosts live in")
    for index, item in enumerate(subnets):
        where = "subnets[%d]" % index
        if not isinstance(item, dict):
            errors.append("%s: %r is not a dict with network, gateway, dns, dynamic_range" % (where, item))
            continue
        try:
            network = ipaddress.IPv4Network(str(item.get("network")), strict=True)
        except ValueError as exc:
            errors.append("%s: network %r is not an IPv4 network in CIDR form with no host bits set "
                          "(example 10.99.0.0/24): %s" % (where, item.get("network"), exc))
            continue
        where = "subnet %s" % network
        if network.prefixlen > 30:
            errors.append("%s: prefix /%d leaves no room for hosts; use /30 or shorter" % (where, network.prefixlen))
            continue
        gateway = None
        if item.get("gateway") not in (None, ""):
            try:
                gateway = ipaddress.IPv4Address(str(item["gateway"]))
            except ValueError:
                errors.append("%s: gateway %r is not an IPv4 address" % (where, item["gateway"]))
            else:
                if gateway not in network or gateway in (network.network_address, network.broadcast_address):
                    errors.append("%s: gateway %s is outside the subnet's usable addresses %s-%s" % (
                        where, gateway, network.network_address + 1, network.broadcast_address - 1))
        dns = []
        for server in item.get("dns") or []:
            try:
                dns.append(ipaddress.IPv4Address(str(server)))
            except ValueError:
                errors.append("%s: dns server %r is not an IPv4 address" % (where, server))
        first = last = None
        dynamic = item.get("dynamic_range")
        if dynamic not in (None, ""):
            parts = str(dynamic).split("-")
            try:
                if len(parts) != 2:
                    raise ValueError("not FIRST-LAST")
                first, last = ipaddress.IPv4Address(parts[0].strip()), ipaddress.IPv4Address(parts[1].strip())
            except ValueError:
                errors.append("%s: dynamic_range %r is not FIRST-LAST with two IPv4 addresses "
                              "(example 10.99.0.100-10.99.0.199)" % (where, dynamic))
                first = last = None
            else:
                usable = (network.network_address + 1, network.broadcast_address - 1)
                if first > last:
                    errors.append("%s: dynamic_range %r is inverted: %s comes after %s; write it as %s-%s" % (
                        where, dynamic, first, last, last, first))
                    first = last = None
                elif first < usable[0] or last > usable[1]:
                    errors.append("%s: dynamic_range %r is outside the subnet's usable addresses %s-%s" % (
                        where, dynamic, usable[0], usable[1]))
                    first = last = None
                elif gateway is not None and first <= gateway <= last:
                    errors.append("%s: dynamic_range %r holds the gateway %s" % (where, dynamic, gateway))
        domain = item.get("domain") or None
        if domain is not None and not all(_LABEL_RE.match(label) for label in str(domain).rstrip(".").split(".")):
            errors.append("%s: domain %r is not a valid DNS name (RFC 1123 labels separated by dots)" % (where, domain))
        parsed.append(Subnet(len(parsed), network, gateway, dns, first, last, domain))
    ordered = sorted(parsed, key=lambda s: s.lo)
    for before, after in zip(ordered, ordered[1:]):
        if after.lo <= before.hi:
            errors.append("subnet %s overlaps subnet %s: every subnet must be disjoint" % (after.network, before.network))
    if errors:
        raise NetbootError("%d problem(s) in subnets:\n  - %s" % (len(errors), "\n  - ".join(errors)))
    return parsed


def _imaging_problems(name, value):
    """What is wrong with an imaging profile: it boots a kernel and an initrd and tells the node where its
    controller is (``server``, an IPv4 address), in words that go on a kernel command line."""
    problems = []
    for key in ("kernel", "initrd"):
        if not value.get(key):
            problems.append("profile %r: type imaging needs a %s (path under tftp_root or URL)" % (name, key))
    server = value.get("server")
    try:
        value["server"] = str(ipaddress.IPv4Address(str(server).strip()))
    except ValueError:
        problems.append("profile %r: server %r is not an IPv4 address (the controller the imaging system reaches)"
                        % (name, server))
    for key in ("kernel", "initrd", "append"):
        if value.get(key) is not None and ("\n" in str(value[key]) or (key != "append" and " " in str(value[key]))):
            problems.append("profile %r: %s %r holds a %s" % (
                name, key, value[key], "line break" if "\n" in str(value[key]) else "space"))
    return problems


def merge_profiles(profiles, default_profile):
    """Built-in profiles overlaid with the given ones; checks each. Returns {name: profile dict}."""
    merged = dict((name, dict(value)) for name, value in BUILTIN_PROFILES.items())
    errors = []
    for name, value in (profiles or {}).items():
        if not _PROFILE_NAME_RE.match(str(name)):
            errors.append("profile %r: the name must be letters, digits, '_', '.', '-' (it becomes a menu label)" % name)
            continue
        value = dict(value or {})
        kind = value.get("type") or "linux"
        value["type"] = kind
        if kind not in PROFILE_TYPES:
            errors.append("profile %r: type %r is not one of %s" % (name, kind, ", ".join(PROFILE_TYPES)))
        elif kind == "linux" and not value.get("kernel"):
            errors.append("profile %r: type linux needs a kernel (path under tftp_root or URL)" % name)
        elif kind == "ipxe_chain" and not value.get("url"):
            errors.append("profile %r: type ipxe_chain needs a url (the iPXE script to chain to)" % name)
        elif kind == "imaging":
            errors.extend(_imaging_problems(name, value))
        value.setdefault("label", name)
        merged[name] = value
    if default_profile not in merged:
        errors.append("default_profile %r is not a profile; known: %s" % (default_profile, ", ".join(sorted(merged))))
    if errors:
        raise NetbootError("%d problem(s) in profiles:\n  - %s" % (len(errors), "\n  - ".join(errors)))
    return merged


def validate(hosts, subnets, profiles=None, default_profile="local"):
    """Check the whole batch. Returns (list of Host, list of Subnet, profiles) or raises NetbootError
    that lists every offender: host name, value, rule broken."""
    subnet_list = parse_subnets(subnets)
    merged = merge_profiles(profiles, default_profile)
    errors = []
    names = {}
    macs = {}
    ips = {}
    result = []
    by_start = sorted(subnet_list, key=lambda s: s.lo)
    single = by_start[0] if len(by_start) == 1 else None
    for index, item in enumerate(hosts or []):
        if not isinstance(item, dict):
            errors.append("hosts[%d]: %r is not a dict with name, mac, ip" % (index, item))
            continue
        name = item.get("name")
        label = "host %r (hosts[%d])" % (name, index)
        if not isinstance(name, str) or not _LABEL_RE.match(name):
            errors.append("%s: name %r is not a valid host name (RFC 1123 label: 1-63 letters, digits and '-', "
                          "not starting or ending with '-')" % (label, name))
        else:
            key = name.lower()
            if key in names:
                errors.append("%s: name %r is a duplicate of hosts[%d] (names are case-insensitive)" % (
                    label, name, names[key]))
            else:
                names[key] = index
        raw_mac = item.get("mac")
        mac = normalize_mac(raw_mac)
        if mac is None:
            errors.append("%s: mac %r is malformed: write six hex octets separated by ':' or '-', or Cisco-dotted "
                          "aabb.ccdd.eeff (example 52:54:00:aa:bb:01)" % (label, raw_mac))
        elif mac in macs:
            errors.append("%s: mac %s is a duplicate of host %r" % (label, mac, macs[mac]))
        else:
            macs[mac] = name
        raw_ip = item.get("ip")
        subnet = None
        try:
            ip = ipaddress.IPv4Address(str(raw_ip).strip())
        except ValueError:
            errors.append("%s: ip %r is not an IPv4 address" % (label, raw_ip))
            ip = None
        if ip is not None:
            value = int(ip)
            if single is not None:
                subnet = single if single.lo <= value <= single.hi else None
            else:
                for candidate in by_start:
                    if candidate.lo <= value <= candidate.hi:
                        subnet = candidate
                        break
            if subnet is None:
                errors.append("%s: ip %s is outside every subnet (%s)" % (
                    label, ip, ", ".join(str(s.network) for s in subnet_list)))
            elif value == subnet.lo:
                errors.append("%s: ip %s is the network address of %s" % (label, ip, subnet.network))
            elif value == subnet.hi:
                errors.append("%s: ip %s is the broadcast address of %s" % (label, ip, subnet.network))
            elif subnet.first is not None and subnet.first <= ip <= subnet.last:
                errors.append("%s: ip %s is inside the dynamic range %s-%s of %s; reserve addresses outside it" % (
                    label, ip, subnet.first, subnet.last, subnet.network))
            elif subnet.gateway is not None and ip == subnet.gateway:
                errors.append("%s: ip %s is the gateway of %s" % (label, ip, subnet.network))
            if value in ips:
                errors.append("%s: ip %s is a duplicate of host %r" % (label, ip, ips[value]))
            else:
                ips[value] = name
        boot = item.get("boot") or default_profile
        if boot not in merged:
            errors.append("%s: boot %r is not a profile; known: %s" % (label, boot, ", ".join(sorted(merged))))
        result.append(Host(name, mac, str(ip) if ip is not None else raw_ip, boot, subnet))
    if errors:
        raise NetbootError("%d problem(s) in hosts, nothing was written:\n  - %s" % (
            len(errors), "\n  - ".join(errors)))
    return result, subnet_list, merged
