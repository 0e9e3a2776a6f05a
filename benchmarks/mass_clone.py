# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mass clone job beside GNS3's own duplicate, and on GNS3 farms, in one run on this machine.

1. reset: the reset alone of a 1,000-node project (plan + write, best of 5 on fresh copies). Target < 0.2 s.
2. computes: 500 clones of a 32-node VPCS project over 4 remote computes of one GNS3 2.2 controller (5 gns3server
   processes on 127.0.0.1, each compute with a console range of its own: 16,000 consoles): one role run
   (`ansible-playbook playbooks/mass_clone.yml` with mass_clone_computes), end to end (snapshot, 500 ZFS clones,
   reset, reload until the controller lists all 500), with the time of each step. Targets: < 60 s end to end,
   the reset (gns3_project_reset's write task) < 5 s.
3. concurrent: one role run of 200 clones, then two runs of 100 released together on one projects root of the same
   pool (the farm lock serialises their resets); both times, their ratio, and no console port or MAC twice among
   the 200 clones of the two runs.
4. compare: 100 clones of a 32-node project (32 VPCS, 16 links) made by a real GNS3 2.2 server:
   - ours: `ansible-playbook playbooks/mass_clone.yml` on a zfs-fuse pool that is the server's
     projects_path: snapshot, 100 ZFS clones, reset, reload of the server until it lists all 100;
   - GNS3: `POST /v2/projects/{id}/duplicate` of the same project 100 times on the same server
     (reset_mac_addresses, as a clone needs), each returning when the copy exists.
   Target: ours >= 10x faster. The two sides run back to back in the same process, so the load of
   this shared machine weighs on both alike.
Run: make benchmark  (or .venv/bin/python benchmarks/mass_clone.py [--only reset|computes|concurrent|compare]...
[--quick] [--clones N] [--farm-clones N] [--concurrent-clones N] [--nodes N]). Ports: GNS3 APIs 13200-13207,
UDP 38000-39799, consoles from 16500 up (computes) and 20000-27999 (compare); each is checked free first.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, COLLECTIONS)

from lab.gns3 import missing_reason  # noqa: E402  pylint: disable=wrong-import-position
from lab.zfs import ZfsLab  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.apply import apply_plan  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.plan import Request, plan_reset  # noqa: E402  pylint: disable=wrong-import-position
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _gns3_farm import Bench, check_free, duplicates, project_files, start_all  # noqa: E402  pylint: disable=wrong-import-position

RESET_TARGET = 0.2
SPEEDUP_TARGET = 10.0
FARM_TARGET = 60.0
FARM_RESET_TARGET = 5.0
PARTS = ("reset", "computes", "concurrent", "compare")
COMPUTES = 4
CONTROLLER_PORT = 13200      # its computes: 13201-13204
COMPARE_PORT = 13205
CONCURRENT_PORT = 13206      # and 13207
COMPUTE_CONSOLE_BASE = 16500


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


def _hostvars(server, root, dataset, names, source, console_range, **extra):
    """The inventory variables of one role run (playbooks/mass_clone.yml on localhost)."""
    return dict(extra, mass_clone_names=names, mass_clone_source=source, mass_clone_projects_root=root,
                mass_clone_projects_dataset=dataset, mass_clone_console_port_range="%d-%d" % console_range,
                mass_clone_gns3_url=server.url)


def bench_clone(clones, nodes, baseline=True, verbose=False):
    """Today's comparison: (ours, GNS3's duplicate x clones or None, ours per step)."""
    check_free([(20000, 27999, "console range of the comparison's server")])
    bench = Bench("clone")
    try:
        dataset, root = bench.projects_dataset("gns3/projects")
        server = bench.server("gns3", port=COMPARE_PORT, projects_path=root, console_range=(20000, 27999),
                              udp_range=(39200, 39399))
        start_all([server])
        source_id = bench.source_dataset(server, dataset, root, "src32", nodes)
        time.sleep(2)
        run = bench.playbook("compare", _hostvars(server, root, dataset, "Cbench_[001-%03d]" % clones, "src32",
                                                  (20000, 27999)))
        ours = run.wait()
        if verbose:
            print(open(run.log.name).read()[-3000:])
            for name, seconds in run.tasks():
                print("    %6.2f s  %s" % (seconds, name))
        listed = [p for p in server.projects() if p["name"].startswith("Cbench_")]
        if len(listed) != clones:
            raise SystemExit("the server lists %d clones, not %d" % (len(listed), clones))
        if not baseline:
            return ours, None, run.steps()
        start = time.perf_counter()
        for index in range(1, clones + 1):
            server.api("POST", "/projects/%s/duplicate" % source_id,
                       {"name": "Dup_%03d" % index, "reset_mac_addresses": True}, timeout=600)
        return ours, time.perf_counter() - start, run.steps()
    finally:
        bench.close()


def bench_computes(clones, nodes, count=COMPUTES):
    """`clones` clones of a `nodes`-node VPCS project placed per clone, evenly, over `count` remote computes of one
    GNS3 2.2 controller, all gns3server processes on 127.0.0.1, by one role run. Returns a dict of figures."""
    share = -(-clones * nodes // count)   # the consoles each compute holds
    # Console ports are unique per compute (each compute reserves the consoles of its own nodes), so the farm holds
    # clones x nodes consoles where one range could not (16,000 for 500 x 32, GNS3's 5000-10000 holds 5,001). The
    # computes share one host here, so their ranges must still be disjoint (a port is bound once per machine):
    # `count` ranges of `share` ports from 16500, below the kernel's ephemeral range (32768-60999).
    ranges = [(COMPUTE_CONSOLE_BASE + index * share, COMPUTE_CONSOLE_BASE + (index + 1) * share - 1)
              for index in range(count)]
    if ranges[-1][1] >= 32768:
        raise SystemExit("%d consoles per compute do not fit below 32768 from %d" % (share, COMPUTE_CONSOLE_BASE))
    check_free([(first, last, "console range of compute %d" % index) for index, (first, last) in enumerate(ranges)]
               + [(38000, 38999, "controller's and computes' UDP ranges")])
    bench = Bench("computes")
    try:
        dataset, root = bench.projects_dataset("gns3/projects")
        controller = bench.server("controller", port=CONTROLLER_PORT, projects_path=root, console_range=(38000, 38199),
                                  udp_range=(38200, 38399))
        computes = [bench.server("compute%d" % index, port=CONTROLLER_PORT + 1 + index, console_range=ranges[index],
                                 udp_range=(38400 + 100 * index, 38499 + 100 * index)) for index in range(count)]
        start_all(bench.servers)
        ids = ["7f0c3a9e-0b1d-4c55-9a43-0000000%05d" % compute.port for compute in computes]
        for compute_id, compute in zip(ids, computes):
            controller.add_compute(compute, compute_id, name="compute-%d" % compute.port)
        source_id = bench.source_dataset(controller, dataset, root, "src32", nodes)
        time.sleep(2)
        role_computes = [{"id": compute_id, "host": compute.host, "port": compute.port,
                          "name": "compute-%d" % compute.port, "capacity": share, "node_types": ["vpcs", "qemu"],
                          "console_port_range": "%d-%d" % compute.console_range}
                         for compute_id, compute in zip(ids, computes)]
        run = bench.playbook("computes", _hostvars(
            controller, root, dataset, "Cfarm_[001-%03d]" % clones, "src32", (38000, 38199),
            mass_clone_computes=role_computes, mass_clone_compute_placement={"per": "clone", "policy": "even"}))
        total = run.wait()
        listed = [p for p in controller.projects() if p["name"].startswith("Cfarm_")]
        files = project_files(root, skip=(source_id,))
        consoles, macs, _c, _m = duplicates(files, per_compute=True)
        placed = {}
        for data in files.values():
            for node in data["topology"]["nodes"]:
                placed[node["compute_id"]] = placed.get(node["compute_id"], 0) + 1
        return {"total": total, "steps": run.steps(), "listed": len(listed), "files": len(files),
                "placed": [placed.get(compute_id, 0) for compute_id in ids], "ranges": ranges,
                "duplicates": len(consoles) + len(macs)}
    finally:
        bench.close()


def bench_concurrent(clones, nodes):
    """One role run of 2 x `clones` clones, then two runs of `clones` released together on one projects root (the
    farm lock serialises their resets), same pool, each on its own GNS3 2.2 server. Half the source's nodes are
    qemu (each with a MAC in the file) so the check of the concurrent batch covers MACs as well as consoles."""
    need = 2 * clones * nodes + nodes
    single_range = (COMPUTE_CONSOLE_BASE, COMPUTE_CONSOLE_BASE + need + 99)
    pair_range = (single_range[1] + 1, single_range[1] + need + 100)
    check_free([single_range + ("console range of the single run's server",),
                pair_range + ("console range of the concurrent runs' server",)])
    bench = Bench("concurrent")
    try:
        single_ds, single_root = bench.projects_dataset("gns3/single")
        pair_ds, pair_root = bench.projects_dataset("gns3/pair")
        single = bench.server("single", port=CONCURRENT_PORT, projects_path=single_root, console_range=single_range,
                              udp_range=(39400, 39599))
        pair = bench.server("pair", port=CONCURRENT_PORT + 1, projects_path=pair_root, console_range=pair_range,
                            udp_range=(39600, 39799))
        start_all([single, pair])
        bench.source_dataset(single, single_ds, single_root, "srcmix", nodes, qemu_every=2)
        pair_source = bench.source_dataset(pair, pair_ds, pair_root, "srcmix", nodes, qemu_every=2)
        time.sleep(2)
        one = bench.playbook("single", _hostvars(single, single_root, single_ds, "Cone_[001-%03d]" % (2 * clones),
                                                 "srcmix", single_range)).wait()
        start = time.perf_counter()
        runs = [bench.playbook(tag, _hostvars(pair, pair_root, pair_ds, "C%s_[001-%03d]" % (tag, clones), "srcmix",
                                              pair_range)) for tag in ("a", "b")]
        each = [run.wait() for run in runs]
        both = time.perf_counter() - start
        files = project_files(pair_root, skip=(pair_source,))
        if len(files) != 2 * clones:
            raise SystemExit("the concurrent runs left %d clones, not %d" % (len(files), 2 * clones))
        consoles, macs, n_consoles, n_macs = duplicates(files)
        if consoles or macs:
            raise SystemExit("the concurrent runs handed out duplicates: consoles %s, MACs %s" % (consoles[:10], macs[:10]))
        return {"single": one, "both": both, "each": each, "consoles": n_consoles, "macs": n_macs}
    finally:
        bench.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run this part only (repeat for several); every part by default")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (no target is judged)")
    parser.add_argument("--clones", type=int, default=None, help="clones of the comparison (100)")
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--farm-clones", type=int, default=None, help="clones over the computes (500)")
    parser.add_argument("--concurrent-clones", type=int, default=None, help="clones of each concurrent run (100)")
    parser.add_argument("--reset-nodes", type=int, default=1000)
    parser.add_argument("--no-baseline", action="store_true", help="time our side only (while tuning)")
    parser.add_argument("--verbose", action="store_true", help="print the end of the playbook's output and the time of each of its tasks")
    args = parser.parse_args()
    parts = args.only or list(PARTS)
    quick = args.quick
    clones = args.clones or (10 if quick else 100)
    farm_clones = args.farm_clones or (40 if quick else 500)
    pair_clones = args.concurrent_clones or (10 if quick else 100)
    judged = not quick
    failed = False
    print("%s, load average %s" % (time.strftime("%Y-%m-%d %H:%M %Z"), " ".join("%.2f" % x for x in os.getloadavg())))

    if "reset" in parts:
        reset = bench_reset(args.reset_nodes)
        print("reset of one %d-node project (plan + write, best of 5): %.3f s  (target < %.1f s)"
              % (args.reset_nodes, reset, RESET_TARGET))
        failed |= judged and reset >= RESET_TARGET

    reason = missing_reason("2.2") or (", ".join(ZfsLab.missing_tools()) and "zfs-fuse is not installed")
    if reason:
        print("clone benchmarks skipped: %s" % reason)
        return 1
    step = "    %-48s %7.1f s"

    if "computes" in parts:
        farm = bench_computes(farm_clones, args.nodes)
        print("%d clones of a %d-node VPCS project over %d remote computes of one GNS3 2.2 controller (127.0.0.1):"
              % (farm_clones, args.nodes, COMPUTES))
        print("  playbooks/mass_clone.yml end to end: %.1f s  (target < %.0f s)" % (farm["total"], FARM_TARGET))
        for name, seconds in farm["steps"]:
            print(step % (name, seconds))
        reset = dict(farm["steps"])["reset write (plan of the clones, write)"]
        print("  reset (gns3_project_reset, %d nodes): %.1f s  (target < %.0f s)"
              % (farm_clones * args.nodes, reset, FARM_RESET_TARGET))
        print("  nodes per compute %s, console ranges %s; duplicate console (per compute) or MAC: %d; "
              "the controller lists %d clones"
              % (farm["placed"], ", ".join("%d-%d" % r for r in farm["ranges"]), farm["duplicates"], farm["listed"]))
        failed |= farm["duplicates"] > 0 or farm["listed"] != farm_clones
        failed |= judged and (farm["total"] >= FARM_TARGET or reset >= FARM_RESET_TARGET)

    if "concurrent" in parts:
        pair = bench_concurrent(pair_clones, args.nodes)
        print("%d clones of a %d-node project (half qemu), one pool, GNS3 2.2:" % (2 * pair_clones, args.nodes))
        print("  one run of %-3d                          %7.1f s" % (2 * pair_clones, pair["single"]))
        print("  two runs of %-3d released together       %7.1f s  (each %s)  ratio %.2f"
              % (pair_clones, pair["both"], " / ".join("%.1f s" % t for t in pair["each"]), pair["both"] / pair["single"]))
        print("  no duplicate among the %d console ports and %d MACs of the concurrent runs"
              % (pair["consoles"], pair["macs"]))

    if "compare" in parts:
        ours, theirs, steps = bench_clone(clones, args.nodes, baseline=not args.no_baseline, verbose=args.verbose)
        if theirs is None:
            print("%d clones of a %d-node project with playbooks/mass_clone.yml: %.1f s" % (clones, args.nodes, ours))
        else:
            print("%d clones of a %d-node project, GNS3 2.2.61 on zfs-fuse, same run:" % (clones, args.nodes))
            line = "  %-58s %8.1f s  %6.3f s/clone"
            print(line % ("playbooks/mass_clone.yml (snapshot, clones, reset, reload)", ours, ours / clones))
            print(line % ("GNS3 POST /projects/{id}/duplicate x %d" % clones, theirs, theirs / clones))
            print("  speed-up: %.1fx  (target >= %.0fx)" % (theirs / ours, SPEEDUP_TARGET))
            failed |= judged and theirs / ours < SPEEDUP_TARGET
        for name, seconds in steps:
            print(step % (name, seconds))
    print("%s, load average %s" % (time.strftime("%Y-%m-%d %H:%M %Z"), " ".join("%.2f" % x for x in os.getloadavg())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
