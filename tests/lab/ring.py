# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A ring of nodes in network namespaces, for the ring_copy tests and benchmark.

    lab = RingLab(workdir, receivers=4).setup()   # names lfrg<5 hex>n0..n4, a bridge namespace lfrg<hex>b
    lab.ns(0)          # the source's namespace; lab.ns(1..4) the receivers'
    lab.ip(i)          # 10.95.<random n>.<10+i>, on one bridge (veth pairs), broadcast address set
    node = lab.start(i, argv, env)    # a process inside node i's namespace, in its own process group
    node.kill()        # SIGKILL that process group (a module and the ansible process that runs it)
    lab.teardown()     # kills what it started (by process group of its own PIDs), deletes namespaces

The owner of the namespaces is recorded like NetnsLab's, so a killed test run's namespaces are
removed by the next run. Standard library only; nothing here imports the collection.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

from .netns import LabError, claim_prefix, die_with_parent, run

PREFIX = "lfrg"


class Background:
    """A ring node object's run() (a Receiver or Sender of the collection, in this process) in a daemon
    thread; .join() returns its result, and fails the test when the node did not finish in time."""

    def __init__(self, node):
        self.node = node
        self.result = None
        self.thread = threading.Thread(target=self._run)
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        self.result = self.node.run()

    def join(self, timeout=60):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the node did not finish"
        return self.result


class Node:
    """A process started in one namespace; its output goes to a file."""

    def __init__(self, lab, index, argv, env, log_path):
        self.lab = lab
        self.index = index
        self.log_path = log_path
        out = open(log_path, "wb")
        try:
            self.process = subprocess.Popen(["ip", "netns", "exec", lab.ns(index)] + list(argv), stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT, env=env, close_fds=True,
                                            start_new_session=True, preexec_fn=die_with_parent)
        finally:
            out.close()
        lab.nodes.append(self)

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.poll() is None

    def wait(self, timeout=300):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise LabError("node %d did not finish within %d s:\n%s" % (self.index, timeout, self.output()))

    def descendants(self):
        """PIDs of this node's process and everything it started (Ansible may put the module in a
        session of its own, so the process group is not enough)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d/task" % pid) else []:
                try:
                    with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                        todo.extend(int(child) for child in handle.read().split())
                except OSError:
                    pass
        return found

    def kill(self, sig=signal.SIGKILL):
        """Signal this node's process tree, the module's process included."""
        for pid in reversed(self.descendants()):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGKILL:
            self.process.wait(10)

    def output(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def ansible_result(self):
        """The module result of an ad-hoc `ansible localhost -m ...` run: (status, dict)."""
        text = self.output()
        for marker in (" | SUCCESS => ", " | CHANGED => ", " | FAILED! => "):
            if marker in text:
                body = text.split(marker, 1)[1]
                return marker.strip(" |=>").strip(), json.loads(body[:body.rindex("}") + 1])
        raise LabError("no module result in the output of node %d:\n%s" % (self.index, text[-4000:]))


class RingLab:
    def __init__(self, workdir, receivers=4):
        self.workdir = workdir
        self.count = receivers + 1
        self.prefix = PREFIX + uuid.uuid4().hex[:5]
        self.subnet = random.randint(1, 250)
        self.namespaces = []
        self.nodes = []
        self.owner_marker = None

    def ns(self, index):
        return "%sn%d" % (self.prefix, index)

    @property
    def bridge_ns(self):
        return self.prefix + "b"

    def ip(self, index):
        return "10.95.%d.%d" % (self.subnet, 10 + index)

    def setup(self):
        self.owner_marker = claim_prefix(self.prefix)
        try:
            run(["ip", "netns", "add", self.bridge_ns])
            self.namespaces.append(self.bridge_ns)
            b = ["ip", "-n", self.bridge_ns]
            run(b + ["link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"])
            run(b + ["link", "set", "br0", "up"])
            for index in range(self.count):
                ns = self.ns(index)
                run(["ip", "netns", "add", ns])
                self.namespaces.append(ns)
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
                port, peer = "%sv%d" % (self.prefix, index), "%sp%d" % (self.prefix, index)
                run(["ip", "link", "add", port, "type", "veth", "peer", "name", peer])
                run(["ip", "link", "set", port, "netns", self.bridge_ns])
                run(["ip", "link", "set", peer, "netns", ns])
                run(b + ["link", "set", port, "master", "br0"])
                run(b + ["link", "set", port, "up"])
                run(["ip", "-n", ns, "link", "set", peer, "name", "eth0"])
                run(["ip", "-n", ns, "addr", "add", "%s/24" % self.ip(index), "brd", "+", "dev", "eth0"])
                run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self.wait_reachable()
        except Exception:
            self.teardown()
            raise
        return self

    def wait_reachable(self, timeout=10):
        """The bridge forwards once its ports are up: a TCP connect from the source to a closed port
        of the last node is refused (an RST came back) once the path works."""
        probe = ("import socket, sys\ntry:\n    socket.create_connection((sys.argv[1], 9), timeout=1)\n"
                 "except ConnectionRefusedError:\n    sys.exit(0)\nexcept OSError:\n    sys.exit(1)\n")
        deadline = time.monotonic() + timeout
        argv = ["ip", "netns", "exec", self.ns(0), sys.executable, "-c", probe, self.ip(self.count - 1)]
        while run(argv, check=False)[0] != 0:
            if time.monotonic() > deadline:
                raise LabError("the ring namespaces cannot reach each other")
            time.sleep(0.2)

    def start(self, index, argv, env=None, name=None):
        log = os.path.join(self.workdir, "%s.log" % (name or "node%d-%d" % (index, len(self.nodes))))
        return Node(self, index, argv, env or dict(os.environ), log)

    def teardown(self):
        errors = []
        for node in self.nodes:
            if node.running():
                try:
                    node.kill()
                except Exception as exc:  # keep cleaning
                    errors.append(str(exc))
        self.nodes = []
        for ns in reversed(self.namespaces):
            rc, dummy, err = run(["ip", "netns", "delete", ns], check=False)
            if rc != 0:
                errors.append("ip netns delete %s: %s" % (ns, err.strip()))
        self.namespaces = []
        if self.owner_marker and os.path.exists(self.owner_marker):
            os.unlink(self.owner_marker)
        if errors:
            raise LabError("teardown: " + "; ".join(errors))

    def kill_all(self):
        for node in self.nodes:
            if node.running():
                node.kill(signal.SIGKILL)
