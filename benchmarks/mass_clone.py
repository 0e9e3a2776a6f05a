# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mass clone job beside GNS3's own duplicate, in one run on this machine.

1. Reset alone of a 1,000-node project (plan + write, best of 5 on fresh copies). Target < 0.2 s.
2. 100 clones of a 32-node project (32 VPCS, 16 links) made by a real GNS3 2.2 server:
   - ours: `ansible-playbook playbooks/mass_clone.yml` on a zfs-fuse pool that is the server's
     projects_path: snapshot, 100 ZFS clones, reset, reload of the server until it lists all 100;
   - GNS3: `POST /v2/projects/{id}/duplicate` of the same project 100 times on the same server
     (reset_mac_addresses, as a clone needs), each returning when the copy exists.
   Target: ours >= 10x faster. The two sides run back to back in the same process, so the load of
   this shared machine weighs on both alike.
Run: make benchmark  (or .venv/bin/python benchmarks/mass_clone.py [--clones N] [--nodes N])
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, COLLECTIONS)

from lab.gns3 import GNS3Server, missing_reason  # noqa: E402  pylint: disable=wrong-import-position
from lab.zfs import ZfsLab  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.apply import apply_plan  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.plan import Request, plan_reset  # noqa: E402  pylint: disable=wrong-import-position

RESET_TARGET = 0.2
SPEEDUP_TARGET = 10.0


def big_project(directory, nodes):
    """A revision 10 project of `nodes` nodes, half qemu with 2 adapters, half VPCS, linked in pairs."""
    node_list, links = [], []
    for index in range(nodes):
        node_id = str(uuid.uuid4())
        node = {"node_id": node_id, "name": "N%04d" % index, "compute_id": "local", "console": 5000 + index,
                "console_type": "telnet", "custom_adapters": [], "template_id": None, "x": 0, "y": 0, "z": 1,
                "aux": None, "aux_type": "none", "first_port_name": None, "port_name_format": "Ethernet{0}",
                "port_segment_size": 0, "locked": False, "width": 60, "height": 60, "console_auto_start": False,
                "label": {"text": "N%04d" % index, "x": 0, "y": -25, "rotation": 0, "style": None}}
        if index % 2:
            node.update(node_type="qemu", properties={"adapters": 2, "ram": 256, "mac_address": "0c:%s:%s:%s:00:00" % (
                node_id[2:4], node_id[4:6], node_id[6:8]), "adapter_type": "e1000", "hda_disk_image": ""})
        else:
            node.update(node_type="vpcs", properties={})
        node_list.append(node)
        os.makedirs(os.path.join(directory, "project-files", node["node_type"], node_id))
    for index in range(0, nodes - 1, 2):
        links.append({"link_id": str(uuid.uuid4()), "filters": {}, "suspend": False, "link_style": {},
                      "nodes": [{"node_id": node_list[index]["node_id"], "adapter_number": 0, "port_number": 0},
                                {"node_id": node_list[index + 1]["node_id"], "adapter_number": 0, "port_number": 0}]})
    data = {"type": "topology", "revision": 10, "version": "3.0.6", "name": "big", "project_id": str(uuid.uuid4()),
            "auto_close": True, "auto_open": False, "auto_start": False, "scene_height": 1000, "scene_width": 2000,
            "topology": {"computes": [], "drawings": [], "links": links, "nodes": node_list}}
    with open(os.path.join(directory, "big.gns3"), "w") as handle:
        json.dump(data, handle, indent=4, sort_keys=True)


def bench_reset(nodes, rounds=5):
    tmp = tempfile.mkdtemp(prefix="labfarm-bench-reset-")
    try:
        root = os.path.join(tmp, "projects")
        big_project(os.path.join(root, "source"), nodes)
        best = None
        for attempt in range(rounds):
            target = os.path.join(root, "clone%d" % attempt)
            shutil.copytree(os.path.join(root, "source"), target)
            start = time.perf_counter()
            plans, _warnings = plan_reset([Request(target, "Clone%d" % attempt)],
                                          projects_root=root, console_port_range="5000-30000")
            for plan in plans:
                apply_plan(plan)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
            shutil.rmtree(target)   # the next round sees the same farm
        return best
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def source_project(server, nodes):
    """The source, made by the server itself through its API, then closed."""
    project = server.create_project("src32")
    ids = [server.add_vpcs(project["project_id"], "PC%02d" % index)["node_id"] for index in range(nodes)]
    for index in range(0, nodes - 1, 2):
        server.add_link(project["project_id"], ids[index], ids[index + 1])
    server.close_project(project["project_id"])
    return project["project_id"]


def bench_clone(clones, nodes, baseline=True, verbose=False):
    lab = ZfsLab()
    lab.ensure_daemon()
    tmp = tempfile.mkdtemp(prefix="labfarm-bench-clone-")
    pool = lab.create_pool("lfbench%s" % uuid.uuid4().hex[:6], os.path.join(tmp, "zfs"), size="2G")
    server = None
    try:
        dataset = pool.create(pool.path("gns3/projects"))
        root = os.path.join(pool.mountpoint, "gns3", "projects")
        server = GNS3Server("2.2", os.path.join(tmp, "gns3"), port=13084, projects_path=root,
                            console_range=(20000, 27999), udp_range=(28000, 29999))
        server.start()
        source_id = source_project(server, nodes)
        # Move the source into a dataset of its own, as GNS3 farms on ZFS lay projects out.
        plain = os.path.join(root, source_id)
        staging = os.path.join(tmp, "staging")
        shutil.move(plain, staging)
        pool.create(dataset + "/" + source_id)
        for name in os.listdir(staging):
            shutil.move(os.path.join(staging, name), os.path.join(plain, name))
        server.api("POST", "/reload")
        time.sleep(2)

        inventory = os.path.join(tmp, "inventory.json")
        with open(inventory, "w") as handle:
            json.dump({"gns3_servers": {"hosts": {"localhost": {
                "ansible_connection": "local", "ansible_python_interpreter": os.path.abspath(sys.executable),
                "mass_clone_names": "Cbench_[001-%03d]" % clones, "mass_clone_source": "src32",
                "mass_clone_projects_root": root, "mass_clone_projects_dataset": dataset,
                "mass_clone_console_port_range": "20000-27999", "mass_clone_gns3_url": server.url}}}}, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=os.path.join(tmp, "ansible"),
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        start = time.perf_counter()
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory,
                               os.path.join(ROOT, "playbooks", "mass_clone.yml")],
                              env=env, capture_output=True, text=True, check=False)
        ours = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit("mass_clone.yml failed:\n%s\n%s" % (proc.stdout[-4000:], proc.stderr[-2000:]))
        if verbose:
            print(proc.stdout[-3000:])
        listed = [p for p in server.projects() if p["name"].startswith("Cbench_")]
        if len(listed) != clones:
            raise SystemExit("the server lists %d clones, not %d" % (len(listed), clones))

        if not baseline:
            return ours, None
        start = time.perf_counter()
        for index in range(1, clones + 1):
            server.api("POST", "/projects/%s/duplicate" % source_id,
                       {"name": "Dup_%03d" % index, "reset_mac_addresses": True}, timeout=600)
        theirs = time.perf_counter() - start
        return ours, theirs
    finally:
        if server is not None:
            server.stop()
        for _attempt in range(5):
            if subprocess.run(["zpool", "destroy", "-f", pool.name], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(1)
        lab.stop_daemon()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--reset-nodes", type=int, default=1000)
    parser.add_argument("--no-baseline", action="store_true", help="time our side only (while tuning)")
    parser.add_argument("--verbose", action="store_true", help="print the end of the playbook's output")
    args = parser.parse_args()
    failed = False

    reset = bench_reset(args.reset_nodes)
    print("reset of one %d-node project (plan + write, best of 5): %.3f s  (target < %.1f s)"
          % (args.reset_nodes, reset, RESET_TARGET))
    failed |= reset >= RESET_TARGET

    reason = missing_reason("2.2") or (", ".join(ZfsLab.missing_tools()) and "zfs-fuse is not installed")
    if reason:
        print("clone benchmark skipped: %s" % reason)
        return 1
    ours, theirs = bench_clone(args.clones, args.nodes, baseline=not args.no_baseline, verbose=args.verbose)
    if theirs is None:
        print("%d clones of a %d-node project with playbooks/mass_clone.yml: %.1f s" % (args.clones, args.nodes, ours))
        return 0
    print("%d clones of a %d-node project, GNS3 2.2.61 on zfs-fuse, same run:" % (args.clones, args.nodes))
    line = "  %-58s %8.1f s  %6.3f s/clone"
    print(line % ("playbooks/mass_clone.yml (snapshot, clones, reset, reload)", ours, ours / args.clones))
    print(line % ("GNS3 POST /projects/{id}/duplicate x %d" % args.clones, theirs, theirs / args.clones))
    print("  speed-up: %.1fx  (target >= %.0fx)" % (theirs / ours, SPEEDUP_TARGET))
    failed |= theirs / ours < SPEEDUP_TARGET
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
