# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What netboot_config would change: the files whose content differs from what is live, the stale
per-MAC files to remove, and the hosts added, removed and changed.

plan() checks (validate.py), renders (render.py), reads what is live through files.py and compares;
the comparison itself is pure. Nothing is written here: files.apply_plan() does that.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.files import list_dir, read_text
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.render import (
    PER_MAC_NAMES, is_generated, parse_host_comments, parse_live_hosts, render_dhcp, render_pxe)
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.validate import NetbootError, check_options, validate


class Plan(object):
    """Every file to write (path -> bytes, only those whose content differs), stale PXE files to
    remove, and the host-level changes."""

    def __init__(self):
        self.files = []          # every path managed, in order
        self.writes = {}         # path -> bytes, only those that change
        self.removals = []       # stale per-MAC files this module wrote earlier
        self.changes = None
        self.diff = None
        self.candidates = {}     # name -> text for the daemon's config test
        self.main_path = None
        self.dhcp_files = []
        self.hosts = 0

    @property
    def changed(self):
        return bool(self.writes or self.removals)


def summarize_changes(before, hosts):
    """before: {mac: {name, mac, ip[, boot]}}. Hosts are matched by name; returns
    ({added, removed, changed: lists of names}, diff before dict, diff after dict)."""
    old = dict((item["name"], item) for item in before.values())
    new = dict((h.name, h.summary()) for h in hosts)
    added = [h.name for h in hosts if h.name not in old]
    removed = sorted(name for name in old if name not in new)
    changed = []
    diff_before = {}
    diff_after = {}
    for h in hosts:
        previous = old.get(h.name)
        if previous is None:
            diff_after[h.name] = new[h.name]
            continue
        current = new[h.name]
        fields = [key for key in ("mac", "ip", "boot") if key in previous and previous[key] != current[key]]
        if fields:
            changed.append(h.name)
            diff_before[h.name] = dict((key, previous[key]) for key in fields)
            diff_after[h.name] = dict((key, current[key]) for key in fields)
    for name in removed:
        diff_before[name] = old[name]
    return {"added": added, "removed": removed, "changed": changed}, diff_before, diff_after


def add_files(the_plan, rendered, live, root=None):
    """Put every rendered file ({name: text}, names relative to ``root`` when given) in the plan, and in its
    writes those whose live text ({name: text or None}) differs."""
    for name, text in rendered.items():
        path = os.path.join(root, name) if root else name
        the_plan.files.append(path)
        data = text.encode("utf-8")
        current = live[name]
        if current is None or current.encode("utf-8") != data:
            the_plan.writes[path] = data


def live_boots(before, live_pxe):
    """Add to ``before`` ({mac: host}) the boot profile each host's live pxelinux file names
    (live_pxe: {name under tftp_root: text or None})."""
    for relative, current in live_pxe.items():
        if current is not None and relative.startswith("pxelinux.cfg/"):
            for dummy, mac, dummy, boot in parse_host_comments(current):
                if mac in before:
                    before[mac]["boot"] = boot


def stale_candidates(listings, wanted):
    """The names under tftp_root that look like a per-MAC file and are not ``wanted``, from
    {directory: [entries]}: those holding our marker are removed. Backups (~) and other tools' files stay."""
    names = []
    for directory, pattern in PER_MAC_NAMES:
        for entry in listings.get(directory, ()):
            name = "%s/%s" % (directory, entry)
            if name not in wanted and pattern.match(entry):
                names.append(name)
    return names


def unknown_to_dhcp(host_list, known, dest):
    """The problems of a boot_only call: each listed host must be in the live DHCP configuration ``known``
    ({mac: {name, mac, ip}}) under the same name and address."""
    problems = []
    for h in host_list:
        live = known.get(h.mac)
        if live is None:
            problems.append("host %r: mac %s is not in the live DHCP configuration %s" % (h.name, h.mac, dest))
        elif (live["name"], live["ip"]) != (h.name, h.ip):
            problems.append("host %r: the live DHCP configuration %s has mac %s as host %r with ip %s, not %s" % (
                h.name, dest, h.mac, live["name"], live["ip"], h.ip))
    return problems


def plan_boot_entries(host_list, profiles, default_profile, backend, dest, tftp_root):
    """boot_only: only the listed hosts' per-MAC boot entries; the DHCP files, the menus and every other
    host's entries are left alone and nothing is removed."""
    if not tftp_root:
        raise NetbootError("boot_only changes the per-MAC boot entries under tftp_root: give tftp_root")
    known = parse_live_hosts(backend, read_text(dest), read_text(dest + ".hosts") if backend == "dnsmasq" else None)
    problems = unknown_to_dhcp(host_list, known, dest)
    if problems:
        raise NetbootError("%d host(s) of a boot_only call are not served as given, nothing was written (run "
                           "netboot_config with every host first):\n  - %s" % (len(problems), "\n  - ".join(problems)))
    result = Plan()
    result.main_path = dest
    pxe_files = render_pxe(host_list, profiles, default_profile, menus=False)
    live_pxe = dict((name, read_text(os.path.join(tftp_root, name))) for name in pxe_files)
    before = dict((h.mac, dict(known[h.mac])) for h in host_list)
    live_boots(before, live_pxe)
    add_files(result, pxe_files, live_pxe, tftp_root)
    result.changes, diff_before, diff_after = summarize_changes(before, host_list)
    result.diff = {"before": diff_before, "after": diff_after}
    result.hosts = len(host_list)
    return result


def plan(hosts, subnets, backend, dest, interfaces=(), profiles=None, default_profile="local", tftp_root=None,
         tftp_server=None, enable_tftp=False, ipxe_url=None, dns_port=0, lease_file=None, pid_file=None,
         log_file=None, control_socket=None, boot_only=False):
    """Validate, render and compare with what is on disk. Writes nothing. With ``boot_only``, only the
    listed hosts' per-MAC boot entries (plan_boot_entries)."""
    tftp_server = check_options(backend, dest, tftp_server, tftp_root)
    host_list, subnet_list, merged = validate(hosts, subnets, profiles, default_profile)
    if boot_only:
        return plan_boot_entries(host_list, merged, default_profile, backend, dest, tftp_root)
    result = Plan()
    result.main_path = dest
    rendered, result.candidates["main"] = render_dhcp(
        backend, dest, host_list, subnet_list, interfaces=interfaces, tftp_server=tftp_server, tftp_root=tftp_root,
        enable_tftp=enable_tftp, pxe=bool(tftp_root or tftp_server or enable_tftp), ipxe_url=ipxe_url,
        dns_port=dns_port, lease_file=lease_file, pid_file=pid_file, log_file=log_file, control_socket=control_socket)
    live = dict((path, read_text(path)) for path in rendered)
    before = parse_live_hosts(backend, live[dest], live.get(dest + ".hosts"))
    result.dhcp_files = list(rendered)
    add_files(result, rendered, live)
    if tftp_root:
        pxe_files = render_pxe(host_list, merged, default_profile)
        live_pxe = dict((name, read_text(os.path.join(tftp_root, name))) for name in pxe_files)
        live_boots(before, live_pxe)
        add_files(result, pxe_files, live_pxe, tftp_root)
        listings = dict((directory, list_dir(os.path.join(tftp_root, directory))) for directory, dummy in PER_MAC_NAMES)
        for name in stale_candidates(listings, pxe_files):
            path = os.path.join(tftp_root, name)
            current = read_text(path)
            if current is not None and is_generated(current):
                result.removals.append(path)
    result.changes, diff_before, diff_after = summarize_changes(before, host_list)
    result.diff = {"before": diff_before, "after": diff_after}
    result.hosts = len(host_list)
    return result
