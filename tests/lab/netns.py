# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DHCP and TFTP servers in network namespaces, for tests and benchmarks (Debian's dnsmasq,
isc-dhcp-server, Kea and tftpd-hpa, each in a namespace the test makes).

    lab = NetnsLab(workdir)          # names lfnb<5 hex>..., subnet 10.99.<random n>.0/24
    lab.setup()                      # server ns (bridge + veth end, server IP .1), client ns (veth end)
    d = lab.start_dnsmasq(conf)      # or start_dhcpd(conf), start_kea(conf, socket), start_tftpd(root)
    lab.dhcp_client("52:54:00:aa:bb:01")   # -> "10.99.n.23" or None (busybox udhcpc, addr-only script)
    lab.tftp_get("pxelinux.0")       # -> bytes, fetched from the client namespace
    d.reload()                       # dnsmasq SIGHUP; kea config-reload over its socket; dhcpd restart
    lab.add_tap()                    # a tap on the server bridge for QEMU (run it with lab.srv_argv)
    lab.teardown()                   # every daemon it started (by PID), the namespaces, the links

Interface names are at most 15 characters: prefix (9) + role (2). Every name carries a random
suffix so parallel sessions never clash. setup() records its owner (PID + start time) in
/run/labfarm-netns/<prefix> and deletes the namespaces of earlier sessions whose owner is gone;
daemons get PR_SET_PDEATHSIG so a killed pytest does not leave dhcpd/kea/QEMU running. Nothing here imports the collection. Standard library only.
"""

import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid


PREFIX = "lfnb"
OWNERS_DIR = "/run/labfarm-netns"   # <prefix> -> "PID STARTTIME" of the process that made the namespaces
PR_SET_PDEATHSIG = 1
TOOLS = {
    "ip": "iproute2",
    "dnsmasq": "dnsmasq",
    "dhcpd": "isc-dhcp-server",
    "kea-dhcp4": "kea-dhcp4-server",
    "udhcpc": "udhcpc",
    "in.tftpd": "tftpd-hpa",
    "curl": "curl",
}
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
PXE_VENDOR_CLASS = "PXEClient:Arch:00000:UNDI:002001"   # what a BIOS PXE ROM sends as option 60
LDLINUX = "/usr/lib/syslinux/modules/bios/ldlinux.c32"

# udhcpc runs this at every DHCP event. Never the stock script: the namespaces share /etc and it
# would rewrite resolv.conf. It only adds the address, and prints the lease for dhcp_client().
ADDR_ONLY_SCRIPT = """#!/bin/sh
case "$1" in
  bound|renew)
    ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null
    echo "LFNB_LEASE ip=$ip siaddr=$siaddr boot_file=$boot_file"
    ;;
esac
exit 0
"""


class LabError(RuntimeError):
    """A lab command that failed; the message holds the command and its output."""


def run(argv, check=True, timeout=60, cwd=None, env=None):
    """Run a command with C messages; return (rc, stdout, stderr), or raise LabError if check and rc != 0."""
    full_env = dict(os.environ, LC_ALL="C", LANG="C")
    full_env.update(env or {})
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          universal_newlines=True, env=full_env, timeout=timeout, check=False, cwd=cwd)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise LabError("`%s` failed (rc=%d): %s" % (" ".join(argv), proc.returncode, detail))
    return proc.returncode, proc.stdout, proc.stderr


def missing_tools(tools=None):
    """['dnsmasq (dnsmasq)', ...]: the commands of ``tools`` (default all) that are not installed."""
    return ["%s (%s)" % (tool, TOOLS.get(tool, tool)) for tool in (tools or TOOLS) if shutil.which(tool) is None]


def can_use_netns():
    """None when this process may create network namespaces, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = "%sprobe%s" % (PREFIX, uuid.uuid4().hex[:4])
    rc, dummy, err = run(["ip", "netns", "add", name], check=False)
    if rc != 0:
        return "cannot create a network namespace: %s" % err.strip()
    run(["ip", "netns", "delete", name], check=False)
    return None


def lab_or_missing(files=(PXELINUX, LDLINUX)):
    """A set-up NetnsLab, after checking its tools, ``files`` and the right to make namespaces; each
    missing piece goes to lab.lab_missing (a skip, or a failure under LABFARM_REQUIRE_LAB)."""
    from . import lab_missing
    missing = missing_tools()
    if missing:
        lab_missing("the netboot lab is not installed (missing %s); hack/setup.sh installs it" % ", ".join(missing))
    for path in files:
        if not os.path.exists(path):
            lab_missing("%s is missing (Debian pxelinux / syslinux-common)" % path)
    reason = can_use_netns()
    if reason:
        lab_missing(reason)
    return NetnsLab().setup()


def _starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            data = handle.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()[19]


def die_with_parent():
    """preexec_fn: the child gets SIGTERM if the test process dies without tearing down (a killed
    pytest). The kernel drops this for a daemon that changes its uid (dnsmasq, in.tftpd), not for
    dhcpd, kea-dhcp4 or QEMU."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def remove_stale_namespaces():
    """Delete the namespaces of earlier lab sessions whose owner process is gone (killed runs).

    Only namespaces recorded in OWNERS_DIR by a NetnsLab are considered; those of a live session
    (parallel run) are left alone. Returns the names deleted. Processes are never killed here."""
    removed = []
    if not os.path.isdir(OWNERS_DIR):
        return removed
    for prefix in os.listdir(OWNERS_DIR):
        marker = os.path.join(OWNERS_DIR, prefix)
        try:
            with open(marker) as handle:
                pid, start = handle.read().split()[:2]
        except (OSError, ValueError):
            continue
        if _starttime(int(pid)) == start:
            continue
        names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
        for ns in sorted(n for n in names if n.startswith(prefix)):
            if run(["ip", "netns", "delete", ns], check=False)[0] == 0:
                removed.append(ns)
        try:
            os.unlink(marker)
        except OSError:
            pass
    return removed


def claim_prefix(prefix):
    """Delete the namespaces of dead earlier sessions, then record this process as the owner of the
    namespaces named `prefix`...; returns the marker file for teardown to remove."""
    remove_stale_namespaces()
    os.makedirs(OWNERS_DIR, exist_ok=True)
    marker = os.path.join(OWNERS_DIR, prefix)
    with open(marker, "w") as handle:
        handle.write("%d %s\n" % (os.getpid(), _starttime(os.getpid())))
    return marker


def mac_dashes(mac):
    """'AA:BB:..' -> 'aa-bb-..' (pxelinux per-MAC names: 01-aa-bb-cc-dd-ee-ff)."""
    return mac.lower().replace(":", "-")


class Daemon:
    """One server process started by the lab (through ``ip netns exec``, which execs: the Popen PID
    is the daemon's own PID). stop() kills only that PID."""

    def __init__(self, lab, kind, argv, log_path, env=None, config=None, control_socket=None):
        self.lab = lab
        self.kind = kind
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.config = config
        self.control_socket = control_socket
        self.process = None
        self.started_at = None
        self.restarts = 0

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def start(self, ready=None, timeout=10.0):
        full_env = dict(os.environ, LC_ALL="C", LANG="C")
        full_env.update(self.env or {})
        out = open(self.log_path + ".out", "ab")
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            env=full_env, close_fds=True, preexec_fn=die_with_parent)
        finally:
            out.close()
        self.started_at = time.monotonic()
        self.lab.daemons.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise LabError("%s exited at start (rc=%s): %s\n%s" % (self.kind, self.process.returncode,
                                                                       " ".join(self.argv), self.output()))
            if ready is None or ready():
                return self
            if time.monotonic() > deadline:
                raise LabError("%s (PID %s) not ready after %.0f s\n%s" % (self.kind, self.pid, timeout, self.output()))
            time.sleep(0.05)

    def output(self):
        """stdout/stderr of the daemon and its log file, for failure messages."""
        text = ""
        for path in (self.log_path + ".out", self.log_path):
            if path and os.path.exists(path):
                with open(path, errors="replace") as handle:
                    text += "--- %s\n%s" % (path, handle.read()[-6000:])
        return text

    def log(self):
        if self.log_path and os.path.exists(self.log_path):
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        return ""

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM this daemon's PID, SIGKILL after ``timeout``; return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self in self.lab.daemons:
            self.lab.daemons.remove(self)
        return self.process.returncode

    def reload(self):
        """Make the daemon read its configuration again, the way the role's handler does."""
        if self.kind == "dnsmasq":
            # SIGHUP re-reads dhcp-hostsfile (and /etc/hosts, resolv), not dnsmasq.conf itself
            self.process.send_signal(signal.SIGHUP)
            time.sleep(0.2)
            return None
        if self.kind == "kea":
            answer = self.command("config-reload")
            if answer.get("result") != 0:
                raise LabError("kea config-reload failed: %s\n%s" % (answer, self.output()))
            return answer
        if self.kind in ("dhcpd", "tftpd"):
            self.stop()
            self.process = None
            self.restarts += 1
            self.start(ready=self._ready)
            return None
        raise LabError("no reload for %s" % self.kind)

    _ready = None

    def command(self, name, arguments=None, timeout=10.0):
        """One command over Kea's control socket; returns its JSON answer (a dict)."""
        request = {"command": name}
        if arguments is not None:
            request["arguments"] = arguments
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self.control_socket)
            sock.sendall(json.dumps(request).encode())
            data = b""
            while True:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                data += chunk
                try:
                    answer = json.loads(data.decode())
                    break
                except ValueError:
                    continue
        finally:
            sock.close()
        answer = json.loads(data.decode())
        return answer[0] if isinstance(answer, list) else answer


class NetnsLab:
    """A server namespace (bridge ``<p>br`` holding the server address and one veth end ``<p>vs``)
    and a client namespace (veth end ``<p>vc``), with the daemons started in the server one."""

    def __init__(self, workdir=None, subnet_index=None):
        self.suffix = uuid.uuid4().hex[:5]
        self.prefix = PREFIX + self.suffix            # 9 chars: + 2 role chars <= 15
        self.srv_ns = self.prefix + "s"
        self.cli_ns = self.prefix + "c"
        self.bridge = self.prefix + "br"
        self.veth_srv = self.prefix + "vs"
        self.veth_cli = self.prefix + "vc"
        self.n = subnet_index if subnet_index is not None else random.randint(1, 254)
        self.network = "10.99.%d.0/24" % self.n
        self.server_ip = self.ip(1)
        self.prefixlen = 24
        self.own_workdir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="lfnb-")
        self.workdir = os.path.abspath(str(workdir))
        # dnsmasq drops to nobody and in.tftpd too: they must reach their files through this dir
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        self.daemons = []
        self.taps = []
        self.namespaces = []
        self.client_mac = None
        self.owner_marker = None
        self.script = os.path.join(self.workdir, "addr-only.sh")

    def ip(self, host):
        return "10.99.%d.%d" % (self.n, host)

    # -- setup / teardown -------------------------------------------------------------
    def setup(self):
        self.owner_marker = claim_prefix(self.prefix)
        try:
            for ns in (self.srv_ns, self.cli_ns):
                run(["ip", "netns", "add", ns])
                self.namespaces.append(ns)
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "link", "add", self.veth_srv, "type", "veth", "peer", "name", self.veth_cli])
            run(["ip", "link", "set", self.veth_srv, "netns", self.srv_ns])
            run(["ip", "link", "set", self.veth_cli, "netns", self.cli_ns])
            s = ["ip", "-n", self.srv_ns]
            run(s + ["link", "add", self.bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
            run(s + ["link", "set", self.veth_srv, "master", self.bridge])
            run(s + ["addr", "add", "%s/%d" % (self.server_ip, self.prefixlen), "brd", "+", "dev", self.bridge])
            run(s + ["link", "set", self.veth_srv, "up"])
            run(s + ["link", "set", self.bridge, "up"])
            run(["ip", "-n", self.cli_ns, "link", "set", self.veth_cli, "up"])
            with open(self.script, "w") as handle:
                handle.write(ADDR_ONLY_SCRIPT)
            os.chmod(self.script, 0o755)
        except Exception:
            self.teardown()
            raise
        return self

    def teardown(self):
        """Stop every daemon this lab started (by PID), delete taps, links and namespaces."""
        errors = []
        for daemon in list(reversed(self.daemons)):
            try:
                daemon.stop()
            except Exception as exc:  # keep cleaning
                errors.append("%s: %s" % (daemon.kind, exc))
        self.daemons = []
        for ns in reversed(self.namespaces):
            # deleting a namespace destroys its veth/bridge/tap; the peer veth goes with it
            rc, dummy, err = run(["ip", "netns", "delete", ns], check=False)
            if rc != 0:
                errors.append("ip netns delete %s: %s" % (ns, err.strip()))
        self.namespaces = []
        if run(["ip", "link", "show", self.veth_srv], check=False)[0] == 0:
            run(["ip", "link", "delete", self.veth_srv], check=False)
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.owner_marker and os.path.exists(self.owner_marker):
            os.unlink(self.owner_marker)
        if errors:
            raise LabError("teardown: " + "; ".join(errors))

    def srv_argv(self, argv):
        return ["ip", "netns", "exec", self.srv_ns] + list(argv)

    def cli_argv(self, argv):
        return ["ip", "netns", "exec", self.cli_ns] + list(argv)

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def add_tap(self, name=None):
        """A tap in the server namespace, on the bridge, for QEMU (run QEMU with srv_argv)."""
        tap = name or self.prefix + "t%d" % len(self.taps)
        run(["ip", "-n", self.srv_ns, "tuntap", "add", "dev", tap, "mode", "tap"])
        self.taps.append(tap)
        run(["ip", "-n", self.srv_ns, "link", "set", tap, "master", self.bridge])
        run(["ip", "-n", self.srv_ns, "link", "set", tap, "up"])
        return tap

    def add_server_address(self, cidr):
        """Another address on the bridge (fd99::1/64 for dnsmasq's router advertisements)."""
        run(["ip", "-n", self.srv_ns, "addr", "add", cidr, "dev", self.bridge, "nodad"])

    # -- daemons ------------------------------------------------------------------------
    def _bound(self, port, proto="udp"):
        """A ready() check: something in the server namespace listens on ``port``."""
        def check():
            rc, out, dummy = run(self.srv_argv(["ss", "-Hlnu" if proto == "udp" else "-Hlnt", "sport = :%d" % port]),
                                 check=False)
            return rc == 0 and out.strip() != ""
        return check

    def start_dnsmasq(self, config, log_file=None, extra_args=(), timeout=10.0):
        """``dnsmasq -k -C config`` in the server namespace (the config names its own pid/lease/log files).

        dnsmasq --test runs first so a bad config fails here with dnsmasq's own message.
        """
        run(["dnsmasq", "--test", "-C", config] + list(extra_args))
        daemon = Daemon(self, "dnsmasq", self.srv_argv(["dnsmasq", "-k", "-C", config] + list(extra_args)),
                        log_file or self.path("dnsmasq.log"), config=config)
        daemon._ready = self._bound(67)
        return daemon.start(ready=daemon._ready, timeout=timeout)

    def start_dhcpd(self, config, lease_file=None, pid_file=None, log_path=None, interface=None, timeout=10.0):
        """``dhcpd -4 -f -cf config -lf LEASES -pf PID IFACE`` (LEASES touched first)."""
        lease_file = lease_file or self.path("dhcpd.leases")
        pid_file = pid_file or self.path("dhcpd.pid")
        if not os.path.exists(lease_file):
            open(lease_file, "a").close()
        argv = self.srv_argv(["dhcpd", "-4", "-f", "-cf", config, "-lf", lease_file, "-pf", pid_file,
                              interface or self.bridge])
        # dhcpd -f logs to stderr (and syslog): the .out file is its log
        daemon = Daemon(self, "dhcpd", argv, log_path or self.path("dhcpd.log"), config=config)
        daemon._ready = self._bound(67)
        return daemon.start(ready=daemon._ready, timeout=timeout)

    def start_kea(self, config, control_socket=None, log_path=None, timeout=15.0):
        """``kea-dhcp4 -c config`` with KEA_PIDFILE_DIR/KEA_LOCKFILE_DIR in the work dir; ready when its
        control socket answers."""
        rundir = self.path("kea-run")
        os.makedirs(rundir, exist_ok=True)
        env = {"KEA_PIDFILE_DIR": rundir, "KEA_LOCKFILE_DIR": rundir, "KEA_LOGGER_DESTINATION": log_path
               or self.path("kea.log")}
        daemon = Daemon(self, "kea", self.srv_argv(["kea-dhcp4", "-c", config]), log_path or self.path("kea.log"),
                        env=env, config=config, control_socket=control_socket)

        def ready():
            if not control_socket:
                return self._bound(67)()
            try:
                return daemon.command("config-get", timeout=1.0).get("result") == 0
            except (OSError, ValueError):
                return False
        daemon._ready = ready
        return daemon.start(ready=ready, timeout=timeout)

    def start_tftpd(self, root, address=None, timeout=10.0):
        """``in.tftpd --listen --foreground --address IP:69 --secure ROOT`` in the server namespace."""
        argv = self.srv_argv(["in.tftpd", "--listen", "--foreground", "--verbose", "--address",
                              "%s:69" % (address or self.server_ip), "--secure", root])
        daemon = Daemon(self, "tftpd", argv, self.path("tftpd.log"))
        daemon._ready = self._bound(69)
        return daemon.start(ready=daemon._ready, timeout=timeout)

    # -- clients ------------------------------------------------------------------------
    def set_client_mac(self, mac):
        """Give the client's veth ``mac`` and no address (each DHCP client run starts clean)."""
        c = ["ip", "-n", self.cli_ns]
        run(c + ["addr", "flush", "dev", self.veth_cli])
        if (self.client_mac or "").lower() != mac.lower():
            run(c + ["link", "set", self.veth_cli, "down"])
            run(c + ["link", "set", self.veth_cli, "address", mac])
            run(c + ["link", "set", self.veth_cli, "up"])
            self.client_mac = mac.lower()

    def dhcp_client(self, mac, tries=5, timeout=1, details=False, client="plain"):
        """Run busybox udhcpc in the client namespace with ``mac``; return the leased IP or None.

        ``client``: "plain" (udhcpc as is), "pxe" (a PXE ROM's vendor class, option 60 PXEClient) or
        "ipxe" (also iPXE's user class, option 77 "iPXE", and an option 175 as iPXE sends).
        With details=True: (ip, {"ip", "siaddr", "boot_file", "seconds", "output", "rc"}).
        """
        self.set_client_mac(mac)
        argv = ["udhcpc", "-i", self.veth_cli, "-n", "-q", "-f", "-t", str(tries), "-T", str(timeout), "-s", self.script]
        if client in ("pxe", "ipxe"):
            argv += ["-V", PXE_VENDOR_CLASS]
        if client == "ipxe":
            argv += ["-x", "0x4d:69505845", "-x", "0xaf:b10101"]   # 77 = "iPXE"; 175 = {177: 1}
        argv = self.cli_argv(argv)
        start = time.monotonic()
        rc, out, err = run(argv, check=False, timeout=tries * timeout + 30)
        info = {"seconds": time.monotonic() - start, "output": out + err, "rc": rc, "ip": None}
        for line in out.splitlines():
            if line.startswith("LFNB_LEASE "):
                for word in line.split()[1:]:
                    key, dummy, value = word.partition("=")
                    info[key] = value or None
        ip = info["ip"] if rc == 0 else None
        return (ip, info) if details else ip

    def tftp_get(self, filename, server=None, use_curl=None):
        """Fetch ``filename`` over TFTP from the client namespace; return its bytes (None if not found).

        The client needs an address first (dhcp_client leaves the leased one on the veth)."""
        server = server or self.server_ip
        tmp = tempfile.mkdtemp(prefix="tftp-", dir=self.workdir)
        try:
            target = os.path.join(tmp, "out")
            if use_curl is None:
                use_curl = shutil.which("curl") is not None
            if use_curl:
                rc, out, err = run(self.cli_argv(["curl", "-sS", "--max-time", "10", "-o", target,
                                                  "tftp://%s/%s" % (server, filename)]), check=False, timeout=30)
            else:
                # tftp-hpa writes a local file named after the remote one, even on errors
                rc, out, err = run(self.cli_argv(["tftp", server, "-m", "binary", "-c", "get", filename, "out"]),
                                   check=False, cwd=tmp, timeout=30)
                if "Error" in out + err:
                    rc = rc or 1
            if rc != 0 or not os.path.exists(target):
                return None
            with open(target, "rb") as handle:
                return handle.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def copy_pxelinux(tftp_root):
    """pxelinux.0 and ldlinux.c32 from Debian's pxelinux and syslinux-common into ``tftp_root``."""
    os.makedirs(tftp_root, exist_ok=True)
    for src in (PXELINUX, LDLINUX):
        if not os.path.exists(src):
            raise LabError("%s is missing (apt-get install pxelinux syslinux-common)" % src)
        shutil.copy(src, os.path.join(tftp_root, os.path.basename(src)))


# -- minimal hand-written configs: check the lab itself, independently of the module ----------------
def minimal_config(lab, backend, hosts, dynamic_range=None, tftp_root=None):
    """A minimal config for ``backend`` (dnsmasq, isc, kea) serving ``hosts`` [(name, mac, ip)].
    Returns (config path, {files}) with files in the lab's work dir."""
    d = lab.path("min-%s" % backend)
    os.makedirs(d, exist_ok=True)
    files = {"lease_file": os.path.join(d, "leases"), "pid_file": os.path.join(d, "pid"),
             "log_file": os.path.join(d, "log"), "control_socket": os.path.join(d, "kea.sock")}
    if backend == "dnsmasq":
        conf = os.path.join(d, "dnsmasq.conf")
        hosts_file = conf + ".hosts"
        with open(hosts_file, "w") as handle:
            for name, mac, ip in hosts:
                handle.write("%s,%s,%s\n" % (mac, ip, name))
        lines = ["port=0", "interface=%s" % lab.bridge, "bind-interfaces", "dhcp-hostsfile=%s" % hosts_file,
                 "dhcp-leasefile=%s" % files["lease_file"], "pid-file=%s" % files["pid_file"],
                 "log-facility=%s" % files["log_file"], "log-dhcp"]
        lines.append("dhcp-range=%s,%s,255.255.255.0,1h" % dynamic_range if dynamic_range
                     else "dhcp-range=%s,static,255.255.255.0,1h" % lab.ip(0))
        if tftp_root:
            lines += ["enable-tftp", "tftp-root=%s" % tftp_root, "dhcp-boot=pxelinux.0"]
        files["hosts_file"] = hosts_file
    elif backend == "isc":
        conf = os.path.join(d, "dhcpd.conf")
        lines = ["authoritative;", "default-lease-time 600;", "max-lease-time 3600;", "ping-check false;",
                 "subnet %s netmask 255.255.255.0 {" % lab.ip(0)]
        if dynamic_range:
            lines.append("  range %s %s;" % dynamic_range)
        lines.append("}")
        for name, mac, ip in hosts:
            lines.append("host %s { hardware ethernet %s; fixed-address %s; }" % (name, mac, ip))
    elif backend == "kea":
        conf = os.path.join(d, "kea-dhcp4.conf")
        subnet = {"id": 1, "subnet": lab.network,
                  "pools": [{"pool": "%s - %s" % dynamic_range}] if dynamic_range else [],
                  "reservations": [{"hw-address": mac, "ip-address": ip, "hostname": name} for name, mac, ip in hosts]}
        body = {"Dhcp4": {
            "interfaces-config": {"interfaces": [lab.bridge], "dhcp-socket-type": "raw"},
            "control-socket": {"socket-type": "unix", "socket-name": files["control_socket"]},
            "lease-database": {"type": "memfile", "persist": True, "name": files["lease_file"], "lfc-interval": 0},
            "valid-lifetime": 600,
            "subnet4": [subnet],
            "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                         "output_options": [{"output": files["log_file"]}]}],
        }}
        lines = [json.dumps(body, indent=1)]
    else:
        raise ValueError(backend)
    with open(conf, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return conf, files
