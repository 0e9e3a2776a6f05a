# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The per-node locks of parallel imaging runs (module labfarm.massclone.image_nodes_lock), on the controller.

A run holds one file per node, <lock_dir>/<node>.lock, holding {run, pid, since, nodes}: the run's id, the PID
of its ansible-playbook process and when it took it. A run that names a node whose lock another run holds, and
whose process is still alive, is refused with that run named; a lock whose process is gone is stale and taken
over. Files are created with O_EXCL, so two runs starting at the same moment cannot both take one node.
The decision (conflicts) is pure; the rest reads and writes the files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re
import time

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def lock_path(lock_dir, node):
    return os.path.join(lock_dir, _SAFE.sub("_", node) + ".lock")


def pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError) as exc:
        return getattr(exc, "errno", None) == errno.EPERM
    return True


def _proc(pid):
    """(parent PID, argv) of a process, from /proc; None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().decode("utf-8", "replace").split("\0")
    except (IOError, OSError):
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1]), argv


def _is_ansible(argv):
    return any(os.path.basename(a).startswith(("ansible-playbook", "ansible-runner")) for a in argv[:3])


def playbook_pid(pid=None, proc=_proc):
    """The PID of the ansible-playbook (or ansible-runner) process this module runs under, else the parent.

    The module's nearest such ancestor is a worker that ansible-playbook forked for this one task (same command
    line) and that exits with it; a lock naming it would look stale at once and be taken over by the next run.
    So: the topmost of the consecutive ancestors whose command line names ansible-playbook or ansible-runner,
    the process that lives as long as the run."""
    pid = pid or os.getpid()
    found = None
    for dummy in range(64):      # at most this many ancestors
        entry = proc(pid)
        if entry is None:
            break
        parent, argv = entry
        if _is_ansible(argv):
            found = pid
        elif found is not None:
            break                # above the run: a shell, a test, AWX's launcher
        if parent <= 1:
            break
        pid = parent
    return found if found is not None else os.getppid()


def describe(holder):
    return "run %s (pid %s, since %s)" % (holder.get("run", "?"), holder.get("pid", "?"), holder.get("since", "?"))


def conflicts(nodes, holders, run, alive=pid_alive):
    """Pure: {node: holder} of nodes whose lock is held by another live run. holders maps a node to the
    record in its lock file (or None)."""
    out = {}
    for node in nodes:
        holder = holders.get(node)
        if holder and holder.get("run") != run and alive(holder.get("pid")):
            out[node] = holder
    return out


def read(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (IOError, OSError, ValueError):
        return None


def acquire(lock_dir, nodes, run, pid, check=False):
    """Take every node's lock for run or none: returns (taken, conflicts {node: holder}). A conflict found
    while writing (another run was faster) releases what this call took."""
    if not os.path.isdir(lock_dir):
        os.makedirs(lock_dir, 0o755)
    holders = dict((n, read(lock_path(lock_dir, n))) for n in nodes)
    found = conflicts(nodes, holders, run)
    if found or check:
        return [], found
    record = {"run": run, "pid": int(pid), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "nodes": list(nodes)}
    taken = []
    for node in nodes:
        path = lock_path(lock_dir, node)
        holder = holders.get(node)
        if holder is not None and holder.get("run") == run:
            continue
        if holder is not None:
            try:                       # stale: its run is gone
                os.unlink(path)
            except OSError:
                pass
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
            release(lock_dir, taken, run)
            return [], {node: read(path) or {}}
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
        taken.append(node)
    return taken, {}


def release(lock_dir, nodes, run):
    """Remove the locks of nodes that run holds; returns the nodes released."""
    released = []
    for node in nodes:
        path = lock_path(lock_dir, node)
        holder = read(path)
        if holder is not None and holder.get("run") == run:
            os.unlink(path)
            released.append(node)
    return released
