# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts reached over SSH, for multi-host tests: each host is a network namespace with its own
address, its own sshd and its own directories; Ansible reaches it as it would a real machine.

    farm = SshFarm(workdir)               # names lfss<5 hex>..., subnet 10.233.<random n>.0/24
    store = farm.add_host("store")        # namespace lfss<hex>h0, 10.233.n.10, sshd on port 22
    gns3 = farm.add_host("gns3a")         # lfss<hex>h1, 10.233.n.11
    gns3.argv(["gns3server", ...])        # a command run INSIDE the host's namespace
    farm.inventory_vars(store)            # ansible_host, ansible_user, key, interpreter, ssh args
    farm.teardown()                       # every sshd (by its PidFile), the namespaces, the links

Layout: a switch namespace ``<p>sw`` holds a bridge; the test process (root namespace) is
10.233.n.1 on a veth whose other end is on that bridge, and every host namespace has one veth end
(``eth0`` inside) on it too, so the hosts reach each other and the test reaches them all. Deleting the
namespaces removes every link (each veth pair has one end in a namespace of the lab).

The file system is shared (a namespace isolates the network only): each host gets its own
directory ``workdir/<host name>`` for its files, and the sshd of each host its own config, host key,
authorized key (made for this farm) and PidFile. The owner of the namespaces is recorded as
tests/lab/netns.py does (claim_prefix): a later run deletes the namespaces of a run that died.
Standard library only; nothing here imports the collection.
"""

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from .netns import claim_prefix, run, _starttime

PREFIX = "lfss"
SSHD = "/usr/sbin/sshd"
SYSTEM_PYTHON = "/usr/bin/python3"
TOOLS = {"ip": "iproute2", "sshd": "openssh-server", "ssh": "openssh-client", "ssh-keygen": "openssh-client"}


def missing_tools():
    """['sshd (openssh-server)', ...]: what is not installed."""
    out = []
    for tool, package in TOOLS.items():
        path = SSHD if tool == "sshd" else shutil.which(tool)
        if not path or not os.access(path, os.X_OK):
            out.append("%s (%s)" % (tool, package))
    return out


SSHD_CONFIG = """# written by labfarm.massclone tests/lab/sshhost.py for host {name}
ListenAddress {address}
Port 22
HostKey {host_key}
AuthorizedKeysFile {authorized_keys}
PidFile {pid_file}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp internal-sftp
"""


class SshHost:
    """One host of the farm: its namespace, address, directory and sshd."""

    def __init__(self, farm, name, index):
        self.farm = farm
        self.name = name
        self.index = index
        self.namespace = "%sh%d" % (farm.prefix, index)
        self.address = farm.ip(10 + index)
        self.directory = os.path.join(farm.workdir, name)
        self.sshd_dir = os.path.join(self.directory, "sshd")
        self.pid_file = os.path.join(self.sshd_dir, "sshd.pid")
        self.log_path = os.path.join(self.sshd_dir, "sshd.log")
        self.config_path = os.path.join(self.sshd_dir, "sshd_config")
        self.sshd_pid = None
        self.sshd_start = None

    def __repr__(self):
        return "SshHost(%s, %s in %s)" % (self.name, self.address, self.namespace)

    def argv(self, argv):
        """``argv`` run inside this host's network namespace, in the machine's mount namespace (nsenter
        execs: the PID is the command's). Not ``ip netns exec``: it makes a mount namespace of its own, where
        zfs-fuse cannot mount the datasets the storage host creates."""
        return ["nsenter", "--net=/run/netns/%s" % self.namespace] + list(argv)

    def path(self, *parts):
        return os.path.join(self.directory, *parts)

    # -- sshd ------------------------------------------------------------------------------
    def start_sshd(self, timeout=10.0):
        os.makedirs(self.sshd_dir, exist_ok=True)
        host_key = os.path.join(self.sshd_dir, "ssh_host_ed25519_key")
        if not os.path.exists(host_key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "labfarm %s" % self.name, "-f", host_key])
        with open(self.config_path, "w") as handle:
            handle.write(SSHD_CONFIG.format(name=self.name, address=self.address, host_key=host_key,
                                            authorized_keys=self.farm.authorized_keys, pid_file=self.pid_file))
        os.makedirs("/run/sshd", exist_ok=True)   # sshd's privilege separation directory
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        run(self.argv([SSHD, "-t", "-f", self.config_path]))
        run(self.argv([SSHD, "-f", self.config_path, "-E", self.log_path]))  # daemonizes, writes its PidFile
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.pid_file) as handle:
                    self.sshd_pid = int(handle.read().strip())
                self.sshd_start = _starttime(self.sshd_pid)
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd of %s wrote no PidFile in %.0f s; log:\n%s" % (self.name, timeout, self.sshd_log()))
                time.sleep(0.05)
        while self.ssh(["true"], check=False, timeout=10)[0] != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("cannot log in to %s (%s) over SSH; sshd log:\n%s" % (self.name, self.address, self.sshd_log()))
            time.sleep(0.1)
        return self

    def sshd_log(self):
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""

    def sshd_running(self):
        return self.sshd_pid is not None and _starttime(self.sshd_pid) == self.sshd_start

    def stop_sshd(self, timeout=5.0):
        """SIGTERM to this host's sshd (its PidFile's PID, checked by start time): it stops listening;
        sessions in progress end on their own (teardown ends the masters of the farm's connections)."""
        if not self.sshd_running():
            self.sshd_pid = None
            return
        os.kill(self.sshd_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.sshd_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.sshd_running():
            os.kill(self.sshd_pid, signal.SIGKILL)
        self.sshd_pid = None

    def ssh(self, command, check=True, timeout=60):
        """(rc, stdout, stderr) of ``command`` (a list, joined by the remote shell) run over SSH on this host."""
        return run(["ssh"] + self.farm.ssh_options() + ["root@%s" % self.address, " ".join(command)],
                   check=check, timeout=timeout)


class SshFarm:
    """The switch, the key, and the hosts; ``teardown`` undoes it all (safe to call twice)."""

    def __init__(self, workdir=None, subnet_index=None):
        self.suffix = uuid.uuid4().hex[:5]
        self.prefix = PREFIX + self.suffix            # 9 chars: + role <= 15 (interface names)
        self.switch_ns = self.prefix + "sw"
        self.root_veth = self.prefix + "r"
        self.n = subnet_index if subnet_index is not None else random.randint(1, 254)
        self.gateway = self.ip(1)
        self.own_workdir = workdir is None
        self.workdir = os.path.abspath(str(workdir or tempfile.mkdtemp(prefix="lfss-")))
        self.key = os.path.join(self.workdir, "id_ed25519")
        self.authorized_keys = os.path.join(self.workdir, "authorized_keys")
        # ssh's control sockets: a short path of its own (a Unix socket path holds at most 107 bytes)
        self.control_dir = None
        self.hosts = []
        self.namespaces = []
        self.owner_marker = None

    def ip(self, host):
        return "10.233.%d.%d" % (self.n, host)

    def setup(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.control_dir = tempfile.mkdtemp(prefix=self.prefix, dir="/tmp")
        self.owner_marker = claim_prefix(self.prefix)
        try:
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "labfarm test " + self.prefix, "-f", self.key])
            shutil.copyfile(self.key + ".pub", self.authorized_keys)
            self._add_namespace(self.switch_ns)
            s = ["ip", "-n", self.switch_ns]
            run(s + ["link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"])
            run(s + ["link", "set", "br0", "up"])
            run(["ip", "link", "add", self.root_veth, "type", "veth", "peer", "name", self.root_veth + "s"])
            self._plug(self.root_veth + "s")
            run(["ip", "addr", "add", "%s/24" % self.gateway, "dev", self.root_veth])
            run(["ip", "link", "set", self.root_veth, "up"])
        except Exception:
            self.teardown()
            raise
        return self

    def _add_namespace(self, name):
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def _plug(self, veth_end):
        """Move ``veth_end`` (in the root namespace) onto the switch's bridge."""
        run(["ip", "link", "set", veth_end, "netns", self.switch_ns])
        run(["ip", "-n", self.switch_ns, "link", "set", veth_end, "master", "br0"])
        run(["ip", "-n", self.switch_ns, "link", "set", veth_end, "up"])

    def add_host(self, name, start_sshd=True):
        """A new host named ``name`` (its directory is workdir/name), with its sshd started."""
        host = SshHost(self, name, len(self.hosts))
        os.makedirs(host.directory, exist_ok=True)
        self._add_namespace(host.namespace)
        self.hosts.append(host)
        veth = self.prefix + "h%d" % host.index
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "s"])
        run(["ip", "link", "set", veth, "netns", host.namespace, "name", "eth0"])
        self._plug(veth + "s")
        n = ["ip", "-n", host.namespace]
        run(n + ["addr", "add", "%s/24" % host.address, "dev", "eth0"])
        run(n + ["link", "set", "eth0", "up"])
        if start_sshd:
            host.start_sshd()
        return host

    def ssh_options(self):
        """ssh's options for every host of the farm: the farm's key, no known_hosts, one master per host."""
        return ["-i", self.key, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10"]

    def ssh_common_args(self):
        """ansible_ssh_common_args: the options above and a ControlPath in the farm's directory,
        so teardown can end the masters Ansible leaves (ControlPersist)."""
        return " ".join(["-o IdentitiesOnly=yes", "-o StrictHostKeyChecking=no", "-o UserKnownHostsFile=/dev/null",
                         "-o ControlMaster=auto", "-o ControlPersist=120s",
                         "-o ControlPath=%s/%%C" % self.control_dir])

    def inventory_vars(self, host, python=SYSTEM_PYTHON):
        """The host variables Ansible needs to reach ``host`` over SSH."""
        return {"ansible_host": host.address, "ansible_user": "root", "ansible_port": 22,
                "ansible_connection": "ssh",
                "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": self.ssh_common_args(),
                "ansible_python_interpreter": python}

    def end_masters(self):
        """Stop the SSH control masters Ansible left for the farm's hosts (``ssh -O exit``)."""
        for host in self.hosts if self.control_dir else ():
            subprocess.run(["ssh", "-O", "exit", "-o", "ControlPath=%s/%%C" % self.control_dir, "-l", "root",
                            "-p", "22", host.address], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, check=False)

    def teardown(self):
        """Stop every sshd of the farm (by PID), end the SSH masters, delete the namespaces and links."""
        errors = []
        try:
            self.end_masters()
        except (OSError, subprocess.SubprocessError):
            pass
        for host in reversed(self.hosts):
            try:
                host.stop_sshd()
            except OSError as exc:
                errors.append("sshd of %s: %s" % (host.name, exc))
        for ns in reversed(self.namespaces):
            rc, dummy, err = run(["ip", "netns", "delete", ns], check=False)
            if rc != 0:
                errors.append("ip netns delete %s: %s" % (ns, err.strip()))
        self.namespaces = []
        self.hosts = []
        if run(["ip", "link", "show", self.root_veth], check=False)[0] == 0:
            run(["ip", "link", "delete", self.root_veth], check=False)
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.control_dir:
            shutil.rmtree(self.control_dir, ignore_errors=True)
        if self.owner_marker and os.path.exists(self.owner_marker):
            os.unlink(self.owner_marker)
            self.owner_marker = None
        if errors:
            raise RuntimeError("teardown: " + "; ".join(errors))
