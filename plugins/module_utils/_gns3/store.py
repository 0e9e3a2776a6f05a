# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A shared store and the GNS3 servers that use it (the mass_clone role's shared-store topology, Vigrid's
NAS farm): which servers can take clones, from what each server reported before anything is cloned.

A server takes clones when it answers (over SSH and on its GNS3 API) and its projects_path shows the
store: the marker file the storage host wrote with this run's token reads back the same on the server.
Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

MARKER_NAME = ".labfarm-store-marker"


class StoreError(ValueError):
    """Probes that cannot be judged (not what the role hands over)."""


def _message(result):
    text = (result or {}).get("msg") or ""
    return " ".join(("%s" % text).split())[:300] or "no message"


def _marker_text(result):
    try:
        return base64.b64decode(result.get("content") or "").decode("utf-8", "replace").strip()
    except (binascii.Error, ValueError, TypeError):
        return None


def major_version(version):
    """'3.0.6' -> 3; None for no version."""
    try:
        return int(("%s" % version).split(".")[0])
    except ValueError:
        return None


def judge_server(probe, token):
    """(verdict, reason, version) of one server: verdict 'up', 'down' (does not answer) or 'unmounted'
    (answers, but its projects_path does not show the store).

    ``probe``: ``{server, path, marker, gns3}``, path the marker file as the server reads it, marker the result of reading the marker file on the server
    (ansible.builtin.slurp), gns3 the result of a gns3_server call that changes nothing, both registered with
    the unreachable and failed results kept."""
    marker = probe.get("marker") or {}
    gns3 = probe.get("gns3") or {}
    path = probe.get("path") or "%s/%s" % ((probe.get("root") or "its projects_path").rstrip("/"), MARKER_NAME)
    for result in (marker, gns3):
        if result.get("unreachable"):
            return "down", "does not answer over SSH (%s)" % _message(result), None
    if gns3.get("skipped") or marker.get("skipped"):
        return "down", "was not probed (not in the play, or failed earlier)", None
    version = (gns3.get("server") or {}).get("version")
    # registered with failed_when: false, a failure keeps its msg but not failed=true: no version is the sign
    if gns3.get("failed") or not version:
        return "down", "its GNS3 API does not answer: %s" % _message(gns3), None
    if marker.get("failed") or "content" not in marker:
        return ("unmounted", "%s is not there (%s): its projects_path does not show the store; mount the store's "
                "projects directory there (NFS) and run again" % (path, _message(marker)), version)
    seen = _marker_text(marker)
    if seen != token:
        return ("unmounted", "%s holds %r, not this run's %r: its projects_path shows another directory than the "
                "store's (a stale or wrong mount)" % (path, seen, token), version)
    return "up", None, version


def judge_store(probes, token, redistribute=False):
    """What the servers reported, judged: ``{up, down, unmounted, versions, errors}``.

    ``up``: the servers that take clones, in order. ``down`` / ``unmounted``: ``[{server, reason}]``.
    ``errors``: what must stop the run before anything is cloned - every unmounted server; every server that
    does not answer unless ``redistribute`` (its share then goes to the others); no server left; servers of
    GNS3 2.x and 3.x on one store (3.x rewrites every project file it loads in its own format, revision 10,
    which 2.2 then refuses to load).
    """
    if not isinstance(probes, (list, tuple)):
        raise StoreError("the probes must be a list of {server, path, marker, gns3}")
    if not token:
        raise StoreError("the marker token must be a non-empty string")
    verdict = {"up": [], "down": [], "unmounted": [], "versions": {}, "errors": []}
    for probe in probes:
        if not isinstance(probe, dict) or not probe.get("server"):
            raise StoreError("every probe must be a mapping with a server name, got %r" % (probe,))
        state, reason, version = judge_server(probe, token)
        server = probe["server"]
        if version:
            verdict["versions"][server] = version
        if state == "up":
            verdict["up"].append(server)
        else:
            verdict[state].append({"server": server, "reason": reason})
    for entry in verdict["unmounted"]:
        verdict["errors"].append("GNS3 server %s: %s" % (entry["server"], entry["reason"]))
    for entry in verdict["down"]:
        if not redistribute:
            verdict["errors"].append("GNS3 server %s %s; set mass_clone_redistribute=true to give its share to the "
                                     "other servers" % (entry["server"], entry["reason"]))
    if not verdict["up"] and probes:
        verdict["errors"].append("no GNS3 server can take the clones")
    majors = {}
    for server in verdict["up"]:
        majors.setdefault(major_version(verdict["versions"].get(server)), []).append(server)
    if len([major for major in majors if major is not None]) > 1:
        verdict["errors"].append(
            "the servers run different GNS3 major versions (%s): GNS3 3.x rewrites every project file it loads in "
            "its own format (revision 10), which GNS3 2.2 then refuses to load, so one store serves servers of one "
            "major version; give each version its own projects dataset"
            % "; ".join("%s: %s" % (major, ", ".join("%s %s" % (s, verdict["versions"][s]) for s in servers))
                        for major, servers in sorted(majors.items(), key=lambda item: "%s" % item[0])))
    return verdict
