# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real GNS3 servers for tests and benchmarks (gns3-server 2.2 and 3.0 from PyPI, each in its own virtualenv).

    server = GNS3Server("3.0", workdir)          # 127.0.0.1:13081, consoles 29000-29999
    server.start()                               # waits for /v3/version, then logs in as admin
    project = server.create_project("lab1")
    server.add_qemu(project["project_id"], "pc1")
    server.api("POST", "/projects/%s/close" % project["project_id"])
    assert not server.log_errors()
    server.stop()                                # this server's PID only (and what it started)

Each server runs from its own virtualenv, found as
``${LABFARM_CACHE:-$HOME/.cache/labfarm}/gns3-<2.2|3.0>/bin/gns3server`` (hack/setup.sh installs
them), with its own INI config, HOME, projects/images/configs directories and log under ``workdir``.
Nothing here imports the collection: the helper checks the code under test, it does not use it.

GNS3 starts uBridge for every qemu/VPCS node it starts; uBridge is packaged nowhere we can install
from, so unless one is on PATH the server gets UBRIDGE_STANDIN below (UDP bridges only). Never
pass --pid to gns3server here: 3.x then kills every vpcs/ubridge/dynamips process on the machine.

Standard library only, so benchmarks and the lead's clone tests can reuse it as is.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

# Default ports per version: console and UDP ranges stay below the kernel's ephemeral range
# (32768-60999 here), or GNS3 silently replaces ports another process holds (seen with 2.2.61 and 3.0.6).
DEFAULTS = {
    "2.2": {"port": 13080, "console_range": (28000, 28999), "udp_range": (20000, 20999)},
    "3.0": {"port": 13081, "console_range": (29000, 29999), "udp_range": (21000, 21999)},
}
QEMU_PATH = "/usr/bin/qemu-system-x86_64"
VPCS_PATH = "/usr/bin/vpcs"

# GNS3 2.2 and 3.x start uBridge for every qemu (and vpcs, docker, cloud) node they start, even one
# with no link, and answer 409 "uBridge is not available" without it (compute/base_node.py
# _start_ubridge). uBridge is not packaged in Debian nor on PyPI, so when none is on PATH the
# server gets this stand-in: uBridge's hypervisor protocol (`ubridge -v`, `ubridge -H host:port`,
# "1xx-" / "2xx-" answers) and its UDP-to-UDP bridges, which really forward the packets between a
# node's local tunnel and its link. Ethernet/TAP/raw NIOs and captures are not implemented.
UBRIDGE_STANDIN = r'''#!{python}
"""Stand-in for GNS3's uBridge (written by labfarm.massclone tests/lab/gns3.py): UDP bridges only."""
import os
import select
import socket
import sys
import threading

VERSION = "0.9.18"
if "-v" in sys.argv:
    print("ubridge version %s (labfarm stand-in, UDP bridges only)" % VERSION)
    sys.exit(0)
host, port = sys.argv[sys.argv.index("-H") + 1].rsplit(":", 1)
bind_host = "" if host in ("0.0.0.0", "::") else host
lock = threading.Lock()
bridges = {{}}  # name -> {{"nios": [(socket, (rhost, rport))], "running": bool}}


def pump():
    while True:
        with lock:
            routes = {{}}
            for bridge in bridges.values():
                nios = bridge["nios"]
                if bridge["running"] and len(nios) == 2:
                    routes[nios[0][0]] = nios[1]
                    routes[nios[1][0]] = nios[0]
        if not routes:
            threading.Event().wait(0.05)
            continue
        try:
            ready = select.select(list(routes), [], [], 0.05)[0]
        except (OSError, ValueError):
            continue
        for sock in ready:
            try:
                data = sock.recv(65535)
                out, remote = routes[sock]
                out.sendto(data, remote)
            except OSError:
                pass


def command(line):
    words = line.split()
    if words[:2] == ["hypervisor", "version"]:
        return "100-%s" % VERSION
    if words[:2] == ["hypervisor", "stop"]:
        return "STOP"
    if words[:2] == ["hypervisor", "reset"]:
        with lock:
            for bridge in bridges.values():
                for sock, _ in bridge["nios"]:
                    sock.close()
            bridges.clear()
        return "100-OK"
    if len(words) >= 3 and words[0] == "bridge":
        verb, name = words[1], words[2].strip('"')
        with lock:
            if verb == "create":
                if name in bridges:
                    return "201-bridge '%s' already exist" % name
                bridges[name] = {{"nios": [], "running": False}}
                return "100-bridge '%s' created" % name
            if name not in bridges:
                return "201-bridge '%s' doesn't exist" % name
            bridge = bridges[name]
            if verb == "delete":
                for sock, _ in bridge["nios"]:
                    sock.close()
                del bridges[name]
                return "100-bridge '%s' deleted" % name
            if verb == "add_nio_udp" and len(words) == 6:
                if len(bridge["nios"]) >= 2:
                    return "202-bridge '%s' already has two NIOs" % name
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.bind((bind_host, int(words[3])))
                except OSError as exc:
                    sock.close()
                    return "203-unable to create UDP NIO on port %s: %s" % (words[3], exc)
                bridge["nios"].append((sock, (words[4], int(words[5]))))
                return "100-UDP NIO added to bridge '%s'" % name
            if verb == "start":
                bridge["running"] = True
                return "100-bridge '%s' started" % name
            if verb == "stop":
                bridge["running"] = False
                return "100-bridge '%s' stopped" % name
            if verb in ("reset_packet_filters", "set_pcap_filter", "add_packet_filter", "delete_packet_filter"):
                return "100-OK"
            return "209-bridge command '%s' is not supported by this stand-in" % verb
    return "100-OK"


def serve(conn):
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            answer = command(line.decode("utf-8", "replace").strip())
            if answer == "STOP":
                conn.sendall(b"100-OK\r\n")
                conn.close()
                os._exit(0)
            conn.sendall(answer.encode("utf-8") + b"\r\n")


threading.Thread(target=pump, daemon=True).start()
server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((host, int(port)))
server.listen(4)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


class GNS3LabError(Exception):
    """An API call that answered an error, or a server that would not start.

    ``status`` (HTTP status, None when the server did not answer) and ``message``
    (GNS3's own "message" field, or the body) are kept as attributes.
    """

    def __init__(self, method, path, status, message):
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        super(GNS3LabError, self).__init__("%s %s -> %s: %s" % (method, path, status, message))


def cache_dir():
    return os.environ.get("LABFARM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "labfarm")


def gns3server_path(version):
    """Where hack/setup.sh installs gns3server for a major version ('2.2' or '3.0')."""
    return os.path.join(cache_dir(), "gns3-%s" % version, "bin", "gns3server")


def missing_reason(version):
    """None when the server of ``version`` can run here, else why not (for pytest.skip)."""
    binary = gns3server_path(version)
    if not os.access(binary, os.X_OK):
        return "GNS3 %s is not installed at %s (run hack/setup.sh)" % (version, binary)
    return None


def _proc_starttime(pid):
    """Kernel start time of a process (field 22 of /proc/PID/stat), None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    return data[data.rindex(")") + 2:].split()[19]


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                data = handle.read()
        except (IOError, OSError):
            continue
        ppid = int(data[data.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid):
    """[(pid, starttime)] of every process below ``pid`` (qemu, vpcs, ... the server started)."""
    children = _children_map()
    out = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        start = _proc_starttime(child)
        if start is not None:
            out.append((child, start))
        todo.extend(children.get(child, []))
    return out


class GNS3Server:
    """One real gns3server process of a given version, with its own config and directories.

    Every path and range can be overridden, so several servers (or the 20-clone test's farm)
    can run side by side: ``GNS3Server("2.2", work, port=13090, console_range=(27000, 27499))``.
    """

    def __init__(self, version, workdir, host="127.0.0.1", port=None, console_range=None,
                 udp_range=None, projects_path=None, images_path=None, username="admin",
                 password="admin", auth=False, binary=None, extra_config=None, debug=False,
                 ubridge="auto", netns=None, compute_password=None):
        if version not in DEFAULTS:
            raise ValueError("GNS3 version must be one of %s, got %r" % (sorted(DEFAULTS), version))
        defaults = DEFAULTS[version]
        self.version = version
        self.major = int(version.split(".")[0])
        self.api_version = "v3" if self.major >= 3 else "v2"
        self.workdir = os.path.abspath(str(workdir))
        self.host = host
        self.port = int(port or defaults["port"])
        self.console_range = tuple(console_range or defaults["console_range"])
        self.udp_range = tuple(udp_range or defaults["udp_range"])
        self.projects_path = os.path.abspath(str(projects_path or os.path.join(self.workdir, "projects")))
        self.images_path = os.path.abspath(str(images_path or os.path.join(self.workdir, "images")))
        self.configs_path = os.path.join(self.workdir, "configs")
        self.appliances_path = os.path.join(self.workdir, "appliances")
        self.symbols_path = os.path.join(self.workdir, "symbols")
        self.home = os.path.join(self.workdir, "home")
        self.config_path = os.path.join(self.workdir, "gns3_server.conf")
        self.log_path = os.path.join(self.workdir, "gns3server.log")
        self.stdout_path = os.path.join(self.workdir, "gns3server.stdout")
        # 2.2: HTTP basic auth only when auth=True; 3.x: always a user (the default super admin).
        self.username = username
        self.password = password
        self.auth = auth
        self.binary = binary or gns3server_path(version)
        self.extra_config = extra_config or {}
        # "auto": a real ubridge on PATH, else the stand-in above; a path; or None (no uBridge:
        # every node start then fails with GNS3's 409 "uBridge is not available").
        self.ubridge = ubridge
        self.ubridge_path = None
        self.ubridge_standin = False
        self.debug = debug
        # A network namespace (/run/netns/<netns>) to run in: the server of one host of a multi-host test
        # (tests/lab/sshhost.py), reached at ``host``, an address of that namespace.
        self.netns = netns
        # 3.x: the HTTP basic credentials of this server's compute API (Server.compute_username/_password), for a
        # controller that registers it as a remote compute (add_compute); None leaves GNS3's defaults. 2.2 computes
        # use the server's own auth (auth=True, username, password).
        self.compute_username = "gns3"
        self.compute_password = compute_password
        self.token = None
        self.process = None
        self.server_version = None
        self.start_seconds = None

    # -- paths and config ------------------------------------------------------
    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def prefix(self):
        return "/" + self.api_version

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def config(self):
        """The INI sections this server runs with (keys checked in each version's source)."""
        server = {
            "host": self.host,
            "port": str(self.port),
            "local": "true",
            "projects_path": self.projects_path,
            "images_path": self.images_path,
            "configs_path": self.configs_path,
            "appliances_path": self.appliances_path,
            "symbols_path": self.symbols_path,
            "report_errors": "false",
            "console_start_port_range": str(self.console_range[0]),
            "console_end_port_range": str(self.console_range[1]),
            "udp_start_port_range": str(self.udp_range[0]),
            "udp_end_port_range": str(self.udp_range[1]),
        }
        if self.ubridge_path:
            server["ubridge_path"] = self.ubridge_path
        sections = {"Server": server, "VPCS": {"vpcs_path": VPCS_PATH}}
        if self.major >= 3:
            # schemas/config.py: Controller.default_admin_username/password create the super
            # admin when the database (gns3_controller.db beside this config) is first made.
            sections["Controller"] = {
                "default_admin_username": self.username,
                "default_admin_password": self.password,
            }
            # No hardware acceleration: TCG only (KVM here is paravirtual).
            sections["Qemu"] = {
                "enable_hardware_acceleration": "false",
                "require_hardware_acceleration": "false",
            }
            # The builtin appliances are copied on every start otherwise.
            server["install_builtin_appliances"] = "false"
            if self.compute_password is not None:
                server["compute_username"] = self.compute_username
                server["compute_password"] = self.compute_password
        else:
            server["auth"] = "true" if self.auth else "false"
            if self.auth:
                server["user"] = self.username
                server["password"] = self.password
            # enable_kvm/require_kvm win over the generic keys on Linux (qemu_vm.py).
            sections["Qemu"] = {
                "enable_kvm": "false",
                "require_kvm": "false",
                "enable_hardware_acceleration": "false",
                "require_hardware_acceleration": "false",
            }
        for section, values in self.extra_config.items():
            sections.setdefault(section, {}).update(dict((k, str(v)) for k, v in values.items()))
        return sections

    def _prepare_ubridge(self):
        if self.ubridge is None:
            self.ubridge_path = os.path.join(self.workdir, "no-ubridge")
            return
        if self.ubridge != "auto":
            self.ubridge_path = str(self.ubridge)
            return
        found = shutil.which("ubridge")
        if found:
            self.ubridge_path = found
            return
        self.ubridge_path = os.path.join(self.workdir, "bin", "ubridge")
        self.ubridge_standin = True
        os.makedirs(os.path.dirname(self.ubridge_path), exist_ok=True)
        with open(self.ubridge_path, "w") as handle:
            handle.write(UBRIDGE_STANDIN.format(python=sys.executable))
        os.chmod(self.ubridge_path, 0o755)

    def write_config(self):
        self._prepare_ubridge()
        for path in (self.projects_path, self.images_path, os.path.join(self.images_path, "QEMU"),
                     self.configs_path, self.appliances_path, self.symbols_path, self.home):
            os.makedirs(path, exist_ok=True)
        lines = []
        for section, values in self.config().items():
            lines.append("[%s]" % section)
            lines.extend("%s = %s" % item for item in values.items())
            lines.append("")
        with open(self.config_path, "w") as handle:
            handle.write("\n".join(lines))

    # -- process ---------------------------------------------------------------
    def start(self, timeout=90):
        """Start the server and wait until it answers (and, for 3.x, until the admin can log in)."""
        if self.process is not None:
            raise RuntimeError("GNS3 %s on port %d is already started (PID %s)" % (self.version, self.port, self.pid))
        reason = missing_reason(self.version) if self.binary == gns3server_path(self.version) else None
        if reason:
            raise RuntimeError(reason)
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as probe:
            if probe.connect_ex((self.host, self.port)) == 0:
                raise RuntimeError("port %s:%d is already in use (another GNS3 server?): pick another port"
                                   % (self.host, self.port))
        os.makedirs(self.workdir, exist_ok=True)
        self.write_config()
        env = dict(os.environ)
        env["HOME"] = self.home
        env.pop("GNS3_DATABASE_URI", None)
        # Never --pid: 3.x then kills every vpcs/ubridge/dynamips process on the machine ("ghosts").
        cmd = [self.binary, "--local", "--host", self.host, "--port", str(self.port),
               "--config", self.config_path, "--log", self.log_path]
        if self.debug:
            cmd.append("--debug")
        if self.netns:
            # nsenter execs (the PID stays the server's) and keeps the machine's mount namespace.
            cmd = ["nsenter", "--net=/run/netns/%s" % self.netns] + cmd
        started = time.monotonic()
        with open(self.stdout_path, "ab") as out:
            self.process = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        return self

    def _wait_ready(self, deadline):
        last = None
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("GNS3 %s exited with code %s while starting; log tail:\n%s"
                                   % (self.version, self.process.returncode, self.log_tail()))
            try:
                status, data = self.request("GET", "/version", auth=False, timeout=5)
                if status == 200:
                    self.server_version = data.get("version")
                    break
                last = "HTTP %s" % status
            except OSError as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise RuntimeError("GNS3 %s did not answer on %s in time (%s); log tail:\n%s"
                                   % (self.version, self.url, last, self.log_tail()))
            time.sleep(0.2)
        if self.major >= 3:
            while True:
                status, data = self.request("POST", "/access/users/authenticate",
                                            {"username": self.username, "password": self.password}, auth=False)
                if status == 200:
                    self.token = data["access_token"]
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError("GNS3 %s: cannot log in as %r (HTTP %s: %s)"
                                       % (self.version, self.username, status, data))
                time.sleep(0.2)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """Stop this server: SIGTERM to its PID (GNS3 then stops its nodes), SIGKILL after ``timeout``.

        Processes the server started (qemu, vpcs) that outlive it are killed by PID too; nothing
        else is touched.
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            below = descendants(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            for pid, start in below:
                if _proc_starttime(pid) == start:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        code = self.process.returncode
        self.process = None
        self.token = None
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- log -------------------------------------------------------------------
    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except (IOError, OSError):
            return ""

    def log_size(self):
        """The log's length now: pass it to log_errors(since=...) to see only later lines."""
        return len(self.log_text())

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_errors(self, since=0, ignore=()):
        """ERROR/CRITICAL lines and traceback lines of the server log (after offset ``since``).

        ``ignore``: regular expressions of lines a test expects (3.x logs every 4xx it answers
        from a controller error as ERROR, e.g. a refused VPCS start).
        """
        patterns = [re.compile(p) for p in ignore]
        out = []
        keep = False  # whether the lines that continue the last log record are reported
        for line in self.log_text()[since:].splitlines():
            if not re.match(r"\d{4}-\d\d-\d\d ", line):
                # a traceback or a message's continuation: reported with its record
                if keep is None and line.startswith("Traceback"):
                    keep = True
                if keep:
                    out.append(line)
                continue
            if re.search(r" (ERROR|CRITICAL) ", line):
                keep = not any(p.search(line) for p in patterns)
                if keep:
                    out.append(line)
            else:
                keep = None  # a traceback after an INFO/WARNING record is still an error
        return out

    # -- API -------------------------------------------------------------------
    def _headers(self, auth):
        headers = {"Accept": "application/json"}
        if auth and self.major >= 3 and self.token:
            headers["Authorization"] = "Bearer " + self.token
        elif auth and self.auth:
            raw = ("%s:%s" % (self.username, self.password)).encode("utf-8")
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        return headers

    def request(self, method, path, body=None, auth=True, timeout=120):
        """(status, decoded JSON or text) of one call; ``path`` relative to /v2 or /v3 or absolute."""
        if not re.match(r"^/v\d+/", path):
            path = self.prefix + path
        data = None
        headers = self._headers(auth)
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def api(self, method, path, body=None, timeout=120):
        """The decoded answer of one call; GNS3LabError when it answers 4xx/5xx."""
        status, data = self.request(method, path, body, timeout=timeout)
        if status >= 400:
            message = data.get("message", data) if isinstance(data, dict) else data
            raise GNS3LabError(method, path, status, message)
        return data

    # -- remote computes -------------------------------------------------------
    def add_compute(self, compute, compute_id, name=None):
        """Register the started server ``compute`` as a remote compute of this controller (same version),
        as ``compute_id`` (3.x keys computes by UUID) and ``name``; returns the compute GNS3 answers."""
        body = {"compute_id": compute_id, "name": name or compute_id, "protocol": "http",
                "host": compute.host, "port": compute.port}
        if compute.major >= 3:
            body.update(user=compute.compute_username, password=compute.compute_password or "")
        elif compute.auth:
            body.update(user=compute.username, password=compute.password)
        return self.api("POST", "/computes", body)

    def computes(self):
        return self.api("GET", "/computes")

    # -- projects and nodes ----------------------------------------------------
    def projects(self):
        return self.api("GET", "/projects")

    def project(self, name_or_id):
        for project in self.projects():
            if name_or_id in (project["name"], project["project_id"]):
                return project
        return None

    def create_project(self, name, **fields):
        body = dict(fields, name=name)
        return self.api("POST", "/projects", body)

    def open_project(self, project_id):
        return self.api("POST", "/projects/%s/open" % project_id)

    def close_project(self, project_id):
        return self.api("POST", "/projects/%s/close" % project_id)

    def delete_project(self, project_id):
        return self.api("DELETE", "/projects/%s" % project_id)

    def close_all(self):
        for project in self.projects():
            if project.get("status") == "opened":
                self.close_project(project["project_id"])

    def dot_gns3(self, project):
        """Absolute path of a project's .gns3 file (a project dict or id)."""
        if not isinstance(project, dict):
            project = self.api("GET", "/projects/%s" % project)
        return os.path.join(project["path"], project["filename"])

    def nodes(self, project_id):
        return self.api("GET", "/projects/%s/nodes" % project_id)

    def tiny_image(self, name="tiny.qcow2", size="1M"):
        """An empty qcow2 under images_path/QEMU (where both versions look for qemu images)."""
        path = os.path.join(self.images_path, "QEMU", name)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, size], check=True)
        return path

    def add_node(self, project_id, name, node_type, properties=None, **fields):
        body = dict(fields, name=name, node_type=node_type, compute_id=fields.get("compute_id", "local"))
        if properties:
            body["properties"] = properties
        return self.api("POST", "/projects/%s/nodes" % project_id, body)

    def add_vpcs(self, project_id, name, **fields):
        return self.add_node(project_id, name, "vpcs", **fields)

    def add_qemu(self, project_id, name, image="tiny.qcow2", ram=32, properties=None, **fields):
        """A qemu node booting an empty disk: TCG, telnet console, no network boot."""
        self.tiny_image(image)
        props = {"qemu_path": QEMU_PATH, "hda_disk_image": image, "ram": ram, "adapters": 1,
                 "boot_priority": "c", "options": "-nodefaults -vga none"}
        props.update(properties or {})
        fields.setdefault("console_type", "telnet")
        return self.add_node(project_id, name, "qemu", properties=props, **fields)

    def add_link(self, project_id, node_a, node_b, adapter_a=0, port_a=0, adapter_b=0, port_b=0):
        body = {"nodes": [
            {"node_id": node_a, "adapter_number": adapter_a, "port_number": port_a},
            {"node_id": node_b, "adapter_number": adapter_b, "port_number": port_b},
        ]}
        return self.api("POST", "/projects/%s/links" % project_id, body)

    def build_project(self, name, qemu=(), vpcs=(), link_pairs=(), close=True):
        """A project with the named qemu and vpcs nodes and links between named nodes.

        Returns the project dict with ``nodes`` (name -> node dict); closed unless close=False.
        """
        project = self.create_project(name)
        pid = project["project_id"]
        nodes = {}
        for node_name in qemu:
            nodes[node_name] = self.add_qemu(pid, node_name)
        for node_name in vpcs:
            nodes[node_name] = self.add_vpcs(pid, node_name)
        for a, b in link_pairs:
            self.add_link(pid, nodes[a]["node_id"], nodes[b]["node_id"])
        if close:
            self.close_project(pid)
        project = self.api("GET", "/projects/%s" % pid)
        project["nodes"] = nodes
        return project

    def copy_project(self, project, name, dest_dir=None):
        """Copy a closed project's directory to ``dest_dir`` (default: projects_path/<name>) as a
        project GNS3 accepts beside its source: new project id and name, new node and link ids
        (node directories renamed), consoles and MAC addresses left for GNS3 to assign.

        A fixture maker for tests (reload, load by path), not the collection's clone reset.
        Returns the path of the new .gns3 file.
        """
        if not isinstance(project, dict):
            project = self.api("GET", "/projects/%s" % project)
        src_dir = project["path"]
        dest_dir = os.path.abspath(str(dest_dir or os.path.join(self.projects_path, name)))
        shutil.copytree(src_dir, dest_dir, ignore=shutil.ignore_patterns("*.backup", "*.lock"))
        src_file = os.path.join(dest_dir, project["filename"])
        with open(src_file) as handle:
            topo = json.load(handle)
        os.remove(src_file)
        topo["project_id"] = str(uuid.uuid4())
        topo["name"] = name
        mapping = {}
        for node in topo["topology"].get("nodes", []):
            old, new = node["node_id"], str(uuid.uuid4())
            mapping[old] = new
            node["node_id"] = new
            node["console"] = None
            for key in ("mac_address", "mac_addr"):
                node.get("properties", {}).pop(key, None)
            old_dir = os.path.join(dest_dir, "project-files", node["node_type"], old)
            if os.path.isdir(old_dir):
                os.rename(old_dir, os.path.join(dest_dir, "project-files", node["node_type"], new))
        for link in topo["topology"].get("links", []):
            link["link_id"] = str(uuid.uuid4())
            for end in link["nodes"]:
                end["node_id"] = mapping.get(end["node_id"], end["node_id"])
        path = os.path.join(dest_dir, name + ".gns3")
        with open(path, "w") as handle:
            json.dump(topo, handle, indent=4)
        return path
