#!/usr/bin/env bash
# A Debian bookworm system with systemd as PID 1, for the role's systemd path on machines (CI,
# containers) whose own PID 1 is not systemd. No nspawn, no machined, no D-Bus: plain namespaces.
#
#   container.sh start WORK NETNS   rootfs from the cache (debootstrap once), boot it; prints the
#                                   host PID of its systemd, also written to WORK/pid
#   container.sh stop WORK          power it off (SIGRTMIN+4), kill what is left, remove its cgroup
#
# The container has its own PID, mount, UTS, IPC and cgroup namespaces and joins the network
# namespace NETNS (made by the caller). WORK/share is mounted at the same path inside, so Ansible's
# temporary files written on the host are seen by modules that run inside (nsenter as interpreter).
# /proc/sys is read-only inside, as nspawn does, so the guest cannot change the host's kernel settings.
set -euo pipefail
cache=${LABFARM_CACHE:-$HOME/.cache/labfarm}/netboot-systemd
# python3-apt too: Ansible's apt module would otherwise install it, updating the package lists on the way,
# and hide what the role's apt task does on a host without lists.
include=systemd,systemd-sysv,python3,python3-apt
recipe=$(echo "bookworm minbase $include v1" | sha256sum | cut -c1-12)   # a new recipe, a new tarball
tarball=$cache/rootfs-bookworm-$recipe.tar
mirror=${LABFARM_DEBIAN_MIRROR:-http://deb.debian.org/debian}

rootfs() {   # WORK: WORK/rootfs from the cached tarball, made by debootstrap on the first run
    local work=$1
    if [ ! -f "$tarball" ]; then
        mkdir -p "$cache"
        local tmp
        tmp=$(mktemp -d "$cache/debootstrap.XXXXXX")
        debootstrap --variant=minbase --include="$include" bookworm "$tmp/rootfs" "$mirror" \
            >"$tmp/debootstrap.log" 2>&1 || { tail -20 "$tmp/debootstrap.log" >&2; rm -rf "$tmp"; exit 1; }
        # As container images ship: no package lists, so the role's apt task must fetch them.
        rm -rf "$tmp"/rootfs/var/lib/apt/lists/* "$tmp"/rootfs/var/cache/apt/*.bin "$tmp"/rootfs/var/cache/apt/archives/*.deb
        echo lfsd > "$tmp/rootfs/etc/hostname"
        # Services that change kernel settings or load modules have no business in a test container.
        for unit in systemd-sysctl.service systemd-modules-load.service; do
            ln -sfn /dev/null "$tmp/rootfs/etc/systemd/system/$unit"
        done
        tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
        mv "$tmp/rootfs.tar" "$tarball"
        rm -rf "$tmp"
    fi
    rm -rf "$work/rootfs"
    mkdir -p "$work/rootfs"
    tar -C "$work/rootfs" -xf "$tarball"
}

start() {
    local work=$1 netns=$2
    mkdir -p "$work/share" "$cache/apt-archives"
    rootfs "$work"
    local cgroup=/sys/fs/cgroup/unified/lfsd-$netns
    [ -d /sys/fs/cgroup/unified ] || cgroup=/sys/fs/cgroup/lfsd-$netns
    mkdir -p "$cgroup"
    echo "$cgroup" > "$work/cgroup"
    # The child moves itself into the container's own cgroup, so the cgroup namespace is rooted there.
    # shellcheck disable=SC2016  # the single-quoted scripts expand their own arguments
    setsid bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cgroup" \
        nsenter --net="/run/netns/$netns" \
        unshare --pid --fork --mount --uts --ipc --cgroup --propagation private -- \
        /bin/bash -c '
set -euo pipefail
r=$1 share=$2 archives=$3
mount --bind "$r" "$r"
mount -t proc proc "$r/proc"
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
mount -t sysfs -o ro sysfs "$r/sys"
mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
mount -t tmpfs -o mode=755 tmpfs "$r/dev"
for d in null zero full random urandom tty; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
mkdir -p "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
mount -t tmpfs tmpfs "$r/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
mkdir -p "$r$share"
mount --bind "$share" "$r$share"
mount --bind "$archives" "$r/var/cache/apt/archives"
cd "$r"
exec env -i container=lfsd TERM=dumb /usr/sbin/chroot . /lib/systemd/systemd
' _ "$work/rootfs" "$work/share" "$cache/apt-archives" >"$work/console.log" 2>&1 < /dev/null &
    local outer=$! pid="" state=""
    echo "$outer" > "$work/unshare.pid"
    for _ in $(seq 300); do
        pid=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null) || true
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
            state=$(nsenter -t "$pid" -m -p -r -w /bin/systemctl is-system-running 2>/dev/null) || true
            case $state in running|degraded) break ;; esac
        fi
        kill -0 "$outer" 2>/dev/null || { cat "$work/console.log" >&2; echo "container.sh: the container exited" >&2; exit 1; }
        sleep 0.1
    done
    case $state in
        running|degraded)
            echo "$pid" > "$work/pid"
            # The interpreter Ansible runs modules with: the container's files, processes and systemd,
            # the host's network namespace (apt reaches the mirrors; the daemons, which systemd starts,
            # live in NETNS).
            printf '#!/bin/sh\nexec nsenter --target %s --mount --uts --ipc --pid --cgroup --root --wd /usr/bin/python3 "$@"\n' \
                "$pid" > "$work/python"
            chmod 0755 "$work/python"
            echo "$pid" ;;
        *) echo "container.sh: systemd did not come up (state: ${state:-none})" >&2; stop "$work"; exit 1 ;;
    esac
}

stop() {
    local work=$1 outer pid
    outer=$(cat "$work/unshare.pid" 2>/dev/null) || true
    pid=$(cat "$work/pid" 2>/dev/null) || true
    # Only the processes this script started: unshare, and systemd as its child.
    if [ -n "$outer" ] && [ "$(cat "/proc/$outer/comm" 2>/dev/null)" = unshare ]; then
        if [ -n "$pid" ] && [ "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" = "$outer" ]; then
            kill -s SIGRTMIN+4 "$pid" 2>/dev/null || true    # systemd: poweroff
            for _ in $(seq 100); do kill -0 "$outer" 2>/dev/null || break; sleep 0.1; done
            # Killing PID 1 of a PID namespace kills every process in it.
            if kill -0 "$outer" 2>/dev/null; then kill -s KILL "$pid" 2>/dev/null || true; fi
        fi
        for _ in $(seq 50); do kill -0 "$outer" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$outer" 2>/dev/null; then kill -s KILL "$outer" 2>/dev/null || true; fi
    fi
    local cgroup
    cgroup=$(cat "$work/cgroup" 2>/dev/null) || true
    if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
        find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
    rm -f "$work/pid" "$work/unshare.pid"
}

case ${1:-} in
    start) start "$2" "$3" ;;
    stop) stop "$2" ;;
    *) echo "usage: $0 start WORK NETNS | stop WORK" >&2; exit 2 ;;
esac
