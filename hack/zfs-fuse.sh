#!/usr/bin/env bash
# zfs-fuse for `make demo` and the molecule scenario, shared with the tests (tests/lab/zfs.py):
#   hack/zfs-fuse.sh start MARKER   start the daemon unless one answers; if this call started it,
#                                   write its PID to MARKER
#   hack/zfs-fuse.sh stop MARKER    stop the daemon named in MARKER, only once no pool is left in it
# Both take the lock the tests take, so two jobs never start two daemons or stop one in use.
set -euo pipefail
action=${1:?usage: $0 start|stop MARKER} marker=${2:?usage: $0 start|stop MARKER}
lock=/run/lock/labfarm-zfs-fuse.lock
pidfile=/run/labfarm-zfs-fuse.pid
mkdir -p "$(dirname "$lock")"
exec 9>>"$lock"
flock 9

answers() { zpool list -H >/dev/null 2>&1; }

case $action in
start)
    if ! answers; then
        rm -f "$pidfile"
        # the ARC as tests/lab/zfs.py sets it (Debian's zfsrc caps it at 100 MB, too little for hundreds of clones)
        zfs-fuse -p "$pidfile" --max-arc-size 1024 9>&-   # the daemon must not inherit (and hold) the lock
        for _ in $(seq 1 100); do [ -s "$pidfile" ] && break; sleep 0.1; done
        cp "$pidfile" "$marker"
        for _ in $(seq 1 100); do answers && break; sleep 0.1; done
    fi
    answers || { echo "zfs-fuse does not answer (is /dev/fuse there?)" >&2; exit 1; }
    ;;
stop)
    [ -f "$marker" ] || exit 0
    if [ -n "$(zpool list -H -o name 2>/dev/null)" ]; then
        echo "zfs-fuse keeps running: other pools live in it"
    else
        pid=$(cat "$marker")
        kill "$pid" 2>/dev/null || true
        # zfs-fuse takes seconds to exit; wait (holding the lock) so no one uses a dying daemon.
        for _ in $(seq 1 200); do
            state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
            [ "$state" = gone ] || [ "$state" = Z ] && break
            sleep 0.1
        done
    fi
    rm -f "$marker"
    ;;
*)
    echo "usage: $0 start|stop MARKER" >&2
    exit 2
    ;;
esac
