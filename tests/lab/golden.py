# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The golden disk the imaging tests copy to machines: a small bootable disk built from Debian packages,
without mounting anything (no root needed for anything but the files' owner).

    key = lab_key()                              # the lab's SSH key pair, kept in the cache (stable across runs)
    disk = build_golden([key.public])            # {"path": .../golden/<key>/golden.img, "size", "changed", ...}

Layout (128 MiB, DOS partition table, disk id 0x4c414246):
  p1  16 MiB  vfat "LABFARMBOOT", bootable: syslinux, vmlinuz, initrd.gz (busybox and the disk/NIC modules), syslinux.cfg
  p2  rest    ext4 "labfarm-root" (mkfs.ext4 -d): busybox, Python 3, OpenSSH's server, /sbin/init
The identity lives in the standard files the imaging stage personalises: /etc/hostname ("golden"),
/etc/machine-id, /etc/ssh/ssh_host_{ed25519,ecdsa}_key[.pub]. /etc/labfarm-golden names the golden disk (its
build's hostname; build_golden(keys, hostname="golden-b") makes a second, different image). Root logs in with the
given keys.

On boot the serial console shows:
  labfarm-golden: hostname <hostname> machine-id <machine-id>
  labfarm-golden: ready <hostname> <address>
The packages come through the collection's own _imaging code (apt resolution, download, .deb reading,
kernel modules, newc writer), not a copy. Built once per inputs under ${LABFARM_CACHE:-~/.cache/labfarm}/golden.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging import build as imaging, deb
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.cache import cache_root
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.system import (
    DEFAULT_PRUNE, GROUP, NSSWITCH, PASSWD, SHADOW, UDHCPC_SCRIPT)
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.tree import Tree

GOLDEN_VERSION = 3
MIB = 1024 * 1024
DISK_MIB = 128
BOOT_MIB = 16
DISK_ID = "0x4c414246"
ROOT_LABEL = "labfarm-root"
ROOT_UUID = "4c414246-0000-4000-8000-676f6c64656e"
BOOT_VOLUME_ID = "4C414246"
HOSTNAME = "golden"
SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin"

PACKAGES = ("busybox-static", "libc6", "zlib1g", "python3-minimal", "python3.11-minimal", "libpython3.11-minimal",
            "libpython3.11-stdlib", "openssh-server", "openssh-sftp-server")
KERNEL = "linux-image-amd64"
MODULES = ("virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "ahci", "ata_piix", "sd_mod", "nvme", "e1000",
           "e1000e", "ext4", "crc32c_generic", "crc32c_intel")

SYSLINUX_CFG = """SERIAL 0 115200
DEFAULT golden
PROMPT 0
TIMEOUT 0
LABEL golden
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0,115200n8 root=LABEL=%s quiet
""" % ROOT_LABEL

# The initramfs: load the modules, find the root by label, hand over to its /sbin/init.
INITRD_INIT = r"""#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
kver=$(uname -r)
while read -r module; do insmod "/lib/modules/$kver/$module" 2>/dev/null; done < /etc/labfarm/modules
root=$(sed -n 's/.*root=LABEL=\([^ ]*\).*/\1/p' /proc/cmdline)
tries=0
until dev=$(findfs "LABEL=$root" 2>/dev/null); do
    tries=$((tries + 1))
    [ $tries -gt 100 ] && { echo "labfarm-golden: failed: no disk labelled $root"; exec sh; }
    sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o rw "$dev" /newroot || { echo "labfarm-golden: failed: cannot mount $dev"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
"""

# The installed system's init: its identity from /etc, the network by DHCP, sshd with the disk's host keys.
ROOT_INIT = r"""#!/bin/sh
export PATH=/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec </dev/console >/dev/console 2>&1
mkdir -p /run/labfarm /run/sshd
name=$(cat /etc/hostname)
hostname "$name"
echo "labfarm-golden: hostname $name machine-id $(cat /etc/machine-id)"
ip link set lo up
for path in /sys/class/net/*; do
    nic=${path##*/}
    [ "$nic" = lo ] && continue
    ip link set "$nic" up
    udhcpc -i "$nic" -s /etc/labfarm/udhcpc.script -t 10 -T 2 -A 2 -n -p /run/udhcpc.pid -x "hostname:$name" && break
done
/usr/sbin/sshd -E /run/labfarm/sshd.log || cat /run/labfarm/sshd.log
echo "labfarm-golden: ready $name $(cat /run/labfarm/ip 2>/dev/null)"
exec /usr/bin/busybox init
"""

SSHD_CONFIG = """Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
"""


class LabKey:
    """An SSH key pair: ``private`` (path), ``public`` (the line)."""

    def __init__(self, private):
        self.private = private
        with open(private + ".pub") as handle:
            self.public = handle.read().strip()


def lab_key(root=None):
    """The lab's SSH key pair under <cache>/imaging/lab-key, made once (ed25519): the key the test builds trust,
    so the imaging system and the golden disk stay cached from one test run to the next."""
    directory = os.path.join(root or cache_root(), "imaging")
    os.makedirs(directory, exist_ok=True)
    private = os.path.join(directory, "lab-key")
    with _locked(os.path.join(directory, ".lab-key.lock")):
        if not os.path.exists(private + ".pub"):
            for path in (private, private + ".pub"):
                if os.path.exists(path):
                    os.unlink(path)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "labfarm-lab", "-f", private], check=True)
    return LabKey(private)


class _locked:
    def __init__(self, path):
        self.path = path
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), proc.returncode, (proc.stderr or proc.stdout).strip()))
    return proc.stdout


def _key(packages, kernel, authorized_keys, hostname):
    document = {"version": GOLDEN_VERSION, "packages": sorted(p.key() for p in packages), "kernel": kernel.key(),
                "keys": [k.strip() for k in authorized_keys], "hostname": hostname, "modules": MODULES,
                "scripts": hashlib.sha256((SYSLINUX_CFG + INITRD_INIT + ROOT_INIT + SSHD_CONFIG).encode()).hexdigest(),
                "layout": [DISK_MIB, BOOT_MIB, DISK_ID, ROOT_UUID]}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _initrd(paths, kernel):
    tree = Tree()
    deb.unpack(tree, paths["busybox-static"])
    for path in ("proc", "sys", "dev", "newroot"):
        tree.mkdir(path)
    tree.chardev("dev/console", 5, 1)
    imaging.add_modules(tree, kernel)
    tree.file("init", INITRD_INIT, 0o755)
    tree.symlink("bin/sh", "busybox")
    tree.prune(("usr/share/*",))
    return imaging.initramfs(tree)[0]


def _root_dir(directory, packages, paths, authorized_keys, hostname, machine_id):
    tree = imaging.root_tree(packages, paths, DEFAULT_PRUNE)
    for path, mode in (("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("run", 0o755), ("tmp", 0o1777),
                       ("root", 0o700), ("root/.ssh", 0o700), ("var/log", 0o755), ("mnt", 0o755)):
        tree.mkdir(path, mode)
        tree.get(path).mode = mode
    keys = "".join(k.strip() + "\n" for k in authorized_keys)
    for path, content, mode in (
            ("sbin/init", ROOT_INIT, 0o755), ("etc/labfarm/udhcpc.script", UDHCPC_SCRIPT, 0o755),
            ("etc/hostname", hostname + "\n", 0o644), ("etc/machine-id", machine_id + "\n", 0o444),
            ("etc/labfarm-golden", hostname + "\n", 0o644),     # which golden disk a machine holds (kept by personalisation)
            ("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 %s\n" % hostname, 0o644),
            ("etc/passwd", PASSWD, 0o644), ("etc/group", GROUP, 0o644), ("etc/shadow", SHADOW, 0o600),
            ("etc/nsswitch.conf", NSSWITCH, 0o644), ("etc/ssh/sshd_config", SSHD_CONFIG, 0o644),
            ("root/.ssh/authorized_keys", keys, 0o600), ("etc/resolv.conf", "", 0o644),
            ("etc/inittab", "::ctrlaltdel:/usr/sbin/reboot -f\n", 0o644),
            ("etc/os-release", 'PRETTY_NAME="labfarm golden disk (Debian 12 packages)"\nID=debian\nVERSION_ID="12"\n', 0o644)):
        tree.file(path, content, mode)
    tree.symlink("bin/sh", "busybox")
    imaging.check_libraries(tree)
    tree.write_dir(directory)
    busybox = os.path.join(directory, "usr/bin/busybox")
    for applet in _run([busybox, "--list-full"]).split():
        link = os.path.join(directory, applet.replace("bin/", "usr/bin/", 1) if applet.startswith(("bin/", "sbin/")) else applet)
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink("/usr/bin/busybox", link)
    ssh = os.path.join(directory, "etc/ssh")
    for kind in ("ed25519", "ecdsa"):
        _run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@" + hostname, "-f", os.path.join(ssh, "ssh_host_%s_key" % kind)])


def _disk(work, out, vmlinuz, initrd):
    """The disk image at ``out``: partition table, MBR boot code, p1 vfat + syslinux, p2 ext4 from work/root."""
    boot_start, boot_sectors = 2048, BOOT_MIB * MIB // 512
    root_start = boot_start + boot_sectors
    root_bytes = DISK_MIB * MIB - root_start * 512
    with open(out, "wb") as handle:
        handle.truncate(DISK_MIB * MIB)
    _run(["sfdisk", "-q", out], input="label: dos\nlabel-id: %s\nstart=%d, size=%d, type=c, bootable\nstart=%d, type=83\n"
         % (DISK_ID, boot_start, boot_sectors, root_start))
    _run(["dd", "if=" + SYSLINUX_MBR, "of=" + out, "bs=440", "count=1", "conv=notrunc"])
    boot = os.path.join(work, "boot.img")
    with open(boot, "wb") as handle:
        handle.truncate(boot_sectors * 512)
    _run(["mkfs.vfat", "-n", "LABFARMBOOT", "-i", BOOT_VOLUME_ID, boot])
    for name, data in (("vmlinuz", vmlinuz), ("initrd.gz", initrd), ("syslinux.cfg", SYSLINUX_CFG.encode())):
        path = os.path.join(work, name)
        with open(path, "wb") as handle:
            handle.write(data)
        _run(["mcopy", "-i", boot, path, "::" + name])
    _run(["syslinux", "--install", boot])
    root = os.path.join(work, "root.img")
    _run(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-U", ROOT_UUID, "-E", "root_owner=0:0", "-d", os.path.join(work, "root"),
          root, str(root_bytes // 1024) + "k"], env=dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000"))
    for image, start in ((boot, boot_start), (root, root_start)):
        _run(["dd", "if=" + image, "of=" + out, "bs=1M", "oflag=seek_bytes", "seek=%d" % (start * 512), "conv=notrunc,sparse"])


def build_golden(authorized_keys, root=None, hostname=HOSTNAME):
    """The golden disk for these keys: dict with path, key, size, machine_id, hostname, changed (built now),
    seconds. Cached under <root>/golden/<key>/ (root: ${LABFARM_CACHE:-~/.cache/labfarm}); the debs are shared
    with the imaging system's cache."""
    started = time.time()
    root = root or cache_root()
    packages, kernel_package = imaging.resolve(PACKAGES, KERNEL)
    key = _key(packages, kernel_package, authorized_keys, hostname)
    directory = os.path.join(root, "golden", key[:24])
    out = os.path.join(directory, "golden.img")
    manifest_path = os.path.join(directory, "manifest.json")
    os.makedirs(os.path.join(root, "golden"), exist_ok=True)
    with _locked(os.path.join(root, "golden", ".lock")):
        if os.path.exists(manifest_path) and os.path.exists(out):
            with open(manifest_path) as handle:
                manifest = json.load(handle)
            return dict(manifest, path=out, changed=False, seconds=round(time.time() - started, 2))
        paths, _downloaded = imaging.fetch(packages + [kernel_package], os.path.join(root, "imaging", "debs"))
        kernel = imaging.kernel_parts(paths[kernel_package.name], MODULES)
        machine_id = hashlib.sha256(("golden:" + key).encode()).hexdigest()[:32]
        work = tempfile.mkdtemp(prefix=".build.", dir=os.path.join(root, "golden"))
        try:
            _root_dir(os.path.join(work, "root"), packages, paths, authorized_keys, hostname, machine_id)
            initrd = _initrd(paths, kernel)
            _disk(work, os.path.join(work, "golden.img"), kernel["vmlinuz"], initrd)
            manifest = {"key": key, "hostname": hostname, "machine_id": machine_id, "size": DISK_MIB * MIB,
                        "kernel_version": kernel["version"], "root_label": ROOT_LABEL, "boot_mib": BOOT_MIB,
                        "packages": [p.name + "=" + p.version for p in packages]}
            final = os.path.join(work, "final")
            os.makedirs(final)
            os.rename(os.path.join(work, "golden.img"), os.path.join(final, "golden.img"))
            with open(os.path.join(final, "manifest.json"), "w") as handle:
                json.dump(manifest, handle, indent=1, sort_keys=True)
            if os.path.isdir(directory):
                shutil.rmtree(directory)
            os.rename(final, directory)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return dict(manifest, path=out, changed=True, seconds=round(time.time() - started, 2))


def root_offset(manifest=None):
    """Byte offset of the root partition (p2) in the golden disk."""
    return (2048 + BOOT_MIB * MIB // 512) * 512


def read_root_file(image, path):
    """The bytes of ``path`` in the golden disk's root filesystem (or a copy of the disk), read with debugfs at the
    partition's offset: no mount. None when the file is not there."""
    proc = subprocess.run(["debugfs", "-R", "cat " + path, "%s?offset=%d" % (image, root_offset())],
                          capture_output=True, check=False)
    if proc.returncode != 0 or b"File not found" in proc.stderr:
        return None
    return proc.stdout


def free_port(first=22300, last=22399):
    """A TCP port of 127.0.0.1 free now, in the range the imaging tests own (QEMU user-net host forwards)."""
    import random
    import socket
    ports = list(range(first, last + 1))
    random.shuffle(ports)
    for port in ports:
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            sock.close()
    raise RuntimeError("no free port in %d-%d" % (first, last))


class Qemu:
    """One QEMU TCG machine with a serial log and SSH forwarded to 127.0.0.1:<port>; stopped by PID.

        vm = Qemu(workdir, disk=path).start()                 # boots the disk (syslinux)
        vm = Qemu(workdir, kernel=k, initrd=i, append="labfarm.hostname=n1", disk=scratch).start()
        vm.wait_for("labfarm-imaging: ready", timeout=180)    # -> the line; vm.seconds: since start
    """

    def __init__(self, workdir, disk=None, kernel=None, initrd=None, append="", memory=512, mac="52:54:00:4c:46:01",
                 port=None):
        self.workdir = workdir
        self.disk, self.kernel, self.initrd, self.append = disk, kernel, initrd, append
        self.memory, self.mac = memory, mac
        self.port = port or free_port()
        self.log = os.path.join(workdir, "serial-%d.log" % self.port)
        self.proc = None
        self.started = None

    def argv(self):
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(self.memory), "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "file:" + self.log, "-no-reboot",
                "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % self.port,
                "-device", "virtio-net-pci,netdev=n0,mac=" + self.mac]
        if self.kernel:
            argv += ["-kernel", self.kernel, "-initrd", self.initrd, "-append", ("console=ttyS0 quiet " + self.append).strip()]
        if self.disk:
            argv += ["-drive", "file=%s,if=virtio,format=raw" % self.disk]
        return argv

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        open(self.log, "w").close()
        self.started = time.time()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".stderr", "w"))
        return self

    def serial(self):
        with open(self.log, errors="replace") as handle:
            return handle.read()

    def wait_for(self, text, timeout=240):
        """The first serial line holding ``text``; RuntimeError with the console's tail after ``timeout`` s or
        if QEMU ends. Sets self.seconds (from start to that line)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.serial().splitlines():
                if text in line:
                    self.seconds = time.time() - self.started
                    return line.strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("no %r on the console after %.0f s (qemu %s); console:\n%s"
                           % (text, time.time() - self.started, self.proc.poll(), self.serial()[-3000:]))

    def ssh_argv(self, key, *command):
        return ["ssh", "-i", key, "-p", str(self.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "root@127.0.0.1"] + list(command)

    def ssh(self, key, *command, **kwargs):
        """Run ``command`` on the machine as root (retried while sshd is not yet up): the CompletedProcess."""
        deadline = time.time() + kwargs.pop("timeout", 60)
        while True:
            proc = subprocess.run(self.ssh_argv(key, *command), capture_output=True, text=True, check=False, timeout=120)
            if proc.returncode != 255 or time.time() > deadline:
                return proc
            time.sleep(1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    import sys
    result = build_golden([lab_key().public] if len(sys.argv) < 2 else sys.argv[1:])
    result.pop("packages")
    print(json.dumps(result, indent=1))
