# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gns3_server job (plugins/module_utils/_gns3/job.py, options.py) and the gradual scheduler it
drives (_common/gradual.py), without a server.

What a real GNS3 server answers is tested in tests/integration/gns3 (2.2.61 and 3.0.6); here the
clock and the client are injected to pin down the pure logic: pacing, waiting, failure collection,
option checks, reload fallback, check mode and idempotency.
"""

import threading
import time

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._common.gradual import GradualScheduler
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.client import GNS3Error
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.job import ServerJob, run_server_job
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.options import (
    DEFAULT_SKIP_NODE_TYPES,
    check_options,
)


# -- fakes ----------------------------------------------------------------------

class FakeClock:
    """time.monotonic and time.sleep over a virtual clock."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class FakeClient:
    """An in-memory controller with the GNS3Client methods ServerJob uses."""

    def __init__(self, projects=(), nodes=None, api="v3", failing=None, reload_error=None):
        self.api = api
        self.connected = True
        self.server_version = "3.0.6" if api == "v3" else "2.2.61"
        self.base_url = "http://gns3.test:3080"
        self._projects = [dict(p) for p in projects]
        self._nodes = dict((k, [dict(n) for n in v]) for k, v in (nodes or {}).items())
        self.failing = failing or {}
        self.reload_error = reload_error
        self.calls = []
        self.on_reload = None

    def _project(self, project_id):
        for project in self._projects:
            if project["project_id"] == project_id:
                return project
        raise GNS3Error("404", status=404, server_message="Project ID %s doesn't exist" % project_id)

    def projects(self):
        return [dict(p) for p in self._projects]

    def project(self, project_id):
        return dict(self._project(project_id))

    def open_project(self, project_id, timeout=None):
        self.calls.append(("open", project_id))
        self._project(project_id)["status"] = "opened"
        return dict(self._project(project_id))

    def close_project(self, project_id, timeout=None):
        self.calls.append(("close", project_id))
        self._project(project_id)["status"] = "closed"
        for node in self._nodes.get(project_id, []):
            node["status"] = "stopped"

    def load_project(self, path, timeout=None):
        self.calls.append(("load", path))
        project = {"name": path.rsplit("/", 1)[1][:-5], "project_id": "id-" + path, "status": "opened",
                   "path": path.rsplit("/", 1)[0], "filename": path.rsplit("/", 1)[1]}
        self._projects.append(project)
        return dict(project)

    def reload(self):
        self.calls.append(("reload",))
        if self.reload_error:
            raise self.reload_error
        if self.on_reload:
            self.on_reload()

    def nodes(self, project_id):
        if self._project(project_id)["status"] != "opened":
            return []
        return [dict(n) for n in self._nodes.get(project_id, [])]

    def _node(self, project_id, node_id):
        return [n for n in self._nodes[project_id] if n["node_id"] == node_id][0]

    def node(self, project_id, node_id):
        return dict(self._node(project_id, node_id))

    def start_node(self, project_id, node_id, timeout=None):
        self.calls.append(("start", node_id))
        if node_id in self.failing:
            raise GNS3Error("GNS3 answered HTTP 409", status=409, server_message=self.failing[node_id])
        self._node(project_id, node_id)["status"] = "started"

    def stop_node(self, project_id, node_id, timeout=None):
        self.calls.append(("stop", node_id))
        self._node(project_id, node_id)["status"] = "stopped"

    def changes(self):
        return [c for c in self.calls if c[0] != "reload"]


def project(name, status="closed"):
    return {"name": name, "project_id": "pid-" + name, "status": status,
            "path": "/srv/gns3/projects/" + name, "filename": name + ".gns3"}


def node(name, node_type="qemu", status="stopped"):
    return {"name": name, "node_id": "nid-" + name, "node_type": node_type, "status": status}


def params(**kwargs):
    base = {"projects": [], "state": None, "rate": 0, "concurrency": 1, "wait": True, "wait_timeout": 60,
            "skip_node_types": None, "reload": False, "reload_pid": None, "reload_service": None,
            "reload_timeout": 10}
    base.update(kwargs)
    return base


def run_job(client, check_mode=False, hup=None, **kwargs):
    clock = FakeClock()
    job = ServerJob(client, params(**kwargs), check_mode=check_mode, hup=hup, clock=clock, sleep=clock.sleep)
    return job.run()


# -- the gradual scheduler ----------------------------------------------------------

def test_rate_spaces_the_launches():
    clock = FakeClock()
    scheduler = GradualScheduler(rate=2, concurrency=1, wait=False, clock=clock, sleep=clock.sleep)
    results = scheduler.run(list(range(5)), lambda item: "started", lambda item: "started", "started")
    assert [r["at"] for r in results] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(r["ok"] and r["status"] == "started" for r in results)


def test_no_rate_launches_at_once():
    clock = FakeClock()
    scheduler = GradualScheduler(rate=0, concurrency=1, wait=False, clock=clock, sleep=clock.sleep)
    results = scheduler.run([1, 2, 3], lambda item: "started", lambda item: "started", "started")
    assert [r["at"] for r in results] == [0.0, 0.0, 0.0]


def test_wait_polls_until_the_target_status():
    clock = FakeClock()
    answers = {"a": ["stopped", "stopped", "started"]}

    def status_of(item):
        return answers[item].pop(0)

    scheduler = GradualScheduler(rate=1, wait=True, poll_interval=0.5, clock=clock, sleep=clock.sleep)
    (result,) = scheduler.run(["a"], lambda item: None, status_of, "started")
    assert result["ok"] and result["status"] == "started"
    assert result["seconds"] == 1.5


def test_a_slow_node_holds_its_slot_and_a_stall_is_no_burst():
    """Each node takes 2 s to report started: with one slot, launches are 2 s apart, not bunched."""
    clock = FakeClock()
    begun = {}

    def operate(item):
        begun[item] = clock()
        return "stopped"

    def status_of(item):
        return "started" if clock() - begun[item] >= 2 else "stopped"

    scheduler = GradualScheduler(rate=10, concurrency=1, wait=True, poll_interval=0.5, clock=clock, sleep=clock.sleep)
    results = scheduler.run(["a", "b", "c"], operate, status_of, "started")
    ats = [r["at"] for r in results]
    assert all(later - earlier >= 2 for earlier, later in zip(ats, ats[1:])), ats
    assert [r["seconds"] for r in results] == [2.0, 2.0, 2.0]


def test_wait_timeout_fails_the_node_only():
    clock = FakeClock()
    scheduler = GradualScheduler(rate=0, wait=True, wait_timeout=3, poll_interval=1, clock=clock, sleep=clock.sleep)
    results = scheduler.run(["stuck", "ok"], lambda item: "stopped" if item == "stuck" else "started",
                            lambda item: "stopped" if item == "stuck" else "started", "started")
    assert results[0]["ok"] is False and "still stopped" in results[0]["error"] and "wait_timeout" in results[0]["error"]
    assert results[0]["status"] == "stopped" and results[0]["seconds"] >= 3
    assert results[1]["ok"] is True


def test_failures_carry_gns3s_message_and_the_others_go_on():
    clock = FakeClock()

    def operate(item):
        if item == "bad":
            raise GNS3Error("GNS3 answered HTTP 409 to POST ...", status=409, server_message="VPCS too old")
        if item == "boom":
            raise RuntimeError("socket closed")
        return "started"

    scheduler = GradualScheduler(rate=0, wait=False, clock=clock, sleep=clock.sleep)
    results = scheduler.run(["bad", "boom", "good"], operate, lambda item: "stopped", "started")
    assert results[0] == dict(results[0], ok=False, error="VPCS too old", status="stopped")
    assert results[1]["ok"] is False and results[1]["error"] == "RuntimeError: socket closed"
    assert results[2]["ok"] is True


def test_concurrency_bounds_the_nodes_in_flight():
    """Real threads and time: 6 nodes of 0.1 s, 2 at once -> never more than 2, at least 0.3 s."""
    lock = threading.Lock()
    running = [0, 0]

    def operate(item):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return "started"

    scheduler = GradualScheduler(rate=0, concurrency=2, wait=True)
    began = time.monotonic()
    results = scheduler.run(list(range(6)), operate, lambda item: "started", "started")
    assert time.monotonic() - began >= 0.3
    assert running[1] <= 2 and scheduler.max_in_flight <= 2
    assert all(r["ok"] for r in results)


def test_rate_with_threads_is_a_lower_bound():
    scheduler = GradualScheduler(rate=20, concurrency=4, wait=False)
    results = scheduler.run(list(range(5)), lambda item: "started", lambda item: "started", "started")
    ats = sorted(r["at"] for r in results)
    assert ats[-1] - ats[0] >= 4 / 20.0 - 0.002


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": -1}, "rate must be >= 0"),
    ({"concurrency": 0}, "concurrency must be >= 1"),
    ({"wait_timeout": 0}, "wait_timeout must be > 0"),
])
def test_scheduler_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradualScheduler(**kwargs)


# -- option checks ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"projects": ["/srv/gns3/projects/lab1"], "state": "present"}, "must name the project's .gns3 file"),
    ({"projects": ["~/GNS3/projects/a/a.gns3"]}, "must be absolute"),
    ({"projects": [""]}, r"projects\[0\] is ''"),
    ({"state": "started"}, "state started needs projects"),
    ({"state": "running", "projects": ["a"]}, "state must be one of"),
    ({"rate": -1}, "rate must be >= 0"),
    ({"concurrency": 0}, "concurrency must be >= 1"),
    ({"wait_timeout": 0}, "wait_timeout must be > 0"),
    ({"reload_pid": 1234}, "set reload: true"),
    ({"reload": True, "reload_pid": 1}, "reload_pid must be the PID"),
    ({"skip_node_types": [""]}, "skip_node_types must be a list"),
])
def test_check_options(kwargs, message):
    with pytest.raises(GNS3Error, match=message):
        check_options(params(**kwargs))


def test_check_options_normalizes_and_deduplicates():
    assert check_options(params(projects=["a", "/x/y/../y/y.gns3", "a"])) == ["a", "/x/y/y.gns3"]


# -- the job -----------------------------------------------------------------------

def test_unknown_project_fails_before_any_change():
    client = FakeClient([project("lab1"), project("lab2")])
    with pytest.raises(GNS3Error) as err:
        run_job(client, projects=["lab1", "nope"], state="opened")
    assert "unknown project name 'nope'" in str(err.value) and "lab1, lab2" in str(err.value)
    assert "reload: true" in str(err.value)
    assert client.calls == []


def test_open_then_idempotent():
    client = FakeClient([project("lab1"), project("lab2", "opened")])
    result, failure = run_job(client, projects=["lab1", "pid-lab2"], state="opened")
    assert failure is None and result["changed"] is True
    assert [(p["name"], p["status_before"], p["status"], p["changed"]) for p in result["projects"]] == [
        ("lab1", "closed", "opened", True), ("lab2", "opened", "opened", False)]
    assert client.changes() == [("open", "pid-lab1")]
    result, failure = run_job(client, projects=["lab1", "lab2"], state="opened")
    assert result["changed"] is False and client.changes() == [("open", "pid-lab1")]


def test_start_skips_unchanged_and_collects_failures():
    client = FakeClient([project("lab1")], nodes={"pid-lab1": [
        node("pc1"), node("pc2", status="started"), node("vp", "vpcs"), node("cl", "cloud"), node("pc3")]},
        failing={"nid-vp": "VPCS executable version must be >= 0.6.1"})
    result, failure = run_job(client, projects=["lab1"], state="started")
    actions = dict((n["name"], n["action"]) for n in result["projects"][0]["nodes"])
    assert actions == {"pc1": "started", "pc2": "unchanged", "vp": "failed", "cl": "skipped", "pc3": "started"}
    assert failure == "node vp (vpcs) of project lab1 failed to start: VPCS executable version must be >= 0.6.1"
    assert result["changed"] is True
    # the failed node was attempted once; the others after it still were
    assert [c for c in client.calls if c[0] == "start"] == [("start", "nid-pc1"), ("start", "nid-vp"), ("start", "nid-pc3")]
    assert result["diff"] == {"before": "lab1: closed\n", "after": "lab1: opened, 3/5 nodes started\n"}


def test_started_twice_is_unchanged():
    client = FakeClient([project("lab1")], nodes={"pid-lab1": [node("pc1"), node("pc2")]})
    run_job(client, projects=["lab1"], state="started")
    result, failure = run_job(client, projects=["lab1"], state="started")
    assert failure is None and result["changed"] is False
    assert [n["action"] for n in result["projects"][0]["nodes"]] == ["unchanged", "unchanged"]


def test_stop_leaves_closed_projects_and_stopped_nodes():
    client = FakeClient([project("lab1", "opened"), project("lab2")], nodes={
        "pid-lab1": [node("a", status="started"), node("b"), node("s", "ethernet_switch", "started")],
        "pid-lab2": [node("c")]})
    result, failure = run_job(client, projects=["lab1", "lab2"], state="stopped")
    assert failure is None
    assert [(n["name"], n["action"], n["status"]) for n in result["projects"][0]["nodes"]] == [
        ("a", "stopped", "stopped"), ("b", "unchanged", "stopped"), ("s", "skipped", "started")]
    assert result["projects"][1]["nodes"] == [] and result["projects"][1]["changed"] is False
    assert client.changes() == [("stop", "nid-a")]


def test_custom_skip_node_types():
    client = FakeClient([project("lab1", "opened")], nodes={"pid-lab1": [node("q"), node("v", "vpcs")]})
    result = run_job(client, projects=["lab1"], state="started", skip_node_types=["vpcs"])[0]
    assert [n["action"] for n in result["projects"][0]["nodes"]] == ["started", "skipped"]
    assert "cloud" in DEFAULT_SKIP_NODE_TYPES and "qemu" not in DEFAULT_SKIP_NODE_TYPES


def test_check_mode_sends_nothing():
    client = FakeClient([project("lab1"), project("lab2", "opened")],
                        nodes={"pid-lab1": [node("x")], "pid-lab2": [node("a"), node("b", status="started")]})
    result, failure = run_job(client, check_mode=True, projects=["lab1", "lab2", "/srv/new/new.gns3"],
                              state="started")
    assert failure is None and client.calls == []
    first, second, third = result["projects"]
    assert (first["status_before"], first["status"], first["changed"]) == ("closed", "opened", True)
    assert [(n["name"], n["action"]) for n in second["nodes"]] == [("a", "started"), ("b", "unchanged")]
    assert (third["status_before"], third["status"], third["path"]) == ("absent", "opened", "/srv/new/new.gns3")
    assert result["changed"] is True


def test_load_by_path_then_known():
    client = FakeClient([project("lab1")])
    result = run_job(client, projects=["/srv/gns3/projects/new/new.gns3"], state="present")[0]
    record = result["projects"][0]
    assert record["loaded"] is True and record["name"] == "new" and result["changed"] is True
    result = run_job(client, projects=["/srv/gns3/projects/new/new.gns3"], state="present")[0]
    assert result["changed"] is False and result["projects"][0]["loaded"] is False
    assert client.changes() == [("load", "/srv/gns3/projects/new/new.gns3")]


def test_load_refused_outside_projects_path_on_v3():
    class Refusing(FakeClient):
        def load_project(self, path, timeout=None):
            raise GNS3Error("GNS3 answered HTTP 403", method="POST", url="u", status=403,
                            server_message="The path %s is not allowed" % path)
    client = Refusing([project("lab1")])
    result, failure = run_job(client, projects=["/tmp/x/x.gns3", "lab1"], state="opened")
    assert "GNS3 refused to load project /tmp/x/x.gns3 (HTTP 403): The path /tmp/x/x.gns3 is not allowed" in failure
    assert "only projects under its projects_path" in failure
    assert result["projects"][0]["error"] == "The path /tmp/x/x.gns3 is not allowed"
    # the other project was still handled
    assert result["projects"][1]["status"] == "opened"


def test_reload_waits_for_the_projects_asked_for():
    client = FakeClient([project("lab1")], api="v2")
    polls = []
    original = client.projects

    def projects():
        polls.append(1)
        if len(polls) == 3:  # 2.2 reloads in the background: the clone shows up a little later
            client._projects.append(project("clone1"))
        return original()
    client.projects = projects
    result, failure = run_job(client, reload=True, projects=["clone1"], state="present")
    assert failure is None and result["reloaded"] is True and result["reload_method"] == "api"
    assert result["projects_found"] == ["clone1"] and result["changed"] is True
    assert result["projects"][0]["status"] == "closed"


def test_reload_that_finds_nothing_is_unchanged():
    client = FakeClient([project("lab1")])
    result = run_job(client, reload=True)[0]
    assert result["reloaded"] is True and result["changed"] is False and result["projects_found"] == []


def test_background_reload_without_projects_waits_for_the_list_to_settle():
    client = FakeClient([project("lab1")], api="v2")
    clock = FakeClock()
    original = client.projects

    def projects():
        if clock() >= 1.0 and len(client._projects) == 1:  # the reload finds a clone after 1 s
            client._projects.append(project("late"))
        return original()
    client.projects = projects
    job = ServerJob(client, params(reload=True), clock=clock, sleep=clock.sleep)
    result = job.run()[0]
    assert result["projects_found"] == ["late"] and clock() >= 1.0 + ServerJob.SETTLE


def test_v3_reload_is_synchronous():
    client = FakeClient([project("lab1")])
    clock = FakeClock()
    job = ServerJob(client, params(reload=True, projects=["lab1"]), clock=clock, sleep=clock.sleep)
    job.run()
    assert clock() == 0


def test_reload_timeout_names_the_missing_project():
    client = FakeClient([project("lab1")], api="v2")
    with pytest.raises(GNS3Error) as err:
        run_job(client, reload=True, projects=["ghost"], reload_timeout=5)
    assert "unknown project name 'ghost'" in str(err.value) and "after the reload" in str(err.value)


def test_reload_falls_back_to_sighup():
    sent = []
    client = FakeClient([project("lab1")], reload_error=GNS3Error(
        "GNS3 answered HTTP 404 to POST http://gns3.test:3080/v2/reload: Not Found", status=404, server_message="Not Found"))
    client.api = "v2"

    def hup(pid=None, service=None):
        sent.append((pid, service))
        client._projects.append(project("clone1"))
    result, failure = run_job(client, hup=hup, reload=True, reload_pid=4242, projects=["clone1"], state="present")
    assert sent == [(4242, None)] and result["reload_method"] == "sighup"
    assert "sent SIGHUP" in result["warnings"][0] and failure is None


def test_reload_failure_without_fallback_says_how_to_fix():
    client = FakeClient([project("lab1")], reload_error=GNS3Error("boom", status=500, server_message="boom"))
    with pytest.raises(GNS3Error, match="set reload_pid .* or reload_service"):
        run_job(client, reload=True)


def test_check_mode_does_not_reload():
    client = FakeClient([project("lab1")])
    result, failure = run_job(client, check_mode=True, reload=True, projects=["lab1", "clone9"], state="opened")
    assert client.calls == [] and result["reloaded"] is False and failure is None
    assert result["projects"][1]["status_before"] == "absent" and result["projects"][1]["status"] == "opened"
    assert "check mode" in result["warnings"][0]


def test_project_open_failure_is_reported_and_others_go_on():
    class Failing(FakeClient):
        def open_project(self, project_id, timeout=None):
            if project_id == "pid-bad":
                raise GNS3Error("GNS3 answered HTTP 409 to POST .../open: no space", status=409, server_message="no space")
            return FakeClient.open_project(self, project_id, timeout)
    client = Failing([project("bad"), project("good")], nodes={"pid-good": [node("n1")]})
    result, failure = run_job(client, projects=["bad", "good"], state="started")
    assert failure.startswith("project bad: GNS3 answered HTTP 409")
    assert result["projects"][0]["error"] == "no space"
    assert [n["action"] for n in result["projects"][1]["nodes"]] == ["started"]


# -- the whole call: the result, or an error that carries it -------------------------

SECRET = "S3cret-Passw0rd"


def test_run_server_job_returns_the_result():
    client = FakeClient([project("lab1")])
    result = run_server_job(params(projects=["lab1"], state="opened"), client=client)
    assert result["changed"] is True and result["projects"][0]["status"] == "opened"


def test_a_failed_node_is_an_error_that_carries_every_project_and_no_secret():
    client = FakeClient([project("lab1", "opened")], nodes={"pid-lab1": [node("bad"), node("good")]},
                        failing={"nid-bad": "refused for user %s" % SECRET})
    with pytest.raises(ResultError) as err:
        run_server_job(params(projects=["lab1"], state="started", password=SECRET), client=client)
    assert "node bad (qemu) of project lab1 failed to start" in err.value.msg and SECRET not in err.value.msg
    assert err.value.result["changed"] is True
    assert [n["action"] for n in err.value.result["projects"][0]["nodes"]] == ["failed", "started"]


def test_an_option_that_cannot_work_is_an_error_before_anything_is_sent():
    client = FakeClient([project("lab1")])
    with pytest.raises(ResultError, match="state started needs projects") as err:
        run_server_job(params(state="started"), client=client)
    assert err.value.result == {"changed": False} and client.calls == []


def test_a_bad_url_is_an_error_without_its_password():
    with pytest.raises(ResultError, match="is not an http:// or https:// URL") as err:
        run_server_job(params(url="ftp://admin:%s@gns3.test" % SECRET, password=SECRET))
    assert SECRET not in err.value.msg and err.value.result == {"changed": False}


def test_an_unexpected_error_keeps_its_traceback_without_secrets():
    class Broken(FakeClient):
        def projects(self):
            raise RuntimeError("socket closed after sending token %s" % SECRET)
    with pytest.raises(ResultError) as err:
        run_server_job(params(token=SECRET), client=Broken())
    assert err.value.msg == "unexpected error: RuntimeError: socket closed after sending token ********"
    assert "Traceback" in err.value.result["exception"] and SECRET not in err.value.result["exception"]
    assert err.value.result["changed"] is False


def test_nodes_report_their_console_as_gns3_does():
    consoled = dict(node("pc1", "vpcs"), console=5004, console_type="telnet", console_host="10.0.0.21")
    client = FakeClient([project("lab1")], nodes={"pid-lab1": [consoled, node("sw1", "ethernet_switch")]})
    result, failure = run_job(client, projects=["lab1"], state="opened")
    assert failure is None
    assert [(n["name"], n["console"], n["console_type"], n["console_host"]) for n in result["projects"][0]["nodes"]] == [
        ("pc1", 5004, "telnet", "10.0.0.21"), ("sw1", None, None, None)]


# -- a reload the play does not wait for, and the task that waits later -----------------


def test_reload_without_waiting_sends_it_and_returns_at_once():
    client = FakeClient([project("lab1")], api="v2")
    clock = FakeClock()
    job = ServerJob(client, params(reload=True, reload_wait=False, projects=["clone1"], state="present"),
                    clock=clock, sleep=clock.sleep)
    result, failure = job.run()
    assert failure is None and client.calls == [("reload",)] and clock() == 0
    assert result["reloaded"] is True and result["reload_method"] == "api" and result["reload_waited"] is False
    assert result["changed"] is False and result["projects"] == []   # the clones are not resolved here


def test_a_later_task_waits_until_the_server_lists_the_projects():
    client = FakeClient([project("lab1")], api="v2")
    clock = FakeClock()
    original = client.projects

    def projects():
        if clock() >= 1.2 and len(client._projects) == 1:   # the background reload finds the clone
            client._projects.append(project("clone1"))
        return original()
    client.projects = projects
    job = ServerJob(client, params(projects=["clone1"], state="present", list_timeout=30), clock=clock, sleep=clock.sleep)
    result, failure = job.run()
    assert failure is None and result["projects"][0]["name"] == "clone1" and result["projects"][0]["status"] == "closed"
    assert 1.2 <= clock() < 1.2 + 2 * ServerJob.POLL and set(clock.sleeps) == {ServerJob.POLL}
    assert "reload_waited" not in result and result["changed"] is False


def test_list_timeout_names_the_project_the_server_never_listed():
    client = FakeClient([project("lab1")], api="v2")
    clock = FakeClock()
    job = ServerJob(client, params(projects=["ghost"], state="present", list_timeout=3), clock=clock, sleep=clock.sleep)
    with pytest.raises(GNS3Error) as err:
        job.run()
    assert "unknown project name 'ghost'" in str(err.value)
    assert "did not list it within list_timeout (3 s)" in str(err.value) and clock() >= 3


def test_without_list_timeout_an_unknown_project_fails_at_once():
    client = FakeClient([project("lab1")], api="v2")
    clock = FakeClock()
    job = ServerJob(client, params(projects=["ghost"], state="present"), clock=clock, sleep=clock.sleep)
    with pytest.raises(GNS3Error, match="appears with reload: true"):
        job.run()
    assert clock() == 0


@pytest.mark.parametrize("extra, words", [
    ({"state": "started"}, "cannot also make the projects started"),
    ({"state": "present", "projects": ["/srv/gns3/projects/x/x.gns3"]}, "cannot load projects by path"),
    ({"list_timeout": -1, "reload_wait": True}, "list_timeout must be >= 0 seconds"),
])
def test_reload_wait_false_and_list_timeout_refuse_what_cannot_work(extra, words):
    options = dict({"reload": True, "reload_wait": False, "projects": ["clone1"]}, **extra)
    client = FakeClient([project("lab1")], api="v2")
    with pytest.raises(GNS3Error, match=words):
        ServerJob(client, params(**options))
    assert client.calls == []
