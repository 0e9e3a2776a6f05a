# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What the imaging system holds besides its packages: the default package and module lists, its /init (the
kernel parameters it reads are documented in roles/imaging_system/README.md), sshd's configuration, the user
database, and the paths it prunes. Pure content: build.py puts it in the tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The root: busybox for the shell tools, Python 3 for Ansible's modules, OpenSSH's server (sftp for Ansible's
# file transfers, ssh-keygen for the host keys made at boot), and what imaging runs: sfdisk (fdisk),
# util-linux (blkid, wipefs, blockdev), e2fsprogs, dosfstools, GNU tar and zstd for archive items, and python3-xxhash
# so that the ring's receivers check xxh3 chunk checksums (a source with xxhash picks xxh3 when asked for auto).
# The shared libraries they need are added by following their dependencies (control.closure).
DEFAULT_PACKAGES = (
    "busybox-static", "libc6", "zlib1g",
    "python3-minimal", "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
    "openssh-server", "openssh-sftp-server", "openssh-client",
    "fdisk", "util-linux", "e2fsprogs", "dosfstools", "tar", "zstd", "python3-xxhash",
)
DEFAULT_KERNEL = "linux-image-amd64"

# Loaded by /init, dependencies first: disks (virtio, SATA/AHCI, SCSI, NVMe, USB storage), NICs (virtio,
# Intel e1000/e1000e/igb/ixgbe, Realtek, Broadcom tg3), filesystems (ext4, vfat), and what the ring may use.
DEFAULT_MODULES = (
    "virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "virtio_rng",
    "ahci", "ata_piix", "sd_mod", "sr_mod", "nvme", "usb_storage", "uas", "xhci_pci", "ehci_pci",
    "e1000", "e1000e", "igb", "ixgbe", "r8169", "tg3", "bnx2",
    "ext4", "crc32c_generic", "crc32c_intel", "vfat", "nls_cp437", "nls_iso8859_1", "loop",
)

# Python's parts Ansible's modules never import, and the package files a memory image never reads.
DEFAULT_PRUNE = (
    "usr/lib/python3.11/test", "usr/lib/python3.11/test/*", "usr/lib/python3.11/idlelib",
    "usr/lib/python3.11/idlelib/*", "usr/lib/python3.11/tkinter", "usr/lib/python3.11/tkinter/*",
    "usr/lib/python3.11/turtledemo", "usr/lib/python3.11/turtledemo/*", "usr/lib/python3.11/ensurepip",
    "usr/lib/python3.11/ensurepip/*", "usr/lib/python3.11/lib2to3", "usr/lib/python3.11/lib2to3/*",
    "usr/lib/python3.11/pydoc_data", "usr/lib/python3.11/pydoc_data/*", "usr/lib/python3.11/*/tests",
    "usr/lib/python3.11/*/tests/*", "usr/lib/python3.11/*/test", "usr/lib/python3.11/*/test/*",
    "usr/lib/python3.11/config-3.11-*", "usr/lib/python3.11/config-3.11-*/*",
    "usr/share/python3/*", "usr/share/readline/*", "usr/share/gdb", "usr/share/gdb/*",
    "usr/share/openssh/*", "usr/lib/x86_64-linux-gnu/gconv/*", "usr/share/zsh", "usr/share/zsh/*",
    "usr/share/bash-completion", "usr/share/bash-completion/*", "usr/share/mime", "usr/share/mime/*",
)

INIT = r"""#!/bin/sh
# labfarm imaging system: PID 1 of the memory image. It never exits (busybox init takes over at the end).
export PATH=/usr/sbin:/usr/bin HOME=/root
/usr/bin/busybox --install -s 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /var/log /var/tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
chmod 1777 /tmp /var/tmp
exec </dev/console >/dev/console 2>&1
mkdir -p /run/labfarm /run/sshd
say() { echo "labfarm-imaging: $*"; }
param() {
    for word in $(cat /proc/cmdline); do
        case "$word" in "$1="*) echo "${word#*=}"; return 0 ;; esac
    done
    return 1
}
for word in $(cat /proc/cmdline); do
    case "$word" in labfarm.*=*) echo "${word#labfarm.}" >> /run/labfarm/params ;; esac
done
[ -n "$(param labfarm.debug)" ] && set -x

kver=$(uname -r)
while read -r module; do
    [ -n "$module" ] && insmod "/lib/modules/$kver/$module" 2>/dev/null
done < /etc/labfarm/modules

# The NIC: labfarm.iface (a name or a MAC), else pxelinux's BOOTIF=01-aa-bb-..., else every NIC in turn.
want=$(param labfarm.iface)
bootif=$(param BOOTIF) && [ -z "$want" ] && want=$(echo "${bootif#01-}" | tr '-' ':')
want=$(echo "$want" | tr 'A-F' 'a-f')
nics=""
tries=0
while [ -z "$nics" ] && [ $tries -lt 50 ]; do
    for path in /sys/class/net/*; do
        nic=${path##*/}
        [ "$nic" = lo ] && continue
        if [ -z "$want" ] || [ "$nic" = "$want" ] || [ "$(cat "$path/address")" = "$want" ]; then
            nics="$nics $nic"
        fi
    done
    [ -z "$nics" ] && { tries=$((tries + 1)); sleep 0.2; }
done
ip link set lo up
name=$(param labfarm.hostname)
static=$(param labfarm.ip)
for nic in $nics; do
    ip link set "$nic" up
    if [ -n "$static" ]; then
        ip addr add "$static" dev "$nic"
        gateway=$(param labfarm.gateway) && ip route add default via "$gateway" dev "$nic"
        for server in $(param labfarm.dns | tr ',' ' '); do echo "nameserver $server" >> /etc/resolv.conf; done
        echo "${static%/*}" > /run/labfarm/ip
        echo "$nic" > /run/labfarm/iface
        break
    fi
    if udhcpc -i "$nic" -s /etc/labfarm/udhcpc.script -t 10 -T 2 -A 2 -n -p /run/udhcpc.pid ${name:+-x hostname:$name}; then
        break
    fi
done
ip=$(cat /run/labfarm/ip 2>/dev/null)
nic=$(cat /run/labfarm/iface 2>/dev/null)
[ -z "$name" ] && name=$(cat /run/labfarm/dhcp-hostname 2>/dev/null)
[ -z "$name" ] && [ -n "$nic" ] && name="imaging-$(tr -d ':' < "/sys/class/net/$nic/address")"
[ -z "$name" ] && name=imaging
hostname "$name"
echo "$name" > /etc/hostname
echo "127.0.1.1 $name" >> /etc/hosts

ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
ssh-keygen -q -t ecdsa -N "" -f /etc/ssh/ssh_host_ecdsa_key
if ! /usr/sbin/sshd -E /run/labfarm/sshd.log; then
    say "failed: sshd did not start"; cat /run/labfarm/sshd.log
fi
if [ -n "$ip" ]; then
    say "ready $name $ip"
else
    say "failed: no address on${nics:- any NIC} ($name)"
fi
echo "::ctrlaltdel:/usr/sbin/reboot -f" > /etc/inittab
[ -n "$(param labfarm.shell)" ] && echo "console::respawn:-/bin/sh" >> /etc/inittab
exec /usr/bin/busybox init
while :; do sleep 3600; done
"""

UDHCPC_SCRIPT = r"""#!/bin/sh
# busybox udhcpc's hook: the lease onto the NIC, and what /init prints.
case "$1" in
    deconfig)
        ip addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        if [ "$(cat /run/labfarm/ip 2>/dev/null)" != "$ip" ]; then
            ip addr flush dev "$interface"
            ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" ${broadcast:+broadcast $broadcast}
        fi
        if [ -n "$router" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        : > /etc/resolv.conf
        for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
        [ -n "$hostname" ] && echo "$hostname" > /run/labfarm/dhcp-hostname
        echo "$interface" > /run/labfarm/iface
        echo "$ip" > /run/labfarm/ip
        ;;
esac
exit 0
"""

SSHD_CONFIG = """# labfarm imaging system: root logs in with the controller's key only.
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
"""

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
GROUP = "root:x:0:\nnogroup:x:65534:\n"
SHADOW = "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
OS_RELEASE = ('PRETTY_NAME="labfarm imaging system (Debian 12 packages)"\nNAME="labfarm imaging system"\n'
              'ID=labfarm-imaging\nID_LIKE=debian\nVERSION_ID="12"\n')


def system_files(authorized_keys, init=None):
    """(path, content, mode) of every file the builder writes into the root, besides packages and modules."""
    keys = "".join(key.strip() + "\n" for key in authorized_keys)
    return [
        ("init", init or INIT, 0o755),
        ("etc/labfarm/udhcpc.script", UDHCPC_SCRIPT, 0o755),
        ("etc/ssh/sshd_config", SSHD_CONFIG, 0o644),
        ("etc/ssh/authorized_keys/root", keys, 0o644),
        ("root/.ssh/authorized_keys", keys, 0o600),
        ("etc/passwd", PASSWD, 0o644),
        ("etc/group", GROUP, 0o644),
        ("etc/shadow", SHADOW, 0o600),
        ("etc/nsswitch.conf", NSSWITCH, 0o644),
        ("etc/os-release", OS_RELEASE, 0o644),
        ("etc/hosts", "127.0.0.1 localhost\n", 0o644),
        ("etc/resolv.conf", "", 0o644),
        ("etc/hostname", "imaging\n", 0o644),
    ]


# Directories the init mounts on or writes to, and the device nodes the kernel needs before devtmpfs.
DIRECTORIES = (("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("run", 0o755), ("tmp", 0o1777),
               ("root", 0o700), ("root/.ssh", 0o700), ("var/log", 0o755), ("var/tmp", 0o1777), ("mnt", 0o755))
DEVICES = (("dev/console", 5, 1, 0o600), ("dev/null", 1, 3, 0o666))
