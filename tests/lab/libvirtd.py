# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real libvirtd (QEMU/TCG, from Debian) for tests and benchmarks, with its own sockets and state.

    lv = PrivateLibvirtd(workdir, netns="lfvm1a2b3s").start()
    lv.uri                      # qemu+unix:///system?socket=<workdir>/run/libvirt-sock
    lv.stop()                   # destroys what QEMU still runs, kills libvirtd by PID

libvirtd runs in the given network namespace (``ip netns exec``) and in a mount namespace of its
own in which /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
are directories under ``workdir`` (bind mounts): its configuration, sockets, domain state and logs
are private, and nothing it writes outlives the test. QEMU's output goes to files
(``stdio_handler = "file"``), so no virtlogd is needed; no cgroups, no security driver (no systemd
here). libvirtd runs under a child subreaper (this file run as a script), so QEMU processes are
reaped at once (``virsh destroy`` 0.3 s instead of ~2 s) and are killed by PID if libvirtd dies
before them. Standard library only; nothing here imports the collection.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

PRIVATE_DIRS = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

LIBVIRTD_CONF = """\
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:{workdir}/libvirtd.log"
max_workers = 20
"""

QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""


# -- libvirt's test driver: hypervisors described by node XML files --------------------------------
# name -> (memory MiB, CPUs): four hypervisors of different sizes
HYPERVISORS = {"hva": (2048, 2), "hvb": (4096, 4), "hvc": (1024, 2), "hvd": (8192, 8)}
OTHER_DOMAIN = "lfvm-other"     # a domain on hvb that is not the farm's: never touched
FOREIGN_VOLUME = "lfvm-foreign.qcow2"   # a volume in hvb's pool the farm did not make


BRIDGED_DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>{disk}
    <interface type='bridge'><source bridge='{bridge}'/><mac address='{mac}'/><model type='virtio'/></interface>
    <serial type='file'><source path='{serial}' append='on'/><target port='0'/></serial>
  </devices>
</domain>
"""


def bridged_domain_xml(name, memory, bridge, mac, serial, disk=None):
    """A TCG machine (a BMC powers it; it boots from its disk, or from the network when told) with a virtio NIC
    on ``bridge``, its serial console appended to the file ``serial`` and, when given, ``disk`` (raw) as vda."""
    disk_xml = ("\n    <disk type='file' device='disk'><driver name='qemu' type='raw' cache='unsafe'/>"
                "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % disk) if disk else ""
    return BRIDGED_DOMAIN_XML.format(name=name, memory=memory, bridge=bridge, mac=mac, serial=serial, disk=disk_xml)


def node_xml(memory_mb, cpus, pool_dir, other=False):
    """A test driver node: CPUs and memory, one dir pool on pool_dir, optionally a running domain
    (256 MiB, 1 vCPU) and a volume that are not the farm's."""
    domain = volume = ""
    if other:
        domain = ("<domain type='test'><name>%s</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                  "<os><type arch='x86_64'>hvm</type></os>"
                  "<devices><interface type='network'><mac address='52:54:00:aa:00:01'/><source network='default'/>"
                  "</interface></devices></domain>" % OTHER_DOMAIN)
        volume = ("<volume><name>%s</name><capacity unit='G'>1</capacity><target><format type='qcow2'/></target>"
                  "</volume>" % FOREIGN_VOLUME)
    return """<node>
  <cpu><mhz>2000</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets><cores>{cpus}</cores>
    <threads>1</threads><active>{cpus}</active></cpu>
  <memory>{kib}</memory>
  {domain}
  <pool type='dir'><name>farm</name><target><path>{pool}</path></target>{volume}</pool>
</node>
""".format(cpus=cpus, kib=memory_mb * 1024, domain=domain, pool=pool_dir, volume=volume)


def _prctl(option, value):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def missing():
    """Why a private libvirtd cannot run here (None when it can)."""
    for tool in ("libvirtd", "qemu-system-x86_64", "qemu-img", "unshare", "ip"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            return "%s is not installed (Debian libvirt-daemon-system, qemu-system-x86, qemu-utils)" % tool
    if os.geteuid() != 0:
        return "a system libvirtd needs root"
    try:
        import libvirt  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        return "libvirt-python is not installed (requirements-dev.txt)"
    return None


class PrivateLibvirtd:
    def __init__(self, workdir, netns=None, detach=False):
        self.detach = detach      # outlive the caller (molecule's prepare), stopped by stop_detached()
        self.workdir = os.path.abspath(str(workdir))
        self.netns = netns
        self.process = None
        self.socket = os.path.join(self.workdir, "run", "libvirt-sock")
        self.uri = "qemu+unix:///system?socket=%s" % self.socket
        self.pid_file = os.path.join(self.workdir, "libvirtd.pid")

    def _prepare(self):
        for path in PRIVATE_DIRS:
            os.makedirs(os.path.join(self.workdir, os.path.basename(path)), exist_ok=True)
        etc = os.path.join(self.workdir, "libvirt")
        os.makedirs(os.path.join(etc, "qemu"), exist_ok=True)
        with open(os.path.join(etc, "libvirtd.conf"), "w") as handle:
            handle.write(LIBVIRTD_CONF.format(workdir=self.workdir))
        with open(os.path.join(etc, "qemu.conf"), "w") as handle:
            handle.write(QEMU_CONF)
        with open(os.path.join(etc, "libvirt.conf"), "w") as handle:
            handle.write("")

    def binds(self):
        names = {"/etc/libvirt": "libvirt", "/run/libvirt": "run", "/var/lib/libvirt": "lib",
                 "/var/cache/libvirt": "cache", "/var/log/libvirt": "log"}
        return [(os.path.join(self.workdir, names[path]), path) for path in PRIVATE_DIRS]

    def start(self, timeout=30.0):
        for source, dummy in self.binds():
            os.makedirs(source, exist_ok=True)
        self._prepare()
        # slave, not private: the binds below stay inside, but unmounts outside still reach this namespace, so a
        # zfs-fuse pool another test destroys while libvirtd runs is not pinned here ("pool is busy").
        argv = ["unshare", "--mount", "--propagation", "slave", sys.executable, os.path.abspath(__file__),
                self.workdir]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        out = open(os.path.join(self.workdir, "launcher.out"), "ab")
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            close_fds=True, env=dict(os.environ, LC_ALL="C", LANG="C",
                                                                     LFVM_DETACH="1" if self.detach else ""),
                                            start_new_session=self.detach,
                                            preexec_fn=None if self.detach else
                                            (lambda: _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)))
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        import libvirt  # pylint: disable=import-outside-toplevel
        libvirt.registerErrorHandler(lambda *args: None, None)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("libvirtd exited at start (rc=%s):\n%s" % (self.process.returncode, self.output()))
            if os.path.exists(self.socket):
                try:
                    libvirt.open(self.uri).close()
                    return self
                except libvirt.libvirtError:
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("libvirtd not ready after %.0f s:\n%s" % (timeout, self.output()))
            time.sleep(0.1)

    def libvirtd_pid(self):
        try:
            with open(self.pid_file) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    def output(self):
        text = ""
        for name in ("launcher.out", "libvirtd.log"):
            path = os.path.join(self.workdir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as handle:
                    text += "--- %s\n%s\n" % (path, handle.read()[-4000:])
        return text

    def stop(self, timeout=10.0):
        """Destroy the domains QEMU still runs, then SIGTERM libvirtd by PID (the launcher then kills
        what is left by PID and exits)."""
        if self.process is None:
            return
        try:
            import libvirt  # pylint: disable=import-outside-toplevel
            conn = libvirt.open(self.uri)
            for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                try:
                    dom.destroy()
                except libvirt.libvirtError:
                    pass
            conn.close()
        except Exception:  # pylint: disable=broad-except
            pass
        pid = self.libvirtd_pid()
        if pid and self.process.poll() is None:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.process.kill()
            self.process.wait(timeout)
        self.process = None


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    if int(handle.read().rpartition(")")[2].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _launch(workdir):
    """In the new mount namespace: bind the private dirs, become a subreaper, run libvirtd, reap."""
    lv = PrivateLibvirtd(workdir)
    for source, target in lv.binds():
        os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "--bind", source, target], check=True)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if not os.environ.get("LFVM_DETACH"):
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    child = os.fork()
    if child == 0:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.execvp("libvirtd", ["libvirtd", "--pid-file", lv.pid_file])
    with open(lv.pid_file + ".launcher", "w") as handle:
        handle.write("%d %d\n" % (os.getpid(), child))

    def forward(signum, frame):  # pylint: disable=unused-argument
        try:
            os.kill(child, signal.SIGTERM)
        except OSError:
            pass

    signal.signal(signal.SIGTERM, forward)
    status = 0
    while True:
        try:
            pid, code = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = code
            for orphan in _children(os.getpid()):   # QEMU left running: kill by PID
                try:
                    os.kill(orphan, signal.SIGKILL)
                except OSError:
                    pass
    return 0 if status == 0 else 1


def stop_detached(workdir, timeout=10.0):
    """Stop a libvirtd started with ``detach``: destroy its domains, SIGTERM libvirtd by PID, wait for
    the launcher (its PID is in libvirtd.pid.launcher) to finish."""
    lv = PrivateLibvirtd(workdir)
    try:
        with open(lv.pid_file + ".launcher") as handle:
            launcher = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        import libvirt  # pylint: disable=import-outside-toplevel
        libvirt.registerErrorHandler(lambda *args: None, None)
        conn = libvirt.open(lv.uri)
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            dom.destroy()
        conn.close()
    except Exception:  # pylint: disable=broad-except
        pass
    pid = lv.libvirtd_pid()
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and os.path.exists("/proc/%d" % launcher):
        time.sleep(0.1)


if __name__ == "__main__":
    # python3 libvirtd.py start WORKDIR [NETNS]  -> prints the URI; libvirtd keeps running
    # python3 libvirtd.py stop WORKDIR
    if len(sys.argv) >= 3 and sys.argv[1] == "start":
        print(PrivateLibvirtd(sys.argv[2], netns=sys.argv[3] if len(sys.argv) > 3 else None, detach=True).start().uri)
        sys.exit(0)
    if len(sys.argv) >= 3 and sys.argv[1] == "stop":
        stop_detached(sys.argv[2])
        sys.exit(0)
    sys.exit(_launch(sys.argv[1]))
