# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What labfarm.massclone.disk_identity shows with --diff: the host name, machine-id and SSH host key
fingerprints of the installed system before and after (never a private key), in Ansible's diff format.

Pure: identities (identity_disk.read_identity's answers) and identity.plan's answer in, the diff out. Standard
library only: it runs on the node, in the imaging system.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes.identity import KEY_TYPES

NEW_MACHINE_ID = "(a new random one)"
NEW_KEY = "(a new key)"


def fingerprint(public_line):
    """OpenSSH's SHA256 fingerprint (what ``ssh-keygen -l`` prints) of a public key line ``type base64 [comment]``;
    "(unreadable)" when the line holds no base64 key."""
    fields = (public_line or "").split()
    try:
        blob = base64.b64decode(fields[1].encode("ascii"), validate=True)
    except (IndexError, ValueError, binascii.Error):
        return "(unreadable)"
    if not blob:
        return "(unreadable)"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def summary(hostname, machine_id, fingerprints):
    """The diff's text of one side: one line each for the host name, the machine-id and every host key type
    (in KEY_TYPES' order), fingerprints being {type: fingerprint or NEW_KEY}."""
    lines = ["hostname: %s" % ((hostname or "").strip() or "(none)"),
             "machine-id: %s" % ((machine_id or "").strip() or "(none)")]
    for kind in KEY_TYPES:
        if kind in fingerprints:
            lines.append("ssh host key %s: %s" % (kind, fingerprints[kind]))
    return "\n".join(lines) + "\n"


def _side(found):
    return summary(found.get("hostname"), found.get("machine_id"),
                   dict((kind, fingerprint(line)) for kind, line in (found.get("host_keys") or {}).items()))


def predicted(current, changes):
    """The after side in check mode, from the current identity and identity.plan's changes: the new host name,
    and in place of the machine-id and each regenerated key, what will be there (they are made at write time)."""
    keys = dict((kind, fingerprint(line)) for kind, line in (current.get("host_keys") or {}).items())
    for kind in changes.get("regenerate_keys") or ():
        keys[kind] = NEW_KEY
    return summary(changes.get("hostname") or current.get("hostname"),
                   NEW_MACHINE_ID if changes.get("machine_id") else current.get("machine_id"), keys)


def build(device, partition, before, after=None, changes=None):
    """Ansible's diff of the identity on partition (of device): before and after are identities
    ({hostname, machine_id, host_keys}); without after (check mode) the after side is predicted from changes."""
    where = partition if partition == device else "%s (root file system of %s)" % (partition, device)
    if after is None:
        return {"before": _side(before), "after": predicted(before, changes or {}),
                "before_header": "%s: identity now" % where, "after_header": "%s: identity after the run (check mode)" % where}
    return {"before": _side(before), "after": _side(after),
            "before_header": "%s: identity before" % where, "after_header": "%s: identity after" % where}
