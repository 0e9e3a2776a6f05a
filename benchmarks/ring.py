# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A 4-receiver ring delivering a 2 GiB image to real files, side by side in one run with:

  (a) the fastest local way to write the same 4 copies on the same storage, in parallel (dd with
      O_DIRECT and cp, each ending durable); on one machine the 4 receivers share one disk, so (a)
      is the physical limit here;
  (b) udpcast (udp-sender / udp-receiver from Debian) to the same 4 namespaces and destinations.

Targets (issue 5): the ring's wall time <= 1.25 x (a) and <= 1/3 x (b). Then the destinations on
tmpfs, to measure the pipeline itself: >= 1 GB/s delivered to every node.

Then filesystem-aware transfer (issue 14): a 1 GiB ext4 partition image holding 100 MiB of files, whose
free space still holds 200 MiB of deleted files, sent with its used blocks only and sent whole, side by
side (time and bytes sent; target: at most 15% of the image sent).

Every wall time runs from the source's start to the last receiver's exit, durable (fdatasync) for
the ring and (a), `sync` of the files included for udpcast. The nodes are processes in network
namespaces on one bridge (tests/lab/ring.py), each running the module's own code (_ring.receiver.Receiver /
_ring.sender.Sender). Exits 1 when a target is missed. Run: make benchmark (or .venv/bin/python benchmarks/ring.py)
Options: --size-mib N (default 2048), --skip-udpcast, --only-filesystem (just the ext4 comparison).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from lab.ring import RingLab  # noqa: E402

RECEIVERS = 4
PORT = 17610
NODE = r"""
import json, sys
sys.path.insert(0, %r)
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender
args = json.loads(sys.argv[1])
kind = args.pop("kind")
node = Receiver(**args) if kind == "receive" else Sender(**args)
result = node.run()
print(json.dumps({"ok": result.get("ok"), "ok_nodes": result.get("ok_nodes"), "failed_nodes": result.get("failed_nodes"),
                  "error": result.get("error"), "sent_bytes": result.get("sent_bytes")}))
""" % COLLECTIONS
KEY = "benchmark-ring-key-0123456789"


def make_image(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    with open(path, "wb") as handle:
        left = size
        while left:
            n = min(left, 64 << 20)
            handle.write(os.urandom(n))
            left -= n
        os.fsync(handle.fileno())


def warm(path):
    """Read the image once, so every method starts with it in the page cache."""
    with open(path, "rb") as handle:
        while handle.read(64 << 20):
            pass


def clear(dests):
    for dest in dests:
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        elif os.path.exists(dest):
            os.unlink(dest)
    subprocess.run(["sync"], check=True)


def fsync_files(paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        os.fdatasync(fd)
        os.close(fd)


def parallel(argvs):
    start = time.perf_counter()
    procs = [subprocess.Popen(argv) for argv in argvs]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit("a copy failed: %s" % codes)
    return time.perf_counter() - start


def local_copies(image, dests):
    """(a): the image written to the 4 destinations in parallel, the best of dd O_DIRECT and cp."""
    figures = {}
    clear(dests)
    figures["dd oflag=direct"] = parallel([["dd", "if=" + image, "of=" + d, "bs=4M", "oflag=direct", "conv=fdatasync",
                                            "status=none"] for d in dests])
    clear(dests)
    start = time.perf_counter()
    parallel([["cp", image, d] for d in dests])
    fsync_files(dests)
    figures["cp + fdatasync"] = time.perf_counter() - start
    clear(dests)
    return figures


def ring_session(lab, image, dests, workdir, direct=True, session="bench", receivers=RECEIVERS, filesystem_aware=True,
                 result=None):
    clear(dests)
    chain = ["%s:%d" % (lab.ip(i), PORT) for i in range(1, receivers + 1)]
    nodes = []
    for i in range(1, receivers + 1):
        args = {"kind": "receive", "session": session, "key": KEY, "listen": chain[i - 1], "targets": {"img": dests[i - 1]},
                "chain": chain[i:], "timeout": 30, "wait_timeout": 60, "direct": direct, "name": "r%d" % i,
                "state_dir": os.path.join(workdir, "state%d" % i)}
        shutil.rmtree(args["state_dir"], ignore_errors=True)
        nodes.append(lab.start(i, [sys.executable, "-c", NODE, json.dumps(args)], name="%s-r%d" % (session, i)))
    wait_listening(lab, nodes)
    source = {"kind": "send", "session": session, "key": KEY, "items": [{"name": "img", "src": image}], "chain": chain,
              "listen": "%s:%d" % (lab.ip(0), PORT - 1), "timeout": 30, "filesystem_aware": filesystem_aware}
    start = time.perf_counter()
    sender = lab.start(0, [sys.executable, "-c", NODE, json.dumps(source)], name="%s-source" % session)
    for node in [sender] + nodes:
        node.wait(600)
    seconds = time.perf_counter() - start
    outcome = json.loads(sender.output().strip().splitlines()[-1])
    if outcome["failed_nodes"]:
        raise SystemExit("the ring failed on %s:\n%s" % (outcome["failed_nodes"], "\n".join(n.output() for n in nodes)))
    if result is not None:
        result.update(outcome)
    return seconds


def ext4_partition(work):
    """A 1 GiB sparse ext4 image: 100 MiB of files kept, 200 MiB written then deleted (debugfs rm), so that
    its free space holds their bytes, as a used partition's does."""
    image = os.path.join(work, "part-ext4.img")
    if os.path.exists(image):
        return image
    tree = tempfile.mkdtemp(prefix="ext4-tree-", dir=work)
    os.makedirs(os.path.join(tree, "keep"))
    os.makedirs(os.path.join(tree, "old"))
    for index in range(20):
        make_image(os.path.join(tree, "keep", "f%02d" % index), 5 << 20)
    for index in range(25):
        make_image(os.path.join(tree, "old", "o%02d" % index), 8 << 20)
    with open(image + ".tmp", "wb") as handle:
        handle.truncate(1 << 30)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", "-d", tree, image + ".tmp"], check=True)
    commands = "".join("rm /old/o%02d\n" % index for index in range(25)) + "rmdir /old\n"
    subprocess.run(["debugfs", "-w", "-f", "-", image + ".tmp"], input=commands, text=True, check=True, capture_output=True)
    shutil.rmtree(tree)
    os.rename(image + ".tmp", image)
    return image


def filesystem_comparison(lab, work, dests, missed):
    """The ext4 partition through the ring with its used blocks only, then whole: times and bytes sent."""
    image = ext4_partition(work)
    warm(image)
    size = os.path.getsize(image)
    figures = {}
    for aware in (True, False):
        outcome = {}
        seconds = ring_session(lab, image, dests, work, session="bench-fs-%s" % aware, filesystem_aware=aware, result=outcome)
        figures[aware] = (seconds, outcome["sent_bytes"])
    (used_s, used_b), (whole_s, whole_b) = figures[True], figures[False]
    print("  ext4 1 GiB partition, 100 MiB of files, 200 MiB deleted:  used blocks %6.2f s, %5d MiB sent (%4.1f%%)"
          "  |  whole %6.2f s, %5d MiB sent (%4.1f%%)"
          % (used_s, used_b >> 20, 100.0 * used_b / size, whole_s, whole_b >> 20, 100.0 * whole_b / size))
    if used_b > 0.15 * size:
        missed.append("filesystem-aware: %d of %d bytes sent > 15%%" % (used_b, size))
    clear(dests)


def wait_listening(lab, nodes, timeout=30):
    deadline = time.monotonic() + timeout
    for node in nodes:
        while subprocess.run(["ip", "netns", "exec", lab.ns(node.index), "ss", "-Hltn", "sport = :%d" % PORT],
                             capture_output=True, text=True, check=False).stdout.strip() == "":
            if not node.running() or time.monotonic() > deadline:
                raise SystemExit("receiver %d did not start:\n%s" % (node.index, node.output()))
            time.sleep(0.05)


def udpcast(lab, image, dests):
    """(b): udp-sender in the source's namespace, udp-receiver in each receiver's."""
    clear(dests)
    receivers = [lab.start(i, ["udp-receiver", "--file", dests[i - 1], "--interface", "eth0", "--nokbd", "--portbase", "9300",
                               "--no-progress"], name="udp-r%d" % i) for i in range(1, RECEIVERS + 1)]
    time.sleep(1.0)
    start = time.perf_counter()
    sender = lab.start(0, ["udp-sender", "--file", image, "--interface", "eth0", "--nokbd", "--portbase", "9300",
                           "--min-receivers", str(RECEIVERS), "--max-wait", "20", "--no-progress"], name="udp-s")
    for node in [sender] + receivers:
        node.wait(900)
    fsync_files(dests)
    seconds = time.perf_counter() - start
    with open(image, "rb") as want_handle:
        want = want_handle.read(1 << 20)
    for dest in dests:
        if os.path.getsize(dest) != os.path.getsize(image) or open(dest, "rb").read(1 << 20) != want:
            raise SystemExit("udpcast did not deliver %s" % dest)
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--skip-udpcast", action="store_true")
    parser.add_argument("--only-filesystem", action="store_true")
    options = parser.parse_args()
    size = options.size_mib << 20
    work = os.path.join(ROOT, ".work", "bench-ring")
    os.makedirs(work, exist_ok=True)
    image = os.path.join(work, "golden.img")
    if not options.only_filesystem:
        make_image(image, size)
        warm(image)
    disk_dests = [os.path.join(work, "dest%d.img" % i) for i in range(1, RECEIVERS + 1)]
    tmpfs = tempfile.mkdtemp(prefix="labfarm-ring-", dir="/dev/shm")
    tmpfs_dests = [os.path.join(tmpfs, "dest%d.img" % i) for i in range(1, RECEIVERS + 1)]
    lab = RingLab(tempfile.mkdtemp(prefix="ring-bench-", dir=work), receivers=RECEIVERS).setup()
    gib = size / float(1 << 30)
    missed = []
    try:
        if options.only_filesystem:
            print("ring benchmark, filesystem-aware only: %d receivers in network namespaces, %d CPUs" % (RECEIVERS, os.cpu_count()))
            filesystem_comparison(lab, work, disk_dests, missed)
            return finish(missed)
        print("ring benchmark: %.1f GiB image, %d receivers in network namespaces, %d CPUs" % (gib, RECEIVERS, os.cpu_count()))
        local = local_copies(image, disk_dests)
        baseline = min(local.values())
        for name, seconds in sorted(local.items()):
            print("  (a) 4 local copies, %-16s %6.2f s" % (name + ":", seconds))
        best_ring = ring_session(lab, image, disk_dests, work, session="bench")
        buffered = ring_session(lab, image, disk_dests, work, direct=False, session="bench-buffered")
        print("  ring (default, O_DIRECT):     %6.2f s  (%.2f GB/s per node)" % (best_ring, size / best_ring / 1e9))
        print("  ring, buffered writes:        %6.2f s  (%.2f GB/s per node)" % (buffered, size / buffered / 1e9))
        ratio_a = best_ring / baseline
        print("  ring / (a) = %.2f   (target <= 1.25)" % ratio_a)
        if ratio_a > 1.25:
            missed.append("ring / (a) = %.2f > 1.25" % ratio_a)
        if not options.skip_udpcast:
            udp = udpcast(lab, image, disk_dests)
            print("  (b) udpcast:                  %6.2f s  (%.2f GB/s per node)" % (udp, size / udp / 1e9))
            ratio_b = best_ring / udp
            print("  ring / (b) = %.2f   (target <= 0.33)" % ratio_b)
            if ratio_b > 1 / 3.0:
                missed.append("ring / (b) = %.2f > 1/3" % ratio_b)
        clear(disk_dests)
        shm_local = local_copies(image, tmpfs_dests)
        shm_ring = ring_session(lab, image, tmpfs_dests, work, session="bench-tmpfs")
        per_node = size / shm_ring / 1e9
        print("  tmpfs: (a) %.2f s, ring %.2f s = %.2f GB/s delivered to every node (target >= 1)"
              % (min(shm_local.values()), shm_ring, per_node))
        # the same pipeline when every process has a CPU: the source and one receiver
        clear(tmpfs_dests)
        single = ring_session(lab, image, tmpfs_dests[:1], work, session="bench-tmpfs-1", receivers=1)
        print("  tmpfs, 1 receiver (a CPU per process): %.2f s = %.2f GB/s" % (single, size / single / 1e9))
        cpus = os.cpu_count() or 1
        if per_node < 1.0:
            missed.append("tmpfs ring %.2f GB/s per node < 1 (%d processes on %d CPUs)" % (per_node, RECEIVERS + 1, cpus))
        clear(tmpfs_dests)
        filesystem_comparison(lab, work, disk_dests, missed)
    finally:
        lab.teardown()
        shutil.rmtree(tmpfs, ignore_errors=True)
        clear(disk_dests)
    return finish(missed)


def finish(missed):
    if missed:
        print("targets missed: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
