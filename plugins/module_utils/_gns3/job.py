# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""What the gns3_server module does (reload, resolve projects, load, open, close, start, stop),
written against a client object (``client.GNS3Client`` or a fake) so that it is tested without Ansible
or a server. Nodes are started and stopped through ``_common.gradual.GradualScheduler``.

``run_server_job`` is the whole call: its result, or a ``ResultError`` with no secret in its message
that carries what was done before the failure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
import traceback

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._common.gradual import GradualScheduler
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.client import GNS3Client, GNS3Error, scrub
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.options import (
    DEFAULT_SKIP_NODE_TYPES,
    check_options,
    client_settings,
    is_project_path,
)

# What a node reports once started or stopped: also the action recorded for it.
TARGET_STATUS = {"start": "started", "stop": "stopped"}
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def dot_gns3_path(project):
    """Where the server keeps a project's .gns3 file (its directory when it gives no file name)."""
    path, filename = project.get("path"), project.get("filename")
    if path and filename:
        return os.path.join(path, filename)
    return path


def _ids(projects):
    return set(p.get("project_id") for p in projects or [])


class ServerJob:
    """What the gns3_server module does, against a GNS3Client (or an object that acts like one).

    ``hup(pid=None, service=None)`` sends SIGHUP to gns3server (the fallback of ``reload``);
    the module passes one that uses os.kill or ``systemctl kill -s HUP``.
    ``run()`` returns ``(result, failure)``: the module's return values and, when a project
    or node failed, the message to fail with (after everything else was attempted).
    """

    # After a reload that runs in the background (2.2's API, SIGHUP), the project list must
    # hold still this long before projects asked for by path are loaded by path instead.
    SETTLE = 1.5
    # How often the project list is read while a reload runs: 2.2 answers a list only between the reload's
    # steps, so a short poll costs the server little and ends the wait soon after the reload does.
    POLL = 0.1

    def __init__(self, client, params, check_mode=False, hup=None, clock=time.monotonic, sleep=time.sleep,
                 scheduler=None):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.hup = hup
        self.clock = clock
        self.sleep = sleep
        self.scheduler = scheduler
        self.warnings = []
        self.result = {"changed": False}
        self.specs = check_options(params)
        skip = params.get("skip_node_types")
        self.skip_types = set(DEFAULT_SKIP_NODE_TYPES if skip is None else skip)
        # GNS3 answers open/load/start/stop when the work is done: give them at least wait_timeout.
        self.long_timeout = max(getattr(client, "timeout", None) or 30, params.get("wait_timeout") or 300)

    # -- reload ------------------------------------------------------------------
    def _reload(self):
        before = self.client.projects()
        how = self._send_reload()
        # 3.x answers the API reload when it is done; 2.2 (and SIGHUP on both) reload in the
        # background: wait until the server answers and lists every project asked for.
        timeout = float(self.params.get("reload_timeout") or 60)
        return how, before, self._wait_listed(timeout, synchronous=(how == "api" and self.client.api == "v3"))

    def _send_reload(self):
        """POST /reload, or SIGHUP when that fails and a PID or unit is given: 'api' or 'sighup'."""
        try:
            self.client.reload()
            how = "api"
        except GNS3Error as exc:
            if not (self.params.get("reload_pid") or self.params.get("reload_service")):
                raise GNS3Error("POST /reload failed: %s" % exc,
                                method=exc.method, url=exc.url, status=exc.status, server_message=exc.server_message,
                                hint="set reload_pid (gns3server's PID) or reload_service (its systemd unit) so that "
                                     "SIGHUP is sent instead")
            if self.hup is None:
                raise
            self.hup(pid=self.params.get("reload_pid"), service=self.params.get("reload_service"))
            how = "sighup"
            self.warnings.append("POST /reload failed (%s); sent SIGHUP to gns3server instead" % exc.reason)
        return how

    def _wait_listed(self, timeout, synchronous=False, option="reload_timeout"):
        """The project list once it holds every project asked for by name or id (or, for paths, once it
        holds still), or as it is after ``timeout`` seconds (``option``, for the error); ``synchronous``:
        the first answer."""
        begin = self.clock()
        names = [s for s in self.specs if not is_project_path(s)]
        paths = [s for s in self.specs if is_project_path(s)]
        stable_since, previous, last_error = None, None, None
        while True:
            now = self.clock()
            projects = None
            try:
                projects = self.client.projects()
            except GNS3Error as exc:
                if exc.status in (401, 403):
                    raise
                last_error = exc
            if projects is not None:
                if previous is None or _ids(previous) != _ids(projects):
                    stable_since = now
                previous = projects
                if synchronous:
                    return projects  # 3.x answered the reload when it was done
                if not [s for s in names if self._match(projects, s) is None]:
                    if self.specs and not [s for s in paths if self._match(projects, s) is None]:
                        return projects
                    if now - stable_since >= self.SETTLE:
                        return projects
            if now - begin >= timeout:
                if projects is None:
                    raise GNS3Error("GNS3 at %s did not answer within %s (%.0f s): %s"
                                    % (self.client.base_url, option, timeout, last_error),
                                    hint="raise %s, or check the server's log" % option)
                return projects
            self.sleep(self.POLL)

    # -- projects -----------------------------------------------------------------
    @staticmethod
    def _match(projects, spec):
        if is_project_path(spec):
            for project in projects:
                path = dot_gns3_path(project)
                if path and os.path.normpath(path) == spec:
                    return project
            return None
        key = spec.lower() if UUID_RE.match(spec) else spec
        for project in projects:
            if (project.get("project_id") or "").lower() == key or project.get("project_id") == spec:
                return project
        for project in projects:
            if project.get("name") == spec:
                return project
        return None

    def _unknown(self, spec, projects):
        names = sorted(p.get("name") or "?" for p in projects)
        shown = ", ".join(names[:20]) + (" and %d more" % (len(names) - 20) if len(names) > 20 else "")
        kind = "project id" if UUID_RE.match(spec) else "project name"
        hint = ("give a name or project id the server lists (%d: %s), or the absolute path of a .gns3 file"
                % (len(names), shown or "none"))
        if self.params.get("reload"):
            hint = "the server does not list it after the reload either; %s" % hint
        elif self.params.get("list_timeout"):
            hint = "the server did not list it within list_timeout (%s s); %s" % (self.params["list_timeout"], hint)
        else:
            hint += "; a project put into projects_path after gns3server started appears with reload: true"
        where = "GNS3 %s at %s" % (self.client.server_version, self.client.base_url)
        return GNS3Error("unknown %s %r on %s" % (kind, spec, where), hint=hint)

    def _load(self, spec):
        try:
            return self.client.load_project(spec, timeout=self.long_timeout)
        except GNS3Error as exc:
            message = exc.server_message or ""
            hint = exc.hint
            if exc.status == 403 and self.client.api == "v3":
                hint = ("GNS3 3.x loads only projects under its projects_path: copy or clone the project directory "
                        "there and use reload: true (or give that path)")
            elif exc.status == 403:
                hint = "GNS3 2.2 loads a path only when it runs as a local server (local = true, or --local)"
            elif "does not exist" in message or "No such file" in message:
                hint = "the path is read on the GNS3 server: check that the .gns3 file exists there"
            elif "already exists" in message:
                hint = ("the server has another project of this name: a clone needs its own name and project id "
                        "(labfarm.massclone.gns3_project_reset)")
            raise GNS3Error("GNS3 refused to load project %s (HTTP %s): %s" % (spec, exc.status, exc.reason),
                            method=exc.method, url=exc.url,
                            status=exc.status, server_message=exc.server_message, hint=hint)

    # -- the run --------------------------------------------------------------------
    def run(self):
        began = self.clock()
        client = self.client
        if not client.connected:
            client.connect()
        result = self.result = {
            "changed": False,
            "server": {"version": client.server_version, "api": client.api, "url": client.base_url},
            "reloaded": False, "reload_method": None, "projects": []}
        state = self.params.get("state")
        projects = None
        if self.params.get("reload"):
            if self.check_mode:
                self.warnings.append("check mode: the reload was not sent; projects it would find are reported "
                                     "with status_before absent")
            elif self.params.get("reload_wait") is False:
                # The play goes on while the server reloads; a later task waits with list_timeout.
                result["reloaded"] = True
                result["reload_method"] = self._send_reload()
                result["reload_waited"] = False
                return self._finish(result, began), None
            else:
                how, before, projects = self._reload()
                result["reloaded"] = True
                result["reload_method"] = how
                result["reload_waited"] = True
                new = [p for p in projects if p.get("project_id") not in _ids(before)]
                result["projects_found"] = sorted(p.get("name") for p in new)
                if new:
                    result["changed"] = True
        if projects is None:
            list_timeout = self.params.get("list_timeout") or 0
            if list_timeout and self.specs and not self.check_mode:
                projects = self._wait_listed(float(list_timeout), option="list_timeout")
            else:
                projects = client.projects()

        # Every name and id is resolved before anything changes.
        entries = []
        for spec in self.specs:
            project = self._match(projects, spec)
            if project is None and not is_project_path(spec) and not (self.check_mode and self.params.get("reload")):
                raise self._unknown(spec, projects)
            entries.append({"spec": spec, "project": project})

        failures = []
        tasks = []
        for entry in entries:
            entry["record"] = self._apply_project(entry, state, failures)
            result["projects"].append(entry["record"])
            if not entry["record"]["error"]:
                self._list_nodes(entry, state, tasks)
        if tasks:
            self._run_nodes(tasks, state, failures)
        for entry in entries:
            record = entry["record"]
            if any(n["action"] in ("started", "stopped") for n in record["nodes"]):
                record["changed"] = True
            result["changed"] = result["changed"] or record["changed"]
        return self._finish(result, began), ("; ".join(failures) if failures else None)

    def _finish(self, result, began):
        """The result's diff, warnings and elapsed time."""
        result["diff"] = self._diff(result["projects"])
        if self.warnings:
            result["warnings"] = list(self.warnings)
        result["elapsed"] = round(self.clock() - began, 3)
        return result

    def _apply_project(self, entry, state, failures):
        spec, project = entry["spec"], entry["project"]
        record = {"spec": spec, "name": None, "project_id": None, "path": None, "status_before": "absent",
                  "status": "absent", "changed": False, "loaded": False, "nodes": [], "error": None}
        entry["nodes_listed"] = False
        try:
            if project is None:
                record["changed"] = True
                if self.check_mode:
                    # A path to load (load opens it) or a name the reload would find (closed).
                    if is_project_path(spec):
                        record["path"], status = spec, "opened"
                    else:
                        record["name"], status = spec, "closed"
                    if state in ("opened", "started"):
                        status = "opened"
                    elif state == "closed":
                        status = "closed"
                    record["status"] = status
                    return record
                project = self._load(spec)
                record["loaded"] = True
            else:
                record["status_before"] = project.get("status")
            record.update(name=project.get("name"), project_id=project.get("project_id"), path=dot_gns3_path(project))
            status = project.get("status")
            if state in ("opened", "started") and status != "opened":
                record["changed"] = True
                if not self.check_mode:
                    opened = self.client.open_project(project["project_id"], timeout=self.long_timeout)
                    status = (opened or {}).get("status") or "opened"
                else:
                    status = "opened"
            elif state == "closed" and status == "opened":
                record["changed"] = True
                if not self.check_mode:
                    self.client.close_project(project["project_id"], timeout=self.long_timeout)
                status = "closed"
            record["status"] = status
            entry["project"] = dict(project, status=status)
        except GNS3Error as exc:
            record["error"] = exc.reason
            failures.append(str(exc) if record["name"] is None else "project %s: %s" % (record["name"], exc))
            if project is not None and project.get("project_id") and not self.check_mode:
                try:
                    record["status"] = self.client.project(project["project_id"]).get("status")
                except GNS3Error:
                    pass
        return record

    def _list_nodes(self, entry, state, tasks):
        """List the nodes of an opened project; queue those to start or stop."""
        project, record = entry["project"], entry["record"]
        if project is None or project.get("status") != "opened":
            return  # a closed project holds no running node (GNS3 stops them on close) and lists none
        if self.check_mode and record["status_before"] != "opened":
            record["nodes_note"] = "check mode: the nodes are listed once the project is opened"
            return
        action = {"started": "start", "stopped": "stop"}.get(state)
        target = TARGET_STATUS.get(action)
        for node in self.client.nodes(project["project_id"]):
            info = {"name": node.get("name"), "node_id": node.get("node_id"), "node_type": node.get("node_type"),
                    "status_before": node.get("status"), "status": node.get("status"), "action": "unchanged",
                    "at": None, "seconds": None, "error": None,
                    # where a user reaches the node: what GNS3 itself reports
                    "console": node.get("console"), "console_type": node.get("console_type"),
                    "console_host": node.get("console_host")}
            record["nodes"].append(info)
            if action is None:
                continue
            if info["node_type"] in self.skip_types:
                info["action"] = "skipped"
            elif info["status"] == target or (action == "stop" and info["status"] not in ("started", "suspended")):
                info["action"] = "unchanged"
            elif self.check_mode:
                info["action"] = TARGET_STATUS[action]
                info["status"] = target
            else:
                tasks.append((record, info))
        entry["nodes_listed"] = True

    def _run_nodes(self, tasks, state, failures):
        action = "start" if state == "started" else "stop"
        client = self.client
        scheduler = self.scheduler or GradualScheduler(
            rate=self.params.get("rate"), concurrency=self.params.get("concurrency") or 1,
            wait=self.params.get("wait", True), wait_timeout=self.params.get("wait_timeout") or 300,
            clock=self.clock, sleep=self.sleep)

        def operate(task):
            record, info = task
            call = client.start_node if action == "start" else client.stop_node
            answer = call(record["project_id"], info["node_id"], timeout=self.long_timeout)
            return answer.get("status") if isinstance(answer, dict) else None

        def status_of(task):
            record, info = task
            return (client.node(record["project_id"], info["node_id"]) or {}).get("status")

        outcomes = scheduler.run(tasks, operate, status_of, TARGET_STATUS[action])
        for (record, info), outcome in zip(tasks, outcomes):
            info["at"], info["seconds"] = outcome["at"], outcome["seconds"]
            if outcome["status"] is not None:
                info["status"] = outcome["status"]
            if outcome["ok"]:
                info["action"] = TARGET_STATUS[action]
            else:
                info["action"] = "failed"
                info["error"] = outcome["error"]
                failures.append("node %s (%s) of project %s failed to %s: %s"
                                % (info["name"], info["node_type"], record["name"], action, outcome["error"]))

    @staticmethod
    def _diff(records):
        """Per project, one line before and one after: 'lab1: closed' -> 'lab1: opened, 2/3 nodes started'."""
        def line(record, status, key):
            text = "%s: %s" % (record.get("name") or record.get("spec"), status)
            nodes = record["nodes"]
            if nodes and status == "opened":
                text += ", %d/%d nodes started" % (len([n for n in nodes if n[key] == "started"]), len(nodes))
            return text + "\n"
        return {"before": "".join(line(r, r["status_before"], "status_before") for r in records),
                "after": "".join(line(r, r["status"], "status") for r in records)}


def run_server_job(params, check_mode=False, hup=None, client=None):
    """The gns3_server call on ``params`` (the module's options): its result.

    Raises ResultError(msg, **result) when something failed: a project or node that failed (after every
    other one was tried; the result holds them all), an option or a server that cannot work, or an
    unexpected error (with its traceback as ``exception``). Passwords and tokens never reach a message.
    """
    secrets = [s for s in (params.get("password"), params.get("token")) if s]
    job = None
    try:
        if client is None:
            client = GNS3Client(params["url"], **client_settings(params))
        job = ServerJob(client, params, check_mode=check_mode, hup=hup)
        result, failure = job.run()
    except GNS3Error as exc:
        partial = dict(job.result) if job else {"changed": False}
        partial.pop("diff", None)
        raise ResultError(scrub(str(exc), secrets), **partial)
    except Exception as exc:  # pylint: disable=broad-except
        raise ResultError(scrub("unexpected error: %s: %s" % (type(exc).__name__, exc), secrets),
                          exception=scrub(traceback.format_exc(), secrets), changed=False)
    if failure:
        raise ResultError(scrub(failure, secrets), **result)
    return result
