# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A farm of machines to image: libvirt QEMU/TCG domains with a blank virtio disk each, on the bridge of a network
namespace (tests/lab/netns.py), each behind its own VirtualBMC (tests/lab/vbmc.py) in front of a private libvirtd
(tests/lab/libvirtd.py). The controller (this process, ansible-playbook) reaches the bridge through a veth pair whose
root-namespace end holds CONTROLLER_HOST of the subnet, so SSH, the ring and IPMI all run from the root namespace
while dnsmasq (the netboot_server role) serves DHCP and TFTP in the server namespace.

    farm = ImagingFarm(workdir, prefix="lfin", subnet="10.235", ports=range(16250, 16270)).setup()
    node = farm.add_node("node1", 11, memory=320, disk_mib=160)   # {name, mac, address, bmc, bmc_port, ...}
    farm.teardown()

Names: namespaces <prefix><5 hex>{s,c}, links <prefix><5 hex>{br,rh,rb}, domains <prefix>-<name>-<hex>.
"""

import os
import shutil
import socket
import subprocess

from lab.libvirtd import PrivateLibvirtd, bridged_domain_xml
from lab.netns import NetnsLab, run
from lab.vbmc import VirtualBMC, free_ports

CONTROLLER_HOST = 250


class FarmNetns(NetnsLab):
    """tests/lab/netns.py's lab under a helper's names and subnet, plus the controller's veth onto the bridge."""

    def __init__(self, workdir, prefix, subnet):
        self.subnet = subnet
        super().__init__(workdir)
        self.prefix = prefix + self.suffix
        self.srv_ns, self.cli_ns = self.prefix + "s", self.prefix + "c"
        self.bridge, self.veth_srv, self.veth_cli = self.prefix + "br", self.prefix + "vs", self.prefix + "vc"
        self.veth_root, self.veth_bridge = self.prefix + "rh", self.prefix + "rb"
        self.network = "%s.%d.0/24" % (subnet, self.n)
        self.server_ip = self.ip(1)
        self.controller_ip = self.ip(CONTROLLER_HOST)

    def ip(self, host):
        return "%s.%d.%d" % (self.subnet, self.n, host)

    def setup(self):
        super().setup()
        try:
            run(["ip", "link", "add", self.veth_root, "type", "veth", "peer", "name", self.veth_bridge])
            run(["ip", "link", "set", self.veth_bridge, "netns", self.srv_ns])
            run(["ip", "-n", self.srv_ns, "link", "set", self.veth_bridge, "master", self.bridge])
            run(["ip", "-n", self.srv_ns, "link", "set", self.veth_bridge, "up"])
            run(["ip", "addr", "add", "%s/24" % self.controller_ip, "dev", self.veth_root])
            run(["ip", "link", "set", self.veth_root, "up"])
        except Exception:
            self.teardown()
            raise
        return self

    def teardown(self):
        if run(["ip", "link", "show", self.veth_root], check=False)[0] == 0:
            run(["ip", "link", "delete", self.veth_root], check=False)
        super().teardown()


class ImagingFarm:
    """The namespaces, the libvirtd, the vbmcd, the domains and their disks of one test module."""

    def __init__(self, workdir, prefix, subnet, ports):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)          # dnsmasq reads the TFTP root as nobody
        self.net = FarmNetns(os.path.join(workdir, "net"), prefix, subnet)
        self.prefix = prefix
        self.ports = list(ports)
        self.libvirtd = None
        self.bmcs = None
        self.bmc_ports = []
        self.tftp_root = os.path.join(workdir, "tftp")
        self.nodes = {}
        self.tag = self.net.suffix
        # the ring's state directory, on the controller (the source's progress file) and on the nodes
        self.ring_state_dir = "/run/%s-ring-%s" % (prefix, self.tag)

    def setup(self):
        try:
            self.net.setup()
            os.makedirs(self.tftp_root, exist_ok=True)
            self.libvirtd = PrivateLibvirtd(os.path.join(self.workdir, "libvirt"), netns=self.net.srv_ns).start()
            control, *self.bmc_ports = free_ports(self.ports, 9)
            self.bmcs = VirtualBMC(os.path.join(self.workdir, "vbmc"), control).start()
        except Exception:
            self.teardown()
            raise
        return self

    def _libvirt(self):
        import libvirt  # pylint: disable=import-outside-toplevel
        return libvirt.open(self.libvirtd.uri)

    def add_node(self, name, host, memory=320, disk_mib=160, password="s3cret"):
        """A powered-off domain with a blank disk and its BMC; returns the node's inventory facts."""
        index = len(self.nodes)
        domain = "%s-%s-%s" % (self.prefix, name, self.tag)
        mac = "52:54:00:%02x:%02x:%02x" % (0xe0 + index, self.net.n, host)
        disk = os.path.join(self.workdir, "%s.disk" % name)
        with open(disk, "wb") as handle:
            handle.truncate(disk_mib * 1024 * 1024)
        serial = os.path.join(self.workdir, "%s.serial" % name)
        conn = self._libvirt()
        try:
            conn.defineXML(bridged_domain_xml(domain, memory, self.net.bridge, mac, serial, disk=disk))
        finally:
            conn.close()
        port = self.bmcs.add(domain, self.bmc_ports[index], self.libvirtd.uri, username="admin", password=password)
        node = {"name": name, "domain": domain, "mac": mac, "address": self.net.ip(host), "bmc": "127.0.0.1",
                "bmc_port": port, "bmc_user": "admin", "bmc_password": password, "disk": disk, "serial": serial}
        self.nodes[name] = node
        return node

    def destroy(self, name):
        """Power a node off at once (as pulling its plug)."""
        import libvirt  # pylint: disable=import-outside-toplevel
        conn = self._libvirt()
        try:
            dom = conn.lookupByName(self.nodes[name]["domain"])
            if dom.isActive():
                dom.destroy()
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()

    def boot_device(self, name):
        conn = self._libvirt()
        try:
            xml = conn.lookupByName(self.nodes[name]["domain"]).XMLDesc(2)   # VIR_DOMAIN_XML_INACTIVE
        finally:
            conn.close()
        return "network" if "<boot dev='network'/>" in xml else "hd"

    def serial(self, name):
        path = self.nodes[name]["serial"]
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as handle:
            return handle.read()

    def dnsmasq_pid(self):
        try:
            with open(os.path.join(self.workdir, "state", "dnsmasq.pid")) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    def teardown(self):
        for name in list(self.nodes):
            try:
                self.destroy(name)
            except Exception:  # keep cleaning
                pass
        if self.bmcs:
            self.bmcs.stop()
        if self.libvirtd:
            self.libvirtd.stop()
        pid = self.dnsmasq_pid()      # the netboot_server role's dnsmasq (start-stop-daemon), ours to stop
        if pid:
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        self.net.teardown()
        shutil.rmtree(self.ring_state_dir, ignore_errors=True)


def ssh_argv(key, node, command):
    """ssh as root to a node of the farm (its host keys change with each system it boots: none is checked)."""
    return ["ssh", "-i", key.private, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@" + node["address"], command]


def ipmitool(node, *command):
    """ipmitool over the node's BMC (lanplus; VirtualBMC takes ipmitool's cipher suite 3): the finished process."""
    return subprocess.run(["ipmitool", "-I", "lanplus", "-H", node["bmc"], "-p", str(node["bmc_port"]), "-U", node["bmc_user"],
                           "-P", node["bmc_password"]] + list(command), capture_output=True, text=True, timeout=60, check=False)


def tcp_open(address, port, timeout=1.0):
    try:
        socket.create_connection((address, port), timeout).close()
        return True
    except OSError:
        return False


def copy_boot_files(farm, kernel, initrd, directory="imaging"):
    """The imaging system's kernel and initramfs into the farm's TFTP root; returns their TFTP paths."""
    os.makedirs(os.path.join(farm.tftp_root, directory), exist_ok=True)
    shutil.copy(kernel, os.path.join(farm.tftp_root, directory, "vmlinuz"))
    shutil.copy(initrd, os.path.join(farm.tftp_root, directory, "initrd.img"))
    return directory + "/vmlinuz", directory + "/initrd.img"
