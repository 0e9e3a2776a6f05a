# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What benchmarks/mass_clone.py's farm measures share: a zfs-fuse pool of projects datasets, real GNS3 servers
(a controller and its remote computes on 127.0.0.1), a source project moved into a dataset of its own, and
`ansible-playbook playbooks/mass_clone.yml` runs timed as a whole and per task (benchmarks/callback_plugins/task_times.py:
names and times only; ansible-core's junit callback dumps every result at the end, which adds 1.5-2 s to a
100-clone run).

Standard library and tests/lab only, like the benchmark itself."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from lab.gns3 import GNS3Server  # noqa: E402  pylint: disable=wrong-import-position
from lab.zfs import ZfsLab  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(ROOT, "playbooks", "mass_clone.yml")
CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")

# Where a role run spends its time, by the words of the role's task names (roles/mass_clone/tasks).
# The clone-and-reset task (gns3_project_reset with clone) is split by the durations it returns.
CLONE_TASK = "snapshot into one dataset per clone, and reset"
PHASES = (("reset plan (before any dataset)", "plan"), ("zfs clone", "clone"),
          ("reset write (plan of the clones, write)", "reset"))
STEPS = (
    # sent, then (without a gradual start) waited for after the summary, which runs while the server reloads
    ("GNS3 reload", ("read the new projects", "lists the new clones")),
)


def listening_ports():
    """TCP and UDP ports something on this machine listens on."""
    out = subprocess.run(["ss", "-Htlnu"], capture_output=True, text=True, check=False).stdout
    ports = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4].rsplit(":", 1)[-1].isdigit():
            ports.add(int(fields[4].rsplit(":", 1)[-1]))
    return ports


def check_free(ranges):
    """Stop when a port of ``ranges`` [(first, last, what)] is in use: GNS3 would silently replace it."""
    busy = listening_ports()
    for first, last, what in ranges:
        taken = sorted(port for port in busy if first <= port <= last)
        if taken:
            raise SystemExit("%s %d-%d: ports %s are in use on this machine (ss -ltnu): pick other ranges"
                             % (what, first, last, ", ".join(map(str, taken[:10]))))


def start_all(servers):
    """Start GNS3 servers at once (each takes seconds); raise with every failure."""
    errors = []

    def start(server):
        try:
            server.start()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("GNS3 %s on port %d: %s" % (server.version, server.port, exc))
    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit("\n".join(errors))


def make_source(server, name, nodes, qemu_every=0):
    """A project made by the server itself through its API, then closed: `nodes` VPCS (every `qemu_every`-th
    node a qemu node with one adapter instead, so the clones have MAC addresses to check), linked in pairs."""
    project = server.create_project(name)
    ids = []
    for index in range(nodes):
        if qemu_every and index % qemu_every == qemu_every - 1:
            ids.append(server.add_qemu(project["project_id"], "VM%02d" % index)["node_id"])
        else:
            ids.append(server.add_vpcs(project["project_id"], "PC%02d" % index)["node_id"])
    for index in range(0, nodes - 1, 2):
        server.add_link(project["project_id"], ids[index], ids[index + 1])
    server.close_project(project["project_id"])
    return project["project_id"]


class Bench:
    """One zfs-fuse pool (lfbench<random>) and the GNS3 servers of one part of the benchmark; close() stops
    the servers by PID and destroys the pool (the zfs-fuse daemon only if this object started it)."""

    def __init__(self, tag, size="2G"):
        self.lab = ZfsLab()
        self.lab.ensure_daemon()
        self.tmp = tempfile.mkdtemp(prefix="labfarm-bench-%s-" % tag)
        self.pool = self.lab.create_pool("lfbench%s" % uuid.uuid4().hex[:6], os.path.join(self.tmp, "zfs"), size=size)
        self.servers = []

    def projects_dataset(self, relative):
        """A projects dataset of the pool and where it is mounted."""
        dataset = self.pool.create(self.pool.path(relative))
        return dataset, os.path.join(self.pool.mountpoint, relative)

    def server(self, name, **settings):
        server = GNS3Server("2.2", os.path.join(self.tmp, name), **settings)
        self.servers.append(server)
        return server

    def source_dataset(self, server, dataset, root, name, nodes, qemu_every=0):
        """The source made by `server`, moved into a dataset of its own, as GNS3 farms on ZFS lay projects out."""
        if qemu_every:
            server.tiny_image()
        source_id = make_source(server, name, nodes, qemu_every)
        plain = os.path.join(root, source_id)
        staging = os.path.join(self.tmp, "staging-" + source_id)
        shutil.move(plain, staging)
        self.pool.create(dataset + "/" + source_id)
        for entry in os.listdir(staging):
            shutil.move(os.path.join(staging, entry), os.path.join(plain, entry))
        server.api("POST", "/reload")
        return source_id

    def inventory(self, tag, hostvars):
        path = os.path.join(self.tmp, "inventory-%s.json" % tag)
        host = dict(hostvars, ansible_connection="local", ansible_python_interpreter=os.path.abspath(sys.executable))
        with open(path, "w") as handle:
            json.dump({"gns3_servers": {"hosts": {"localhost": host}}}, handle)
        return path

    def playbook(self, tag, hostvars):
        """Start `ansible-playbook playbooks/mass_clone.yml` (not waited for): a Run."""
        return Run(self, tag, self.inventory(tag, hostvars))

    def close(self):
        for server in self.servers:
            server.stop()
        for _attempt in range(10):
            if subprocess.run(["zpool", "destroy", "-f", self.pool.name], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(1)
        else:
            # its vdev stays, so a later `zpool destroy -f` can still take the pool away (an UNAVAIL pool cannot)
            print("pool %s is still busy: destroy it later with zpool destroy -f %s, then remove %s"
                  % (self.pool.name, self.pool.name, self.tmp))
            return
        self.lab.stop_daemon()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Run:
    """One ansible-playbook process; wait() returns its wall time and stops the benchmark when it fails."""

    def __init__(self, bench, tag, inventory):
        self.tag = tag
        self.times = os.path.join(bench.tmp, "task-times-%s.json" % tag)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=os.path.join(bench.tmp, "ansible-" + tag),
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_CALLBACK_PLUGINS=CALLBACKS,
                   ANSIBLE_CALLBACKS_ENABLED="task_times", TASK_TIMES_FILE=self.times)
        self.log = open(os.path.join(bench.tmp, "playbook-%s.log" % tag), "w+")
        self.start = time.perf_counter()
        self.proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", inventory, PLAYBOOK],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.elapsed = None

    def wait(self):
        self.proc.wait()
        self.elapsed = time.perf_counter() - self.start
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        if self.proc.returncode != 0:
            raise SystemExit("mass_clone.yml (%s) failed:\n%s" % (self.tag, output[-5000:]))
        return self.elapsed

    def tasks(self, durations=False):
        """[(task, seconds)] of every task the run ran, in order (the task_times callback's report); with
        `durations`, [(task, seconds, the durations its result returned or None)]."""
        if not os.path.exists(self.times):
            return []
        with open(self.times) as handle:
            return [tuple(entry) if durations else tuple(entry[:2]) for entry in json.load(handle)]

    def steps(self):
        """[(step, seconds)]: the phases of the clone-and-reset task (PHASES, the rest of that task's time being
        Ansible's), then STEPS, then the rest of the run (Ansible, the role's other tasks)."""
        tasks = self.tasks(durations=True)
        out = []
        for step, key in PHASES:
            out.append((step, sum((durations or {}).get(key, 0) for name, _s, durations in tasks if CLONE_TASK in name)))
        for step, words in STEPS:
            out.append((step, sum(seconds for name, seconds, _d in tasks if any(word in name for word in words))))
        out.append(("the rest (Ansible, the role's other tasks)", self.elapsed - sum(seconds for _s, seconds in out)))
        return out


def project_files(root, skip=()):
    """{directory: parsed .gns3 file} of the projects under root, but the directories in skip."""
    out = {}
    for entry in sorted(os.listdir(root)):
        directory = os.path.join(root, entry)
        if entry in skip or not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            if name.endswith(".gns3") and not name.startswith("."):
                with open(os.path.join(directory, name)) as handle:
                    out[directory] = json.load(handle)
    return out


def duplicates(projects, per_compute=False):
    """(console ports, MACs) held by more than one node of `projects`; console ports per compute when asked."""
    consoles, macs = {}, {}
    for data in projects.values():
        for node in data["topology"]["nodes"]:
            if node.get("console") is not None:
                key = (node.get("compute_id"), node["console"]) if per_compute else node["console"]
                consoles[key] = consoles.get(key, 0) + 1
            mac = (node.get("properties") or {}).get("mac_address")
            if mac:
                macs[mac] = macs.get(mac, 0) + 1
    return (sorted(k for k, n in consoles.items() if n > 1), sorted(k for k, n in macs.items() if n > 1),
            len(consoles), len(macs))
