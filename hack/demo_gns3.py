# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real GNS3 server of `make demo`: start it over the demo's projects root, report what it says of the
clones, stop it. Run by hack/demo.sh with the .venv python:

    demo_gns3.py start  DEMO_DIR PROJECTS_ROOT   # gns3server (3.0 by default) on 127.0.0.1:13100, PID in DEMO_DIR
    demo_gns3.py report DEMO_DIR NAMES_JSON      # opens the clones, prints GNS3's consoles and MACs beside ours
    demo_gns3.py stop   DEMO_DIR                 # SIGTERM to that PID (and what it started), nothing else
    demo_gns3.py running DEMO_DIR                # exit 0 when that server still runs

The server is one of tests/lab/gns3.py's (its own config, HOME and log under DEMO_DIR/gns3): the same
gns3-server that hack/setup.sh installed for the tests. LABFARM_DEMO_GNS3=2.2 picks 2.2.61 instead.
"""

import json
import os
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import fold_numbers  # noqa: E402
from lab.gns3 import GNS3Server, _proc_starttime as _starttime, descendants  # noqa: E402  pylint: disable=wrong-import-position

PORT = 13100
VERSION = os.environ.get("LABFARM_DEMO_GNS3", "3.0")
# GNS3's own default console range: the reset's default range lies inside it, so GNS3 keeps every
# console port the reset wrote (outside its range, it would pick others).
CONSOLES = (5000, 10000)


def server(demo, projects_root=None):
    return GNS3Server(VERSION, os.path.join(demo, "gns3"), port=PORT, console_range=CONSOLES,
                      projects_path=projects_root or os.path.join(demo, "mnt", "gns3", "projects"))


def state_path(demo):
    return os.path.join(demo, "gns3", "demo-server.json")


def start(demo, projects_root):
    if os.path.exists(state_path(demo)):
        with open(state_path(demo)) as handle:
            known = json.load(handle)
        if _alive(known):
            print("demo: GNS3 %s already runs on %s (PID %d)" % (known["version"], known["url"], known["pid"]))
            return
    gns3 = server(demo, projects_root).start()
    with open(state_path(demo), "w") as handle:
        json.dump({"pid": gns3.pid, "url": gns3.url, "version": gns3.server_version,
                   "starttime": _starttime(gns3.pid), "config": gns3.config_path}, handle)
    print("demo: GNS3 %s serves %s on %s (PID %s)" % (gns3.server_version, projects_root, gns3.url, gns3.pid))
    gns3.process = None   # the server outlives this script: demo_gns3.py stop ends it


def report(demo, names_json):
    """Open every clone in GNS3 and print, node by node, the console port and MAC GNS3 reports beside the
    ones the role's summary (lab-clones.json) says it wrote."""
    names = json.loads(names_json)
    with open(state_path(demo)) as handle:
        known = json.load(handle)
    gns3 = server(demo)
    if gns3.major >= 3:
        dummy, data = gns3.request("POST", "/access/users/authenticate",
                                   {"username": gns3.username, "password": gns3.password}, auth=False)
        gns3.token = data["access_token"]
    ours = {}
    with open(os.path.join(demo, "lab-clones.json")) as handle:
        for clone in json.load(handle)["clones"]:
            ours[clone["name"]] = dict((n["name"], n) for n in clone["nodes"])
    projects = dict((p["name"], p) for p in gns3.projects())
    opened = nodes_seen = 0
    differ = []
    print("What GNS3 %s on %s reports of the clones, opened through its API (= : the summary says the same):"
          % (known["version"], known["url"]))
    print("%-10s %-7s %-20s %s" % ("clone", "status", "console ports", "MACs"))
    for name in names:
        project = projects.get(name)
        if project is None:
            differ.append("%s: not loaded by GNS3" % name)
            print("%-10s %-7s" % (name, "missing"))
            continue
        if project.get("status") != "opened":
            gns3.open_project(project["project_id"])
        opened += 1
        consoles, macs, same = [], [], True
        for node in gns3.nodes(project["project_id"]):
            mine = ours.get(name, {}).get(node["name"], {})
            mac = (node.get("properties") or {}).get("mac_address")
            nodes_seen += 1
            consoles.append(node.get("console"))
            macs.extend([mac] if mac else [])
            if node.get("console") != mine.get("console") or (mac and mac != mine.get("mac_address")):
                differ.append("%s/%s" % (name, node["name"]))
                same = False
        print("%-10s %-7s %-20s %s %s" % (name, "opened", fold_numbers(c for c in consoles if c), ",".join(sorted(macs)) or "-",
                                          "=" if same else "<- differs"))
    print("demo: GNS3 opened %d of %d clones (%d nodes); %s" % (
        opened, len(names), nodes_seen,
        "every console port and MAC it reports is the one in the summary" if not differ
        else "these differ from the summary: %s" % ", ".join(differ)))
    print("demo: GNS3's web interface: %s/static/web-ui/%s" % (
        known["url"], " (user admin, password admin)" if str(known["version"]).startswith("3") else ""))


def stop(demo):
    path = state_path(demo)
    if not os.path.exists(path):
        return
    with open(path) as handle:
        known = json.load(handle)
    if _alive(known):
        below = descendants(known["pid"])
        os.kill(known["pid"], signal.SIGTERM)
        for dummy in range(300):
            if not _alive(known):
                break
            time.sleep(0.1)
        else:
            os.kill(known["pid"], signal.SIGKILL)
        for pid, begun in below:
            if _starttime(pid) == begun:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        print("demo: stopped GNS3 on %s (PID %d)" % (known["url"], known["pid"]))
    os.remove(path)


def _alive(known):
    """The recorded server is still that process (not a PID reused since)."""
    return _starttime(known["pid"]) == known["starttime"]


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "start" and len(sys.argv) == 4:
        start(sys.argv[2], sys.argv[3])
    elif action == "report" and len(sys.argv) == 4:
        report(sys.argv[2], sys.argv[3])
    elif action == "stop" and len(sys.argv) == 3:
        stop(sys.argv[2])
    elif action == "running" and len(sys.argv) == 3:
        try:
            with open(state_path(sys.argv[2])) as handle:
                sys.exit(0 if _alive(json.load(handle)) else 1)
        except (IOError, OSError, ValueError):
            sys.exit(1)
    else:
        sys.exit(__doc__)
