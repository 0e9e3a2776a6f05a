# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate and render 10,000 DHCP reservations and their PXE files, for each backend, printed
beside the daemon's own config test on the same files in the same run.

Target (issue 4): validate + render of 10,000 hosts under 1 s (xCAT3 needed 19.5 s to "deploy dhcp"
for 10,000 nodes). Each figure is the best of 3 rounds. Exits 1 when a backend misses the target.
Then dnsmasq, started in a network namespace on the generated configuration (the hosts file the
module writes), serves host #10,000 its reserved address to a DHCP client in another namespace.
Run: make benchmark  (or .venv/bin/python benchmarks/netboot.py)
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import _timing as timing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "collections"))

from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.daemon import (  # noqa: E402  pylint: disable=wrong-import-position
    BINARIES, config_test_command)
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.render import (  # noqa: E402  pylint: disable=wrong-import-position
    render_dnsmasq, render_isc, render_kea, render_pxe)
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.validate import (  # noqa: E402  pylint: disable=wrong-import-position
    BACKENDS, validate)

HOSTS = 10000
ROUNDS = 3
TARGET = 1.0
SUBNETS = [{"network": "10.100.0.0/16", "gateway": "10.100.255.254", "dns": ["10.100.255.254"],
            "dynamic_range": "10.100.250.1-10.100.250.254"}]
PROFILES = {"ring": {"type": "linux", "kernel": "ring/vmlinuz", "initrd": "ring/initrd.img", "append": "ip=dhcp"}}


def make_hosts(count):
    return [{"name": "node%05d" % i, "mac": "52:54:00:%02x:%02x:%02x" % (i >> 16, (i >> 8) & 255, i & 255),
             "ip": "10.100.%d.%d" % (1 + (i - 1) // 250, 1 + (i - 1) % 250), "boot": "ring" if i % 2 else "local"}
            for i in range(1, count + 1)]


def best(fn, rounds=ROUNDS):
    return timing.best(fn, rounds)


def render(backend, hosts, dest, tftp_root, workdir):
    def run():
        parsed, subnets, profiles = validate(hosts, SUBNETS, PROFILES, "local")
        if backend == "dnsmasq":
            texts = render_dnsmasq(parsed, subnets, dest + ".hosts", pxe=True, tftp_server="10.100.255.254",
                                   lease_file=os.path.join(workdir, "leases"),
                                   pid_file=os.path.join(workdir, "pid"), inline_hosts=True)
        elif backend == "isc":
            texts = render_isc(parsed, subnets, tftp_server="10.100.255.254", pxe=True,
                               lease_file=os.path.join(workdir, "leases"), pid_file=os.path.join(workdir, "pid"))
        else:
            texts = render_kea(parsed, subnets, tftp_server="10.100.255.254", pxe=True,
                               lease_file=os.path.join(workdir, "leases.csv"),
                               control_socket=os.path.join(workdir, "sock"))
        return texts, render_pxe(parsed, profiles, "local")
    return run


def daemon_test(backend, path):
    binary = shutil.which(BINARIES[backend], path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if binary is None:
        return None, "not installed"
    command = config_test_command(backend, binary, path)

    def run():
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    seconds, proc = best(run)
    if proc.returncode != 0:
        return None, "failed: %s" % proc.stdout.decode(errors="replace")[-300:]
    return seconds, "ok"


def serve_last_host(hosts, workdir):
    """dnsmasq with the 10,000 reservations in a namespace; a client with host #10,000's MAC."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from lab.netns import NetnsLab  # pylint: disable=import-outside-toplevel
    os.chmod(workdir, 0o755)   # dnsmasq reads its hosts file as nobody
    lab = NetnsLab(os.path.join(workdir, "netns"))
    lab.setup()
    try:
        lab.add_server_address("10.100.255.254/16")
        parsed, subnets, dummy = validate(hosts, SUBNETS, PROFILES, "local")
        conf = lab.path("dnsmasq.conf")
        main_text, hosts_text = render_dnsmasq(parsed, subnets, conf + ".hosts", interfaces=[lab.bridge],
                                               lease_file=lab.path("leases"), pid_file=lab.path("dnsmasq.pid"))
        with open(conf, "w") as out:
            out.write(main_text)
        with open(conf + ".hosts", "w") as out:
            out.write(hosts_text)
        start = time.perf_counter()
        lab.start_dnsmasq(conf)
        started = time.perf_counter() - start
        last = hosts[-1]
        ip, info = lab.dhcp_client(last["mac"], details=True)
        return started, info["seconds"], ip, last["ip"]
    finally:
        lab.teardown()


def main():
    hosts = make_hosts(HOSTS)
    workdir = tempfile.mkdtemp(prefix="netboot-bench-")
    failed = False
    print("%d hosts, best of %d; target: validate + render < %.1f s" % (HOSTS, ROUNDS, TARGET))
    print("%-8s %18s %12s %22s %8s" % ("backend", "validate+render", "PXE files", "daemon config test", "ratio"))
    try:
        for backend in BACKENDS:
            dest = os.path.join(workdir, "%s.conf" % backend)
            seconds, (texts, pxe_files) = best(render(backend, hosts, dest, os.path.join(workdir, "tftp"), workdir))
            main_text = texts[0] if isinstance(texts, tuple) else texts
            with open(dest, "w") as out:
                out.write(main_text)
            daemon_seconds, status = daemon_test(backend, dest)
            ratio = "%.2fx" % (seconds / daemon_seconds) if daemon_seconds else "-"
            shown = "%.3f s" % daemon_seconds if daemon_seconds else status
            print("%-8s %16.3f s %12d %22s %8s" % (backend, seconds, len(pxe_files), shown, ratio))
            if seconds > TARGET:
                failed = True
                print("  MISSED: %s took %.3f s > %.1f s" % (backend, seconds, TARGET))
            if daemon_seconds is None and status != "not installed":
                failed = True
                print("  %s config test %s" % (BINARIES[backend], status))
        if os.geteuid() == 0 and shutil.which("dnsmasq", path=os.environ.get("PATH", "") + ":/usr/sbin"):
            started, leased, ip, wanted = serve_last_host(hosts, workdir)
            print("dnsmasq on the generated configuration: ready in %.2f s; host #%d (%s) leased %s in %.2f s"
                  % (started, HOSTS, wanted, ip, leased))
            if ip != wanted:
                failed = True
                print("  MISSED: host #%d got %s, not its reservation %s" % (HOSTS, ip, wanted))
        else:
            print("dnsmasq serving host #%d: skipped (needs root and dnsmasq)" % HOSTS)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
