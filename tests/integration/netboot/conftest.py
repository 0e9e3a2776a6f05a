# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real DHCP daemons (dnsmasq, isc-dhcpd, Kea) and TFTP in network namespaces (tests/lab/netns.py),
fed by labfarm.massclone.netboot_config.

One pair of namespaces (server with a bridge, client with a veth end) for the session, on subnet
10.99.<random n>.0/24; each test gets its own directory, starts its own daemons and stops them (by PID).
"""

import json
import os
import shutil
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab.netns import copy_pxelinux, lab_or_missing  # noqa: E402  pylint: disable=wrong-import-position

MODULE = "labfarm.massclone.netboot_config"
DEST = {"dnsmasq": "dnsmasq.conf", "isc": "dhcpd.conf", "kea": "kea-dhcp4.conf"}
NHOSTS = 20
FIRST_HOST = 101          # host #i (1-based) has 10.99.n.(100 + i)
DYNAMIC = (200, 220)      # dynamic range 10.99.n.200-10.99.n.220
PROFILES = {
    "local": {"type": "local", "label": "Boot from local disk"},
    "ring": {"type": "linux", "label": "Ring imaging client", "kernel": "ring/vmlinuz",
             "initrd": "ring/initrd.img", "append": "ring.session=lab42 console=ttyS0"},
    "install": {"type": "linux", "label": "Debian installer", "kernel": "debian/linux",
                "initrd": "debian/initrd.gz", "append": "auto=true priority=critical"},
    "chain": {"type": "ipxe_chain", "label": "iPXE chain", "url": "http://10.99.0.1/boot.ipxe"},
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long integration test (a real PXE boot); make test runs it too")


@pytest.fixture(scope="session")
def netns_lab():
    """Server and client namespaces for the whole session; torn down (daemons by PID) at the end."""
    lab = lab_or_missing()
    yield lab
    lab.teardown()


class Netboot:
    """One test's files (config, leases, pid, log, tftp root) and helpers to call the module with them."""

    def __init__(self, lab, directory, run_tasks):
        self.lab = lab
        self.dir = directory
        self.run_tasks = run_tasks
        self.tftp_root = os.path.join(directory, "tftp")
        copy_pxelinux(self.tftp_root)

    def hosts(self, count=NHOSTS, boot="ring"):
        """Host #i (1-based): node<ii>, MAC 52:54:00:4e:42:<i>, IP 10.99.n.(100+i)."""
        return [{"name": "node%02d" % i, "mac": "52:54:00:4e:42:%02x" % i, "ip": self.lab.ip(FIRST_HOST - 1 + i),
                 "boot": boot} for i in range(1, count + 1)]

    def subnet(self, dynamic=True):
        subnet = {"network": self.lab.network, "gateway": self.lab.server_ip, "dns": self.lab.server_ip,
                  "domain": "lab.test"}
        if dynamic:
            subnet["dynamic_range"] = "%s-%s" % (self.lab.ip(DYNAMIC[0]), self.lab.ip(DYNAMIC[1]))
        return subnet

    def dest(self, backend):
        return os.path.join(self.dir, DEST[backend])

    def files(self, backend):
        d = self.dir
        return {"lease_file": os.path.join(d, "%s.leases" % backend), "pid_file": os.path.join(d, "%s.pid" % backend),
                "log_file": os.path.join(d, "%s.log" % backend), "control_socket": os.path.join(d, "kea4.sock")}

    def args(self, backend, hosts, dynamic=True, **extra):
        args = {
            "hosts": hosts,
            "subnets": [self.subnet(dynamic)],
            "backend": backend,
            "dest": self.dest(backend),
            "interfaces": [self.lab.bridge],
            "tftp_root": self.tftp_root,
            "tftp_server": self.lab.server_ip,
            "profiles": PROFILES,
            "default_profile": "ring",
            "config_test": True,
            "backup": False,
        }
        files = self.files(backend)
        args.update((k, files[k]) for k in ("lease_file", "pid_file", "log_file"))
        if backend == "kea":
            args["control_socket"] = files["control_socket"]
        if backend == "dnsmasq":
            args["enable_tftp"] = True
            args["dns_port"] = 0
        args.update(extra)
        return args

    def call(self, args_list, **kwargs):
        """The module's tasks, run where the daemon runs: in the server namespace, where the
        interfaces exist (kea-dhcp4 -t refuses a config naming an interface it cannot see)."""
        return self.run_tasks(MODULE, args_list, netns=self.lab.srv_ns, **kwargs)

    def configure(self, backend, hosts, dynamic=True, expect_ok=True, **extra):
        result = self.call([self.args(backend, hosts, dynamic, **extra)])[0]
        if expect_ok:
            assert not result.get("failed"), "netboot_config failed: msg=%s config_test=%s" % (
                result.get("msg"), json.dumps(result.get("config_test"), indent=1)[:3000])
        return result

    def start(self, backend):
        """The backend's daemon in the server namespace on the module's config; in.tftpd for isc/kea."""
        files = self.files(backend)
        if backend == "dnsmasq":
            daemon = self.lab.start_dnsmasq(self.dest(backend), log_file=files["log_file"])
        elif backend == "isc":
            daemon = self.lab.start_dhcpd(self.dest(backend), lease_file=files["lease_file"],
                                          pid_file=files["pid_file"], log_path=files["log_file"])
        else:
            daemon = self.lab.start_kea(self.dest(backend), control_socket=files["control_socket"],
                                        log_path=files["log_file"])
        tftpd = None if backend == "dnsmasq" else self.lab.start_tftpd(self.tftp_root)
        return daemon, tftpd

    def live_files(self, backend):
        """{path: bytes} of everything the module manages here: dest, dest.hosts, the tftp tree."""
        out = {}
        for path in (self.dest(backend), self.dest(backend) + ".hosts"):
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    out[path] = handle.read()
        for top, dummy, names in os.walk(self.tftp_root):
            for name in names:
                path = os.path.join(top, name)
                with open(path, "rb") as handle:
                    out[path] = handle.read()
        return out


@pytest.fixture
def netboot(netns_lab, run_tasks):
    """A fresh directory (world-readable: dnsmasq and in.tftpd drop to nobody) under the lab's work dir."""
    directory = netns_lab.path("t-" + uuid.uuid4().hex[:8])
    os.makedirs(directory)
    os.chmod(directory, 0o755)
    nb = Netboot(netns_lab, directory, run_tasks)
    yield nb
    for daemon in list(netns_lab.daemons):
        daemon.stop()
    shutil.rmtree(directory, ignore_errors=True)
