# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VirtualBMC (PyPI virtualbmc, OpenStack Ironic's test BMC) in front of libvirt domains: IPMI over UDP on
127.0.0.1 that powers a domain on and off and sets its boot device, as a real BMC does for a machine.

    bmcs = VirtualBMC(workdir, control_port=16230).start()   # vbmcd --foreground, its own config and state
    bmcs.add("lfpx-node1", 16231, libvirt_uri, username="admin", password="pw")   # vbmc add + vbmc start
    bmcs.stop()                                             # vbmcd (and its BMC processes) by PID

pyghmi's client (what community.general's ipmi_power and ipmi_boot use) proposes RAKP-HMAC-SHA256 first and
falls back to SHA1 only when the BMC refuses the proposal; pyghmi's own BMC code (VirtualBMC's) accepts any
proposal and then answers in SHA1, which the client cannot read (struct.error in _got_rakp2). Real BMCs either
speak SHA256 or refuse it. So vbmcd runs through this file (``python vbmc.py vbmcd``), which makes its BMCs
refuse what they cannot do, with RMCP+ status 0x11 (no cipher suite match), as a SHA1-only BMC does; the
client then retries with SHA1. ipmitool, which proposes SHA1 (cipher suite 3), is unaffected.

vbmcd runs in the foreground as our child with its own VIRTUALBMC_CONFIG (config_dir, pid_file,
server_port, log file under ``workdir``), so it never meets a vbmcd of the host or of another test; it is
stopped by the PID we started, and gets SIGTERM if the test process dies. Nothing here imports the
collection. Standard library only (vbmc and vbmcd come from the virtualenv next to sys.executable).
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
BIN = os.path.dirname(os.path.abspath(sys.executable))

CONFIG = """[default]
config_dir = {workdir}/bmcs
pid_file = {workdir}/vbmcd.pid
server_port = {port}
server_response_timeout = 20000

[log]
logfile = {workdir}/vbmcd.log
debug = true
"""


def _die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def tool(name):
    """The path of vbmc / vbmcd: beside this Python (the .venv), else on PATH; None when absent."""
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else shutil.which(name)


def missing():
    """Why VirtualBMC cannot run here (None when it can)."""
    for name in ("vbmc", "vbmcd"):
        if tool(name) is None:
            return "%s is not installed (PyPI virtualbmc, requirements-dev.txt)" % name
    return None


def port_free(port, kind=socket.SOCK_DGRAM, host="127.0.0.1"):
    """Whether ``port`` can be bound on ``host`` for ``kind`` (UDP: a BMC; TCP: vbmcd's control port)."""
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.bind((host, port))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def free_ports(ports, count):
    """The first ``count`` of ``ports`` that are free for UDP and TCP; RuntimeError when fewer are."""
    found = [p for p in ports if port_free(p) and port_free(p, socket.SOCK_STREAM)]
    if len(found) < count:
        raise RuntimeError("fewer than %d of the ports %d-%d are free" % (count, ports[0], ports[-1]))
    return found[:count]


class VirtualBMC:
    """One vbmcd and the BMCs added to it."""

    def __init__(self, workdir, control_port):
        self.workdir = os.path.abspath(str(workdir))
        self.control_port = control_port
        self.config = os.path.join(self.workdir, "virtualbmc.conf")
        self.process = None
        self.bmcs = {}       # domain -> port

    def env(self):
        return dict(os.environ, VIRTUALBMC_CONFIG=self.config, LC_ALL="C", LANG="C")

    def vbmc(self, *args, check=True, timeout=60):
        """Run ``vbmc --no-daemon ARGS`` against this vbmcd; return its output (None when it failed and not
        ``check``)."""
        proc = subprocess.run([tool("vbmc"), "--no-daemon"] + list(args), env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError("vbmc %s failed (rc=%d): %s\n%s" % (" ".join(args), proc.returncode, proc.stdout,
                                                                   self.output()))
        return proc.stdout if proc.returncode == 0 else None

    def start(self, timeout=30.0):
        os.makedirs(os.path.join(self.workdir, "bmcs"), exist_ok=True)
        with open(self.config, "w") as handle:
            handle.write(CONFIG.format(workdir=self.workdir, port=self.control_port))
        out = open(os.path.join(self.workdir, "vbmcd.out"), "ab")
        try:
            self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "vbmcd", "--foreground"],
                                            env=self.env(), stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT, close_fds=True,
                                            preexec_fn=_die_with_parent)
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("vbmcd exited at start (rc=%s):\n%s" % (self.process.returncode, self.output()))
            if self.vbmc("list", check=False, timeout=30) is not None:
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("vbmcd not ready after %.0f s:\n%s" % (timeout, self.output()))
            time.sleep(0.3)

    def add(self, domain, port, libvirt_uri, username="admin", password="password", timeout=20.0):
        """A BMC for ``domain`` on 127.0.0.1:``port`` (UDP), started; waits until it listens."""
        self.vbmc("add", domain, "--port", str(port), "--address", "127.0.0.1", "--libvirt-uri", libvirt_uri,
                  "--username", username, "--password", password)
        self.vbmc("start", domain)
        self.bmcs[domain] = port
        deadline = time.monotonic() + timeout
        while port_free(port):
            if time.monotonic() > deadline:
                raise RuntimeError("the BMC of %s does not listen on 127.0.0.1:%d:\n%s" % (domain, port, self.output()))
            time.sleep(0.2)
        return port

    def output(self):
        text = ""
        for name in ("vbmcd.out", "vbmcd.log"):
            path = os.path.join(self.workdir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as handle:
                    text += "--- %s\n%s\n" % (path, handle.read()[-4000:])
        return text

    def stop(self, timeout=10.0):
        """SIGTERM the vbmcd we started (it stops its BMC processes), SIGKILL after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None


def refuse_other_than_sha1():
    """Make pyghmi's BMC sessions answer an RMCP+ open session request that proposes another authentication
    algorithm than RAKP-HMAC-SHA1 (1) with status 0x11, instead of accepting it and using SHA1 anyway."""
    from pyghmi.ipmi.private import serversession  # pylint: disable=import-outside-toplevel,import-error

    accept = serversession.ServerSession.create_open_session_response

    def create_open_session_response(self, request):
        response = accept(self, request)
        if len(request) > 12 and request[12] != 1:   # the authentication payload's algorithm byte
            response[1] = 0x11
        return response

    serversession.ServerSession.create_open_session_response = create_open_session_response


if __name__ == "__main__" and sys.argv[1:2] == ["vbmcd"]:
    refuse_other_than_sha1()
    from virtualbmc.cmd import vbmcd  # pylint: disable=import-error
    sys.exit(vbmcd.main(sys.argv[2:]))
