# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The identity of an imaged system (module labfarm.massclone.disk_identity): what must change in its files so
that no two machines imaged from one golden disk share a host name, machine-id or SSH host key.

Pure: the files' current contents in, the plan out. The marker /etc/labfarm/identity.json records the identity
this module gave, so a rerun sees that the disk already holds it (no change) and a disk freshly copied from the
golden image (no marker, or one for another host name or other keys) gets a new one. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import os
import re

MARKER = "etc/labfarm/identity.json"
KEY_TYPES = ("ed25519", "ecdsa", "rsa")
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def hostname_problem(hostname):
    """Why hostname cannot be a host name (RFC 1123 labels), or None."""
    if not isinstance(hostname, str) or len(hostname) > 253 or not _HOSTNAME.match(hostname):
        return "%r is not a valid host name (letters, digits and '-' in dot-separated labels of at most 63)" % (hostname,)
    return None


def new_machine_id(random_bytes=os.urandom):
    """A new machine-id: 32 lower-case hex digits, as systemd-machine-id-setup writes (never all zeros)."""
    while True:
        value = binascii.hexlify(random_bytes(16)).decode("ascii")
        if value.strip("0"):
            return value


def hosts_text(current, hostname):
    """/etc/hosts with the 127.0.1.1 line naming hostname (Debian's convention), every other line kept."""
    short = hostname.split(".", 1)[0]
    wanted = "127.0.1.1\t%s" % (hostname if short == hostname else "%s %s" % (hostname, short))
    lines = (current or "").splitlines()
    out, placed = [], False
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if fields and fields[0] == "127.0.1.1":
            if not placed:
                out.append(wanted)
                placed = True
            continue
        out.append(line)
    if not placed:
        at = next((i + 1 for i, line in enumerate(out) if line.split()[:1] == ["127.0.0.1"]), len(out))
        out.insert(at, wanted)
    return "\n".join(out) + "\n"


def key_types(present):
    """The SSH host key types to (re)generate: those the golden system has, or ed25519 alone."""
    types = [t for t in KEY_TYPES if t in present]
    return types or ["ed25519"]


def plan(current, hostname):
    """What to change. current: {hostname, machine_id, hosts, marker (dict or None), host_keys ({type: public
    line})}. Returns {changes: [what], hostname, hosts (new text or None), machine_id (new or None),
    regenerate_keys: [types]}; no changes when the marker says this disk already holds this host's identity."""
    problem = hostname_problem(hostname)
    if problem:
        raise ValueError(problem)
    changes = []
    out = {"hostname": None, "hosts": None, "machine_id": None, "regenerate_keys": []}
    if (current.get("hostname") or "").strip() != hostname:
        out["hostname"] = hostname
        changes.append("hostname %s -> %s" % ((current.get("hostname") or "").strip() or "(none)", hostname))
    hosts = hosts_text(current.get("hosts"), hostname)
    if hosts != (current.get("hosts") or ""):
        out["hosts"] = hosts
        changes.append("/etc/hosts: 127.0.1.1 %s" % hostname)
    marker = current.get("marker") or {}
    keys = current.get("host_keys") or {}
    machine_id = (current.get("machine_id") or "").strip()
    own = (marker.get("hostname") == hostname and marker.get("machine_id") == machine_id and machine_id
           and marker.get("host_keys") == keys and keys)
    if not own:
        out["machine_id"] = new_machine_id()
        out["regenerate_keys"] = key_types(keys)
        changes.append("machine-id %s -> a new one" % (machine_id or "(none)"))
        changes.append("SSH host keys regenerated: %s" % ", ".join(out["regenerate_keys"]))
    out["changes"] = changes
    return out


def marker(hostname, machine_id, host_keys):
    """The marker's content once the identity is written."""
    return {"hostname": hostname, "machine_id": machine_id, "host_keys": dict(host_keys), "by": "labfarm.massclone.disk_identity"}
