# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ZFS for tests and benchmarks: the zfs-fuse daemon and pools in sparse files.

    lab = ZfsLab()
    lab.ensure_daemon()                          # reuses a running zfs-fuse, else starts one
    lab.destroy_stale_pools("lfzt")              # pools of dead runs whose vdev files are gone
    pool = lab.create_pool("lfzt_x", tmp_path)   # sparse vdev tmp_path/lfzt_x.img, mounted at tmp_path/mnt
    pool.create("lfzt_x/projects/P/a")           # parents too
    pool.write_file("lfzt_x/projects/P", "topology.gns3", "{}")
    pool.snapshot("lfzt_x/projects/P@s1", recursive=True)
    pool.datasets()                              # {name: origin or None}
    pool.destroy()                               # retries while busy
    lab.stop_daemon()                            # only the daemon this helper started, by PID,
                                                 # and only when no pool is left in it

Nothing here imports the collection: the helper checks the code under test, it does not use it.
Standard library only.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import time

from lab import alive, lab_missing

LOCK_FILE = "/run/lock/labfarm-zfs-fuse.lock"
PID_FILE = "/run/labfarm-zfs-fuse.pid"
ARC_MB = 1024
BUSY = ("dataset is busy", "pool is busy", "pool or dataset is busy", "device or resource busy")


class LabError(RuntimeError):
    """A lab command that failed; the message holds the command and its output."""


def run(argv, check=True, timeout=120):
    """Run a command with C messages; return (rc, stdout, stderr), or raise LabError if check and rc != 0."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          universal_newlines=True, env=env, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise LabError("`%s` failed (rc=%d): %s" % (" ".join(argv), proc.returncode, detail))
    return proc.returncode, proc.stdout, proc.stderr


def _busy(text):
    text = text.lower()
    return any(word in text for word in BUSY)


def retry_busy(argv, retries=8, delay=0.1):
    """Run argv, retrying with back-off while it fails with a busy error."""
    for attempt in range(retries + 1):
        rc, out, err = run(argv, check=False)
        if rc == 0:
            return out
        if not _busy(err) or attempt == retries:
            raise LabError("`%s` failed (rc=%d, attempt %d): %s" % (" ".join(argv), rc, attempt + 1, err.strip()))
        time.sleep(min(delay * 2 ** attempt, 2.0))
    return None  # not reached


class ZfsLab:
    """The zfs-fuse daemon for a test session: reused if running, else started and later stopped by PID."""

    def __init__(self, pid_file=PID_FILE, lock_file=LOCK_FILE):
        self.pid_file = pid_file
        self.lock_file = lock_file
        self.started_pid = None

    @staticmethod
    def missing_tools():
        """The zfs-fuse commands that are not installed (empty when the lab can run)."""
        return [tool for tool in ("zfs-fuse", "zfs", "zpool") if shutil.which(tool) is None]

    @staticmethod
    def running_pid():
        """The PID of a live zfs-fuse (not a zombie waiting to be reaped), or None."""
        rc, out, dummy = run(["pgrep", "-x", "zfs-fuse"], check=False)
        pids = [int(word) for word in out.split()] if rc == 0 else []
        pids = [pid for pid in pids if alive(pid)]
        return pids[0] if pids else None

    @staticmethod
    def answers():
        return run(["zpool", "list", "-H"], check=False)[0] == 0

    def ensure_daemon(self, timeout=30.0):
        """Make sure zfs-fuse runs and answers; return its PID. Start it only if none runs.

        A daemon that exits while we wait (another job stopping it) is replaced by one we start.
        """
        missing = self.missing_tools()
        if missing:
            raise LabError("zfs-fuse is not installed (missing %s): apt-get install zfs-fuse" % ", ".join(missing))
        deadline = time.monotonic() + timeout
        with open(self.lock_file, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions starting at once start one daemon
            while True:
                pid = self.running_pid()
                if pid is None:
                    if os.path.exists(self.pid_file):
                        os.unlink(self.pid_file)
                    # Debian's /etc/zfs/zfsrc caps the ARC at 100 MB: with hundreds of datasets mounted (the
                    # benchmarks' 500 clones) zfs-fuse then spins on ARC eviction and stops answering FUSE.
                    run(["zfs-fuse", "-p", self.pid_file, "--max-arc-size", str(ARC_MB)])  # daemonizes
                    pid = self._pid_from_file(timeout)
                    self.started_pid = pid
                while alive(pid) and not self.answers():
                    if time.monotonic() > deadline:
                        raise LabError("zfs-fuse (PID %d) does not answer `zpool list` after %.0f s" % (pid, timeout))
                    time.sleep(0.05)
                if alive(pid):
                    return pid
                if time.monotonic() > deadline:
                    raise LabError("zfs-fuse (PID %d) exited before answering; see syslog" % pid)

    def _pid_from_file(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.pid_file) as handle:
                    text = handle.read().strip()
                if text:
                    return int(text)
            except (OSError, ValueError):
                pass
            pid = self.running_pid()
            if pid is not None:
                return pid
            time.sleep(0.05)
        raise LabError("zfs-fuse wrote no PID to %s within %.0f s" % (self.pid_file, timeout))

    def pools(self):
        rc, out, dummy = run(["zpool", "list", "-H", "-o", "name"], check=False)
        return out.split() if rc == 0 else []

    def destroy_stale_pools(self, prefix):
        """Destroy the pools named ``prefix...`` that cannot be opened any more; return their names.

        A test run that dies (or whose daemon is killed) leaves its pool in zfs-fuse's cache; once
        pytest removes the old tmp dir the vdev is gone and the next daemon shows the pool UNAVAIL
        or FAULTED. A live pool of a concurrent run is ONLINE and is left alone.
        """
        rc, out, dummy = run(["zpool", "list", "-H", "-o", "name,health"], check=False)
        stale = []
        for line in out.splitlines() if rc == 0 else []:
            name, health = (line.split("\t") + [""])[:2]
            if name.startswith(prefix) and health in ("UNAVAIL", "FAULTED"):
                if run(["zpool", "destroy", "-f", name], check=False)[0] == 0:
                    stale.append(name)
        return stale

    def stop_daemon(self, timeout=15.0):
        """Stop the daemon this helper started (by PID), if no pool is left in it. True if stopped."""
        pid = self.started_pid
        if pid is None or not alive(pid):
            self.started_pid = None
            return False
        with open(self.lock_file, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # create_pool holds it too: no pool appears meanwhile
            if self.pools():  # someone else's pools still live in it: leave it running
                return False
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while alive(pid):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        self.started_pid = None
        return True

    @staticmethod
    def share_root_mounts():
        """Make ``/`` a shared mount (recursively), as it is on a systemd host; idempotent.

        These machines boot with ``/`` private, so every mount namespace a test makes (``ip netns exec``
        for a daemon, a private libvirtd) keeps its own copy of the zfs-fuse mounts that exist then, and
        ``zfs destroy`` answers "dataset is busy" until that daemon exits. Under a shared ``/`` those
        namespaces are slaves: an unmount here reaches them.
        """
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                fields = line.split()
                if fields[4] == "/":
                    if not any(field.startswith("shared:") for field in fields[6:fields.index("-")]):
                        run(["mount", "--make-rshared", "/"])
                    return

    def create_pool(self, name, directory, size="256M"):
        """A pool on a sparse file ``directory/<name>.img``, mounted at ``directory/mnt``."""
        self.share_root_mounts()
        directory = os.path.abspath(str(directory))
        vdev = os.path.join(directory, name + ".img")
        mountpoint = os.path.join(directory, "mnt")
        os.makedirs(directory, exist_ok=True)
        run(["truncate", "-s", size, vdev])
        for dummy in range(3):
            with open(self.lock_file, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # stop_daemon holds it: a daemon is not stopped meanwhile
                if self.running_pid() is not None and self.answers():
                    run(["zpool", "create", "-m", mountpoint, name, vdev])
                    return ZfsPool(name, vdev, mountpoint)
            self.ensure_daemon()
        raise LabError("zfs-fuse keeps stopping; cannot create pool %s" % name)


def session_lab(prefix):
    """The zfs-fuse lab for a test module or session: skipped (failed under LABFARM_REQUIRE_LAB) when zfs-fuse is
    not installed, its daemon running, and the pools named ``prefix``... of dead earlier runs destroyed."""
    lab = ZfsLab()
    missing = lab.missing_tools()
    if missing:
        lab_missing("zfs-fuse is not installed (missing %s); hack/setup.sh installs it" % ", ".join(missing))
    lab.ensure_daemon()
    lab.destroy_stale_pools(prefix)
    return lab


def holders(directory):
    """'PID command' of the processes that keep ``directory`` busy: their cwd or an open file is under it, or
    their mount namespace (another one than ours) holds a copy of a mount there."""
    mine, found = os.readlink("/proc/self/ns/mnt"), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            paths = [os.readlink("/proc/%s/cwd" % pid)]
            paths += [os.readlink("/proc/%s/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%s/fd" % pid)]
            with open("/proc/%s/mountinfo" % pid) as handle:
                pinned = directory in handle.read() and os.readlink("/proc/%s/ns/mnt" % pid) != mine
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")[:120]
        except OSError:
            continue
        if pinned or any(path.startswith(directory) for path in paths):
            found.append("%s %s" % (pid, command))
    return found


class ZfsPool:
    """One file-backed pool and helpers to fill it. Dataset names are full names (``pool/...``)."""

    def __init__(self, name, vdev, mountpoint):
        self.name = name
        self.vdev = vdev
        self.mountpoint = mountpoint

    def __repr__(self):
        return "ZfsPool(%r)" % self.name

    def path(self, relative=""):
        """``pool.path("clones/C01")`` -> "<pool>/clones/C01"."""
        return self.name + ("/" + relative.strip("/") if relative.strip("/") else "")

    @staticmethod
    def zfs(*args, **kwargs):
        return run(["zfs"] + list(args), **kwargs)[1]

    def create(self, dataset, properties=None):
        """Create a filesystem and its missing parents."""
        options = []
        for key, value in (properties or {}).items():
            options.extend(["-o", "%s=%s" % (key, value)])
        self.zfs("create", "-p", *(options + [dataset]))
        return dataset

    def snapshot(self, name, recursive=False):
        self.zfs("snapshot", *((["-r"] if recursive else []) + [name]))
        return name

    def clone(self, snapshot, target, properties=None):
        options = []
        for key, value in (properties or {}).items():
            options.extend(["-o", "%s=%s" % (key, value)])
        self.zfs("clone", "-p", *(options + [snapshot, target]))
        return target

    def get(self, dataset, prop):
        return self.zfs("get", "-H", "-o", "value", prop, dataset).strip()

    def mountpoint_of(self, dataset):
        return self.get(dataset, "mountpoint")

    def write_file(self, dataset, relative, content):
        """Write a file inside a mounted dataset; return its path."""
        path = os.path.join(self.mountpoint_of(dataset), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(content)
        return path

    def datasets(self, root=None):
        """{name: origin or None} of the filesystems and volumes under ``root`` (default: the pool)."""
        out = self.zfs("list", "-H", "-o", "name,origin", "-t", "filesystem,volume", "-r", root or self.name)
        result = {}
        for line in out.splitlines():
            name, origin = line.split("\t")
            result[name] = None if origin == "-" else origin
        return result

    def snapshots(self, root=None):
        out = self.zfs("list", "-H", "-o", "name", "-t", "snapshot", "-r", root or self.name)
        return sorted(out.split())

    def exists(self, name):
        return run(["zfs", "list", "-H", "-o", "name", "-t", "all", name], check=False)[0] == 0

    def destroy_dataset(self, name, recursive=True):
        """Unmount deepest first, then destroy (with busy retries)."""
        if recursive:
            below = sorted(self.datasets(name), key=lambda n: -n.count("/"))
            for dataset in below:
                run(["zfs", "unmount", dataset], check=False)
        retry_busy(["zfs", "destroy"] + (["-r"] if recursive else []) + [name])

    def destroy_waiting(self, wait):
        """destroy(), tried again for up to ``wait`` seconds while something keeps the pool busy (servers that
        just stopped, a process of another test); then LabError naming what holds it."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.destroy()
                return
            except LabError as error:
                if time.monotonic() > deadline:
                    held = holders(self.mountpoint) or "none"
                    raise LabError("%s; processes that hold %s: %s" % (error, self.mountpoint, held))
                time.sleep(1)

    def destroy(self, retries=8):
        """Destroy the pool (retrying while busy, then with -f) and remove its vdev file."""
        if run(["zpool", "list", "-H", self.name], check=False)[0] == 0:
            try:
                retry_busy(["zpool", "destroy", self.name], retries=retries)
            except LabError:
                retry_busy(["zpool", "destroy", "-f", self.name], retries=retries)
        if os.path.exists(self.vdev):
            os.unlink(self.vdev)
