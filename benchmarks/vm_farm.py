# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Define and start 50 tiny VMs (32 MiB, QEMU/TCG, qcow2 overlays of one backing file) through
labfarm.massclone.libvirt_farm (one ansible-playbook task, Ansible's start-up included), against a
plain shell loop of `virsh define` + `virsh start` over the same domain XML, in the same run, on
the same private libvirtd (tests/lab/libvirtd.py, in a network namespace of its own).

The loop gets its overlays made beforehand, untimed (the strict reading: define + start only); the
module makes its overlays inside the timed call. A second figure adds `qemu-img create` to the loop
for a like-for-like comparison. Target (issue 6): module <= 0.7 x the loop. Exits 1 when missed.
One VM is started and removed first, untimed: libvirtd probes QEMU at its first start.
Each figure is the best of ROUNDS (env LFVM_BENCH_ROUNDS, default 3) rounds, the order of the three
runs turning each round; everything is removed between runs. Run: make benchmark  (or .venv/bin/python benchmarks/vm_farm.py)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import (  # noqa: E402
    mac_for, render_xml, wanted_spec)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import (  # noqa: E402
    check_mac_prefix, check_template)
from lab.libvirtd import PrivateLibvirtd, missing  # noqa: E402  pylint: disable=import-error

NVMS = 50
TARGET = 0.7
ROUNDS = int(os.environ.get("LFVM_BENCH_ROUNDS", "3"))
DOMAIN_TYPE = os.environ.get("LFVM_BENCH_DOMAIN_TYPE", "qemu")   # qemu: TCG; kvm where /dev/kvm works
TEMPLATE = {"memory_mb": 32, "vcpus": 1, "domain_type": DOMAIN_TYPE}
CONCURRENCY = int(os.environ.get("LFVM_BENCH_CONCURRENCY", "8"))


def names():
    return ["lfvmb%02d" % i for i in range(1, NVMS + 1)]


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def farm_args(lv, backing, pool, state):
    return {"vms": "lfvmb[01-%02d]" % NVMS, "template": TEMPLATE, "backing_file": backing,
            "hypervisors": [{"name": "bench", "uri": lv.uri, "pool_dir": pool}], "state": state,
            "cpu_overcommit": 64, "concurrency": CONCURRENCY, "mac_prefix": "52:54:00:97"}


def module_run(lv, backing, pool, work, state):
    """One ansible-playbook with one libvirt_farm task (nothing else in the timed run); the outcome is
    checked through libvirt afterwards."""
    playbook = os.path.join(work, "farm-%s.yml" % state)
    with open(playbook, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "farm", "labfarm.massclone.libvirt_farm": farm_args(lv, backing, pool, state)}]}], handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".venv", "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_HOME=os.path.join(work, "ansible-home"),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    start = time.perf_counter()
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", playbook], env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or ("changed=1" not in proc.stdout):
        raise SystemExit("libvirt_farm failed or changed nothing:\n%s" % proc.stdout[-3000:])
    return seconds


def loop_xml(pool, backing):
    """The domain XML the module makes for each VM (same renderer, same spec)."""
    template = check_template(TEMPLATE)
    octets = check_mac_prefix("52:54:00:97")
    xmls = {}
    taken = set()
    for name in names():
        mac = mac_for(octets, name, taken)
        taken.add(mac)
        spec = wanted_spec(template, name, mac, os.path.join(pool, "%s-loop.qcow2" % name), backing, "qcow2",
                           DOMAIN_TYPE)
        xmls[name] = render_xml(name, spec)
    return xmls


def virsh_loop(lv, pool, backing, work, with_overlays):
    """The shell loop a user would write; overlays are made first, untimed, unless with_overlays."""
    xmls = loop_xml(pool, backing)
    os.makedirs(pool, exist_ok=True)
    script = ["set -e"]
    for name, xml in xmls.items():
        path = os.path.join(work, "%s.xml" % name)
        with open(path, "w") as handle:
            handle.write(xml)
        overlay = os.path.join(pool, "%s-loop.qcow2" % name)
        create = "qemu-img create -q -f qcow2 -b %s -F qcow2 %s" % (backing, overlay)
        if with_overlays:
            script.append(create)
        else:
            run(["sh", "-c", create])
        script.append("virsh -q -c '%s' define %s >/dev/null" % (lv.uri, path))
        script.append("virsh -q -c '%s' start %s >/dev/null" % (lv.uri, name))
    start = time.perf_counter()
    run(["bash", "-c", "\n".join(script)])
    return time.perf_counter() - start


def clean_loop(lv, pool):
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(lv.uri)
    for dom in conn.listAllDomains():
        if dom.name().startswith("lfvmb"):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    conn.close()
    for entry in os.listdir(pool):
        if entry.endswith("-loop.qcow2"):
            os.unlink(os.path.join(pool, entry))


def warm_up(lv):
    """libvirtd probes QEMU's capabilities at the first start (seconds): not part of either figure."""
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(lv.uri)
    try:
        dom = conn.defineXML("<domain type='" + DOMAIN_TYPE + "'><name>lfvmbwarm</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                             "<os><type arch='x86_64'>hvm</type></os><devices><memballoon model='none'/></devices>"
                             "</domain>")
        dom.create()
        dom.destroy()
        dom.undefine()
    finally:
        conn.close()


def running(lv):
    import libvirt  # pylint: disable=import-outside-toplevel
    conn = libvirt.open(lv.uri)
    try:
        return sum(1 for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) if d.name().startswith("lfvmb"))
    finally:
        conn.close()


def main():
    reason = missing()
    if reason:
        print("vm_farm benchmark skipped: %s" % reason)
        return 0
    ns = "lfvm%sb" % uuid.uuid4().hex[:4]
    work = tempfile.mkdtemp(prefix="lfvm-bench-")
    subprocess.run(["ip", "netns", "add", ns], check=True)
    lv = None
    try:
        lv = PrivateLibvirtd(os.path.join(work, "libvirtd"), netns=ns).start()
        backing = os.path.join(work, "base.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", backing, "64M"])
        pool = os.path.join(work, "pool")
        os.makedirs(pool)
        warm_up(lv)
        mod_times, loop_times, loop_full_times = [], [], []

        def module_round():
            mod_times.append(module_run(lv, backing, pool, work, "running"))
            assert running(lv) == NVMS and len(os.listdir(pool)) == NVMS
            module_run(lv, backing, pool, work, "absent")
            assert running(lv) == 0

        def loop_round(with_overlays):
            (loop_full_times if with_overlays else loop_times).append(
                virsh_loop(lv, pool, backing, work, with_overlays=with_overlays))
            assert running(lv) == NVMS
            clean_loop(lv, pool)

        steps = [module_round, lambda: loop_round(False), lambda: loop_round(True)]
        for index in range(ROUNDS):
            # the order turns each round: no figure always comes first (or right after another)
            for step in steps[index % 3:] + steps[:index % 3]:
                step()
        mod, loop, loop_full = min(mod_times), min(loop_times), min(loop_full_times)
        ratio = mod / loop
        print("%d tiny VMs (32 MiB, domain type %s) defined and started on a private libvirtd, best of %d:"
              % (NVMS, DOMAIN_TYPE, ROUNDS))
        print("  libvirt_farm (ansible-playbook, overlays included, concurrency %d): %6.2f s" % (CONCURRENCY, mod))
        print("  virsh define + virsh start loop (overlays made before):          %6.2f s" % loop)
        print("  qemu-img create + virsh define + virsh start loop:               %6.2f s" % loop_full)
        print("  ratio module / loop: %.2f (target <= %.1f); like for like (overlays in both): %.2f"
              % (ratio, TARGET, mod / loop_full))
        return 0 if ratio <= TARGET else 1
    finally:
        if lv is not None:
            lv.stop()
        subprocess.run(["ip", "netns", "delete", ns], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
