# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A machine that network-boots through its BMC: a libvirt QEMU/TCG domain (private libvirtd,
tests/lab/libvirtd.py) on a bridge in a network namespace (tests/lab/netns.py), behind VirtualBMC
(tests/lab/vbmc.py), with the netboot_server role's dnsmasq serving DHCP and TFTP there.

The machine boots Debian's kernel (linux-image-*-amd64, fetched once with apt-get download into
${LABFARM_CACHE:-~/.cache/labfarm}/power) and a busybox-static initramfs whose /init prints MARKER and
/proc/cmdline on ttyS0, which libvirt writes to a file. Names: namespaces lfpx<5 hex>..., subnet
10.234.<n>.0/24, domains lfpx-*, BMC ports 16230-16249 (vbmcd's control port is one of them).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# pylint: disable=wrong-import-position,import-error
from lab import lab_missing  # noqa: E402
from lab.libvirtd import PrivateLibvirtd, bridged_domain_xml, missing as libvirtd_missing  # noqa: E402
from lab.netns import NetnsLab, can_use_netns, missing_tools, run  # noqa: E402
from lab.vbmc import VirtualBMC, free_ports as free_bmc_ports, missing as vbmc_missing  # noqa: E402

PORTS = range(16230, 16250)
MARKER = "LFPX-IMAGING-UP"
CACHE = os.path.join(os.environ.get("LABFARM_CACHE") or os.path.expanduser("~/.cache/labfarm"), "power")
BUSYBOX = "/bin/busybox"
INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev /sys
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
echo "{marker} $(/bin/busybox cat /proc/sys/kernel/random/boot_id) cmdline=$(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
while true; do /bin/busybox sleep 3600; done
"""


class PowerNetns(NetnsLab):
    """tests/lab/netns.py's lab under this helper's names: lfpx<5 hex>... and 10.234.<n>.0/24."""

    def __init__(self, workdir):
        super().__init__(workdir)
        self.prefix = "lfpx" + self.suffix
        self.srv_ns, self.cli_ns = self.prefix + "s", self.prefix + "c"
        self.bridge, self.veth_srv, self.veth_cli = self.prefix + "br", self.prefix + "vs", self.prefix + "vc"
        self.network = "10.234.%d.0/24" % self.n
        self.server_ip = self.ip(1)

    def ip(self, host):
        return "10.234.%d.%d" % (self.n, host)


def debian_kernel():
    """Debian's current amd64 kernel image (vmlinuz), fetched once into CACHE."""
    found = sorted(glob.glob(os.path.join(CACHE, "boot", "vmlinuz-*")))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        lab_missing("apt-get is needed to fetch Debian's kernel (linux-image-amd64)")
    os.makedirs(CACHE, exist_ok=True)
    out = run(["apt-cache", "depends", "linux-image-amd64"])[1]
    package = [line.split()[-1] for line in out.splitlines() if "Depends:" in line and "linux-image-" in line][0]
    run(["apt-get", "download", "-q", package], cwd=CACHE, timeout=600)
    deb = glob.glob(os.path.join(CACHE, package + "_*.deb"))[0]
    subprocess.run("dpkg-deb --fsys-tarfile '%s' | tar -x -C '%s' --wildcards './boot/vmlinuz-*'" % (deb, CACHE),
                   shell=True, check=True)
    os.unlink(deb)
    return sorted(glob.glob(os.path.join(CACHE, "boot", "vmlinuz-*")))[-1]


def busybox_initrd(path, padding=0):
    """A gzip'd newc initramfs: busybox-static and /init (INIT); ``padding`` bytes of random data in
    /padding make it as large as a real imaging system (for the TFTP/HTTP figures)."""
    root = tempfile.mkdtemp(prefix="lfpx-initrd-")
    try:
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
        with open(os.path.join(root, "init"), "w") as handle:
            handle.write(INIT.format(marker=MARKER))
        os.chmod(os.path.join(root, "init"), 0o755)
        if padding:
            with open(os.path.join(root, "padding"), "wb") as handle:
                handle.write(os.urandom(padding))
        subprocess.run("find . | cpio -o -H newc --quiet | gzip -1 > '%s'" % path, shell=True, cwd=root, check=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return path


def free_ports(count):
    """``count`` ports of PORTS free for UDP (BMCs) and TCP (vbmcd's control port)."""
    try:
        return free_bmc_ports(PORTS, count)
    except RuntimeError as error:
        pytest.fail(str(error))


class PowerLab:
    """The namespaces, libvirtd, vbmcd and the boot files of one test module."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.net = PowerNetns(os.path.join(workdir, "net"))
        self.libvirtd = None
        self.bmcs = None
        self.tftp_root = os.path.join(workdir, "tftp")
        self.domains = {}

    def domain(self, name, mac, memory=128):
        """Define (not start) domain ``name`` with ``mac`` on the bridge; returns its serial log path."""
        import libvirt  # pylint: disable=import-outside-toplevel
        serial = os.path.join(self.workdir, "%s.serial" % name)
        xml = bridged_domain_xml(name, memory, self.net.bridge, mac, serial)
        conn = libvirt.open(self.libvirtd.uri)
        try:
            conn.defineXML(xml)
        finally:
            conn.close()
        self.domains[name] = serial
        return serial

    def domain_xml(self, name, inactive=True):
        import libvirt  # pylint: disable=import-outside-toplevel
        conn = libvirt.open(self.libvirtd.uri)
        try:
            return conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0)
        finally:
            conn.close()

    def dnsmasq_pid(self):
        path = os.path.join(self.workdir, "state", "dnsmasq.pid")
        try:
            with open(path) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    def teardown(self):
        if self.bmcs:
            self.bmcs.stop()
        if self.libvirtd:
            self.libvirtd.stop()
        pid = self.dnsmasq_pid()      # the role's dnsmasq (start-stop-daemon), ours to stop
        if pid:
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        self.net.teardown()


@pytest.fixture(scope="module")
def power_lab():
    for reason in (vbmc_missing(), libvirtd_missing(), can_use_netns()):
        if reason:
            lab_missing(reason)
    missing = missing_tools(["ip", "dnsmasq", "cpio"])
    if missing or not os.path.exists(BUSYBOX):
        lab_missing("missing %s" % ", ".join(missing + ([] if os.path.exists(BUSYBOX) else ["busybox (busybox-static)"])))
    workdir = tempfile.mkdtemp(prefix="lfpx-")      # not under pytest's 0700 tree: dnsmasq reads it as nobody
    os.chmod(workdir, 0o755)
    lab = PowerLab(workdir)
    try:
        lab.net.setup()
        os.makedirs(os.path.join(lab.tftp_root, "imaging"))
        shutil.copy(debian_kernel(), os.path.join(lab.tftp_root, "imaging", "vmlinuz"))
        busybox_initrd(os.path.join(lab.tftp_root, "imaging", "initrd.img"))
        lab.libvirtd = PrivateLibvirtd(os.path.join(workdir, "libvirt"), netns=lab.net.srv_ns).start()
        control, *lab.ports = free_ports(4)
        lab.bmcs = VirtualBMC(os.path.join(workdir, "vbmc"), control).start()
        lab.run_id = uuid.uuid4().hex[:6]
        yield lab
    finally:
        lab.teardown()
        shutil.rmtree(workdir, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long integration test (a machine that boots); make test runs it too")
