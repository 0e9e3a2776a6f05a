# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The jobs as AWX runs them: ansible-runner on a private data dir, the collection installed from its built tarball.

AWX (and Automation Platform) hands ansible-runner a private data dir: ``project/`` (the project's playbooks),
``inventory/`` (the job's inventory), ``env/extravars`` (the template's extra variables and the survey answers, all
strings) and ``env/envvars``; the collection sits in the execution environment, installed by ansible-galaxy from
its tarball. ``runner_job`` builds exactly that around one playbook and returns the job: its status, its events
(what AWX stores and shows) and the ``artifact_data`` of its ``playbook_on_stats`` event (the set_stats data AWX
keeps as the job's artifacts and hands to the next job of a workflow).
"""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(os.path.abspath(sys.executable))


def listing(top):
    """Every path under ``top`` with its type, size and mtime: what "nothing written inside" compares."""
    found = {}
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(base, name)
            stat = os.lstat(path)
            found[os.path.relpath(path, top)] = (stat.st_mode, stat.st_size, stat.st_mtime_ns)
    stat = os.lstat(top)
    found["."] = (stat.st_mode, stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory, collections_path):
    """The collection as an execution environment holds it: built into a tarball, installed from it into a
    collections path of its own (not the checkout). Returns (collections path, collection dir).

    The collections galaxy.yml depends on are the ones make setup installed (no network here): linked in from
    the venv's collections path, so that the offline install finds its dependencies met, as in the image."""
    work = tmp_path_factory.mktemp("awx-collection")
    path = str(work / "collections")
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        dependencies = yaml.safe_load(handle).get("dependencies") or {}
    for name in dependencies:
        namespace, collection = name.split(".")
        source = os.path.join(collections_path, "ansible_collections", namespace, collection)
        os.makedirs(os.path.join(path, "ansible_collections", namespace), exist_ok=True)
        os.symlink(os.path.realpath(source), os.path.join(path, "ansible_collections", namespace, collection))
    env = dict(os.environ, ANSIBLE_HOME=str(work / "ansible-home"), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)

    def galaxy(*args):
        proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection"] + list(args), env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    galaxy("build", "--output-path", str(work), ROOT)
    tarball, = glob.glob(str(work / "labfarm-massclone-*.tar.gz"))
    galaxy("install", "--offline", "-p", path, tarball)
    collection = os.path.join(path, "ansible_collections", "labfarm", "massclone")
    assert os.path.isfile(os.path.join(collection, "MANIFEST.json")) and not os.path.islink(collection)
    return path, collection


class Job:
    """One finished ansible-runner job: ``status`` and ``rc`` (runner's artifacts), ``events`` (job_events, in
    order), ``stats`` (the artifact_data of playbook_on_stats), ``stdout``."""

    def __init__(self, data_dir, ident, proc):
        self.proc = proc
        artifacts = os.path.join(data_dir, "artifacts", ident)
        self.status = self._read(os.path.join(artifacts, "status"))
        self.rc = self._read(os.path.join(artifacts, "rc"))
        self.stdout = self._read(os.path.join(artifacts, "stdout"))
        self.events = []
        for path in glob.glob(os.path.join(artifacts, "job_events", "*.json")):
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.events.sort(key=lambda event: event["counter"])
        final = [e for e in self.events if e["event"] == "playbook_on_stats"]
        self.stats = final[-1]["event_data"].get("artifact_data") if final else None

    @staticmethod
    def _read(path):
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return handle.read().strip()

    def task_paths(self):
        """The files the job's tasks came from (event_data task_path, without the line number)."""
        return sorted(set(e["event_data"]["task_path"].rsplit(":", 1)[0] for e in self.events
                          if e["event_data"].get("task_path")))

    def explain(self):
        return "status %s rc %s\n%s\n%s" % (self.status, self.rc, (self.stdout or "")[-6000:], self.proc.stderr[-2000:])


@pytest.fixture
def runner_job(installed_collection, tmp_path):
    """runner_job(playbook, inventory, survey, artifacts=None, project=None) -> Job.

    ``playbook``: the collection's playbook (``netboot.yml``); the project holds a playbook of that name that
    imports ``labfarm.massclone.<name>``, so the job runs the shipped playbook from the installed collection;
    ``project``, the text of a playbook of the user's project instead (a workflow's glue job).
    ``inventory``: the text of inventory/hosts (YAML), or a path to copy in (an inventory plugin's file).
    ``survey``: the extra variables, strings only. ``artifacts``: what a workflow passes from the previous job
    (structured, as AWX passes set_stats). Asserts that nothing was written inside the installed collection.
    """
    path, collection = installed_collection
    counter = [0]

    def _runner_job(playbook, inventory, survey, artifacts=None, project=None, timeout=300):
        assert all(isinstance(value, str) for value in survey.values()), "a survey passes strings only"
        counter[0] += 1
        data_dir = tmp_path / ("job%d" % counter[0])
        for sub in ("project", "inventory", "env"):
            (data_dir / sub).mkdir(parents=True)
        (data_dir / "project" / playbook).write_text(project or (
            "---\n- name: The collection's %s\n  ansible.builtin.import_playbook: labfarm.massclone.%s\n"
            % (playbook, playbook.rsplit(".", 1)[0])))
        if os.path.isfile(inventory):
            with open(inventory) as handle:
                (data_dir / "inventory" / os.path.basename(inventory)).write_text(handle.read())
        else:
            (data_dir / "inventory" / "hosts").write_text(inventory)
        (data_dir / "env" / "extravars").write_text(json.dumps(dict(survey, **(artifacts or {}))))
        (data_dir / "env" / "envvars").write_text(json.dumps({
            # only the installed collection: not the checkout's symlink, not a sys.path entry
            "ANSIBLE_COLLECTIONS_PATH": path,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": os.path.abspath(sys.executable),
            "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        }))
        ident = "job%d" % counter[0]
        cmd = [os.path.join(BIN, "ansible-runner"), "run", str(data_dir), "-p", playbook, "--ident", ident]
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.pop("ANSIBLE_COLLECTIONS_PATH", None)
        before = listing(collection)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=str(tmp_path))
        job = Job(str(data_dir), ident, proc)
        after = listing(collection)
        changed = sorted(set(before.items()) ^ set(after.items()))
        assert before == after, "the job wrote inside the installed collection: %s\n%s" % (changed[:20], job.explain())
        # the shipped code ran: every task came from the installed collection (or the project's import line)
        inside = [p for p in job.task_paths() if p.startswith(collection + os.sep)]
        outside = [p for p in job.task_paths() if p not in inside and not p.startswith(str(data_dir))]
        assert (inside or project) and outside == [], "tasks from outside the installed collection: %s\n%s" % (outside, job.explain())
        return job
    return _runner_job
