# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A lock file with a bounded wait that says who holds it: gns3_project_reset's farm lock (in the
projects root, shared by every host that mounts it) and zfs_clone's host lock.

POSIX record locks (fcntl.lockf): Linux forwards them to the server on NFS (v4 natively, v3 through
lockd), so every host that shares the directory is serialised, and the kernel (or the NFS server, when
the lease of a dead client runs out) releases them when the holder dies: a lock file left behind is never
a stale lock. The file is not removed on release: unlinking a lock file while another process waits on it
would let a third one lock a new file beside it.

The holder writes host, pid and the time it took the lock into the file, so one that gives up can say
who it waited for. Standard library only: it runs on the managed hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import socket
import time

DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 86400
POLL_SECONDS = (0.05, 0.5)   # first and longest pause between two tries


class LockTimeout(Exception):
    """The lock was still held after the wait: the message names the holder and the fix."""

    def __init__(self, msg, holder=None):
        super(LockTimeout, self).__init__(msg)
        self.holder = holder or {}


def holder_record(purpose):
    """What a holder writes into the lock file."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "purpose": purpose}


def read_holder(handle):
    """The holder record in an open lock file, {} when it holds none (yet) or not ours."""
    try:
        os.lseek(handle.fileno(), 0, os.SEEK_SET)
        data = json.loads(os.read(handle.fileno(), 4096).decode("utf-8"))
    except (OSError, IOError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def describe_holder(holder):
    if not holder:
        return "a process that has not written its name yet"
    return "pid %s on host %s (%s) since %s" % (holder.get("pid", "?"), holder.get("host", "?"),
                                                holder.get("purpose", "?"), holder.get("since", "?"))


def _try_lock(handle):
    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise


@contextlib.contextmanager
def bounded_lock(path, timeout=DEFAULT_TIMEOUT, purpose="labfarm.massclone", option="lock_timeout", sleep=time.sleep):
    """Hold an exclusive lock on `path` (created if missing) for the `with` block, waiting at most `timeout`
    seconds for another holder; yields {"waited": seconds}. Raises LockTimeout naming the holder when the wait
    runs out, and OSError/IOError when the file cannot be opened or locked at all."""
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+b")
    try:
        started = time.time()
        pause = POLL_SECONDS[0]
        while not _try_lock(handle):
            waited = time.time() - started
            if waited >= timeout:
                holder = read_holder(handle)
                raise LockTimeout(
                    "the lock %s is held by %s; gave up after %d s (%s=%s). Let that run finish and run again, or "
                    "give a longer %s. If that process no longer exists, run again: the system frees a lock when its "
                    "holder ends" % (path, describe_holder(holder), waited, option, timeout, option), holder)
            sleep(min(pause, max(timeout - waited, 0.001)))
            pause = min(pause * 2, POLL_SECONDS[1])
        record = json.dumps(holder_record(purpose)).encode("utf-8")
        try:
            os.ftruncate(handle.fileno(), 0)
            os.lseek(handle.fileno(), 0, os.SEEK_SET)
            os.write(handle.fileno(), record)
        except (IOError, OSError):
            pass   # a read-only record costs only the holder's name in someone else's message
        yield {"waited": round(time.time() - started, 3)}
    finally:
        handle.close()   # closing the file releases the lock
