# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labfarm.massclone.gns3_server against real GNS3 servers, 2.2.61 and 3.0.6 (conftest.py).

Projects are built through the API with qemu nodes (TCG, 32 MiB, an empty 1 MiB qcow2: QEMU sits
in its BIOS, GNS3 reports the node started) and VPCS nodes (Debian's vpcs 0.5b2, which GNS3
refuses to start: the failure path). Timing assertions are lower bounds only.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

MODULE = "labfarm.massclone.gns3_server"
VPCS_REFUSED = "VPCS executable version must be >= 0.6.1"


def node_status(gns3, project_id):
    return dict((n["name"], n["status"]) for n in gns3.nodes(project_id))


def by_name(record):
    return dict((n["name"], n) for n in record["nodes"])


def test_report_only_probes_the_api(gns3, conn, run_module):
    result = run_module(MODULE, dict(conn))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["server"]["version"] == gns3.server_version
    assert result["server"]["api"] == gns3.api_version
    assert result["projects"] == [] and result["reloaded"] is False


def test_wrong_api_version_is_named(gns3, conn, run_module):
    other = "v2" if gns3.api_version == "v3" else "v3"
    result = run_module(MODULE, dict(conn, api_version=other))
    assert result["failed"]
    assert "no /%s API" % other in result["msg"] and "api_version" in result["msg"]


def test_reload_makes_a_copied_project_appear(gns3, conn, run_module, unique):
    source = gns3.build_project("src-" + unique, qemu=["pc1"])
    name = "copy-" + unique
    path = gns3.copy_project(source, name)
    assert gns3.project(name) is None
    args = dict(conn, reload=True, projects=[name], state="present")

    checked = run_module(MODULE, args, check=True, diff=True)
    assert not checked.get("failed"), checked
    assert checked["changed"] is True and checked["reloaded"] is False
    assert checked["projects"][0]["status_before"] == "absent"
    assert gns3.project(name) is None, "check mode reloaded the server"

    began = time.monotonic()
    result = run_module(MODULE, args, diff=True)
    assert not result.get("failed"), result
    assert result["reloaded"] is True and result["reload_method"] == "api"
    assert result["changed"] is True
    assert name in result["projects_found"]
    record = result["projects"][0]
    assert record["name"] == name and record["status"] == "closed" and record["path"] == path
    assert gns3.project(name)["status"] == "closed"
    print("reload through the module took %.2f s (module elapsed %.2f s)" % (time.monotonic() - began, result["elapsed"]))

    again = run_module(MODULE, args)
    assert not again.get("failed"), again
    assert again["changed"] is False and again["projects_found"] == []


def test_load_by_path(gns3, conn, run_module, unique):
    source = gns3.build_project("lsrc-" + unique, qemu=["pc1"])
    name = "loaded-" + unique
    path = gns3.copy_project(source, name)
    args = dict(conn, projects=[path], state="present")

    checked = run_module(MODULE, args, check=True)
    assert checked["changed"] is True and checked["projects"][0]["status_before"] == "absent"
    assert gns3.project(name) is None

    result = run_module(MODULE, args)
    assert not result.get("failed"), result
    record = result["projects"][0]
    assert result["changed"] is True and record["loaded"] is True
    assert record["name"] == name and record["path"] == path
    # GNS3 opens a project it loads (controller.load_project(load=True)).
    assert gns3.project(name)["status"] == "opened"

    again = run_module(MODULE, args)
    assert again["changed"] is False and again["projects"][0]["loaded"] is False


def test_load_outside_projects_path(gns3, conn, run_module, unique, tmp_path):
    source = gns3.build_project("osrc-" + unique)
    name = "outside-" + unique
    path = gns3.copy_project(source, name, dest_dir=tmp_path / name)
    result = run_module(MODULE, dict(conn, projects=[path], state="present"))
    if gns3.major >= 3:
        gns3.expect_errors("is not allowed")
        assert result["failed"]
        assert path in result["msg"] and "projects_path" in result["msg"] and "403" in result["msg"]
        assert gns3.project(name) is None
    else:
        # 2.2 running as a local server loads any path.
        assert not result.get("failed"), result
        assert gns3.project(name)["path"] == str(tmp_path / name)


def test_open_close_idempotent(gns3, conn, run_module, unique):
    project = gns3.build_project("oc-" + unique, qemu=["pc1"])
    args = dict(conn, projects=[project["name"]])

    opened = run_module(MODULE, dict(args, state="opened"), diff=True)
    assert not opened.get("failed"), opened
    assert opened["changed"] is True
    assert opened["projects"][0]["status_before"] == "closed" and opened["projects"][0]["status"] == "opened"
    assert opened["diff"]["before"] == "%s: closed\n" % project["name"]
    assert opened["diff"]["after"] == "%s: opened, 0/1 nodes started\n" % project["name"]
    assert gns3.project(project["project_id"])["status"] == "opened"

    again = run_module(MODULE, dict(args, state="opened"))
    assert again["changed"] is False and again["projects"][0]["changed"] is False

    closed = run_module(MODULE, dict(conn, projects=[project["project_id"]], state="closed"))
    assert closed["changed"] is True and gns3.project(project["project_id"])["status"] == "closed"
    again = run_module(MODULE, dict(conn, projects=[project["project_id"]], state="closed"))
    assert again["changed"] is False


def test_gradual_start_and_stop_over_two_projects(gns3, conn, run_module, unique):
    one = gns3.build_project("g1-" + unique, qemu=["a1", "a2", "a3"], link_pairs=[("a1", "a2")])
    two = gns3.build_project("g2-" + unique, qemu=["b1", "b2"], vpcs=["v1"])
    rate = 4.0
    args = dict(conn, projects=[one["name"], two["name"]], rate=rate, concurrency=2,
                skip_node_types=["vpcs"], wait_timeout=60)

    started = run_module(MODULE, dict(args, state="started"), diff=True)
    assert not started.get("failed"), started
    assert started["changed"] is True
    nodes = [n for p in started["projects"] for n in p["nodes"]]
    qemu = [n for n in nodes if n["node_type"] == "qemu"]
    assert len(qemu) == 5
    assert all(n["action"] == "started" and n["status"] == "started" for n in qemu), qemu
    assert all(n["seconds"] is not None and n["seconds"] >= 0 for n in qemu)
    # skip_node_types: the VPCS node is not even tried (it would fail here)
    assert [n["action"] for n in nodes if n["node_type"] == "vpcs"] == ["skipped"]
    # rate: n requests at least (n-1)/rate seconds apart in total (lower bound only)
    times = sorted(n["at"] for n in qemu)
    assert times[-1] - times[0] >= (len(qemu) - 1) / rate - 0.01, times
    assert node_status(gns3, one["project_id"]) == {"a1": "started", "a2": "started", "a3": "started"}
    assert node_status(gns3, two["project_id"]) == {"b1": "started", "b2": "started", "v1": "stopped"}
    assert started["diff"]["after"].splitlines()[0] == "%s: opened, 3/3 nodes started" % one["name"]

    again = run_module(MODULE, dict(args, state="started"))
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert set(n["action"] for p in again["projects"] for n in p["nodes"]) == set(["unchanged", "skipped"])

    stopped = run_module(MODULE, dict(args, state="stopped"))
    assert not stopped.get("failed"), stopped
    assert stopped["changed"] is True
    assert all(n["action"] == "stopped" for p in stopped["projects"] for n in p["nodes"] if n["node_type"] == "qemu")
    assert set(node_status(gns3, one["project_id"]).values()) == set(["stopped"])

    again = run_module(MODULE, dict(args, state="stopped"))
    assert again["changed"] is False


def test_node_failure_is_reported_per_node(gns3, conn, run_module, unique):
    gns3.expect_errors(VPCS_REFUSED, "VPCSError", "Node error detected")
    project = gns3.build_project("f-" + unique, qemu=["q1", "q2"], vpcs=["pc-vpcs"])
    result = run_module(MODULE, dict(conn, projects=[project["name"]], state="started", rate=0,
                                     concurrency=3, wait_timeout=60))
    assert result["failed"]
    # the message names the node, its project and GNS3's own reason
    assert "pc-vpcs" in result["msg"] and project["name"] in result["msg"] and VPCS_REFUSED in result["msg"]
    assert "q1" not in result["msg"]
    nodes = by_name(result["projects"][0])
    assert nodes["pc-vpcs"]["action"] == "failed" and VPCS_REFUSED in nodes["pc-vpcs"]["error"]
    assert nodes["q1"]["action"] == "started" and nodes["q2"]["action"] == "started"
    assert result["changed"] is True
    assert node_status(gns3, project["project_id"]) == {"q1": "started", "q2": "started", "pc-vpcs": "stopped"}


def test_check_mode_changes_nothing(gns3, conn, run_module, unique):
    closed = gns3.build_project("c1-" + unique, qemu=["x1"])
    opened = gns3.build_project("c2-" + unique, qemu=["y1", "y2"])
    gns3.open_project(opened["project_id"])
    args = dict(conn, projects=[closed["name"], opened["name"]], state="started")

    result = run_module(MODULE, args, check=True, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    first, second = result["projects"]
    assert first["status_before"] == "closed" and first["status"] == "opened"
    assert [n["action"] for n in second["nodes"]] == ["started", "started"]
    assert gns3.project(closed["project_id"])["status"] == "closed"
    assert node_status(gns3, opened["project_id"]) == {"y1": "stopped", "y2": "stopped"}
    assert "%s: opened, 2/2 nodes started" % opened["name"] in result["diff"]["after"]
    assert "%s: opened, 0/2 nodes started" % opened["name"] in result["diff"]["before"]


def test_unknown_project_changes_nothing(gns3, conn, run_module, unique):
    known = gns3.build_project("k-" + unique)
    result = run_module(MODULE, dict(conn, projects=[known["name"], "no-such-" + unique], state="opened"))
    assert result["failed"]
    assert "unknown project name 'no-such-%s'" % unique in result["msg"]
    assert known["name"] in result["msg"]  # the names the server does know
    assert gns3.project(known["project_id"])["status"] == "closed"


def test_bad_credentials(gns3, run_module):
    if gns3.major < 3:
        pytest.skip("this GNS3 2.2 server runs without HTTP authentication")
    gns3.expect_errors("Authentication was unsuccessful")
    secret = "Wr0ng-Secret-Passw0rd"
    result = run_module(MODULE, {"url": gns3.url, "username": "admin", "password": secret})
    assert result["failed"]
    assert "'admin'" in result["msg"] and "401" in result["msg"] and "check username and password" in result["msg"]
    assert secret not in json.dumps(result)

    token = "not.a.valid-token-Secret99"
    result = run_module(MODULE, {"url": gns3.url, "token": token})
    assert result["failed"] and "token" in result["msg"]
    assert token not in json.dumps(result)

    result = run_module(MODULE, {"url": gns3.url})
    assert result["failed"] and "username and password" in result["msg"]


def test_unreachable_url(run_module):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "Sup3r-Secret-99"
    url = "http://127.0.0.1:%d" % port
    result = run_module(MODULE, {"url": url, "username": "admin", "password": secret, "timeout": 5})
    assert result["failed"]
    assert "cannot reach GNS3 at %s" % url in result["msg"] and "check url" in result["msg"]
    assert secret not in json.dumps(result)


# (every option check is in the unit tests; these two go through Ansible)
@pytest.mark.parametrize("args, message", [
    ({"projects": ["/srv/gns3/projects/lab1"], "state": "present"}, "must name the project's .gns3 file"),
    ({"url": "gns3.lab:3080"}, "not an http:// or https:// URL"),
])
def test_bad_options_fail_before_any_call(run_module, args, message):
    full = dict({"url": "http://127.0.0.1:9"}, **args)
    result = run_module(MODULE, full)
    assert result["failed"] and message in result["msg"], result["msg"]


# -- connection options: TLS (ca_path, client certificates), proxies, no ~/.netrc --------------------
# The server speaks plain HTTP; tls_front (conftest.py) puts a real TLS endpoint in front of it.

def test_https_checked_against_ca_path(gns3, conn, run_tasks, tls_front, pki):
    url = tls_front(gns3.url)
    trusted, unknown, other_ca, unchecked = run_tasks(MODULE, [
        dict(conn, url=url, ca_path=pki["ca.pem"]),
        dict(conn, url=url),                               # the system's CAs do not know this one
        dict(conn, url=url, ca_path=pki["other-ca.pem"]),
        dict(conn, url=url, validate_certs=False),
    ])
    assert not trusted.get("failed"), trusted
    assert trusted["server"] == {"version": gns3.server_version, "api": gns3.api_version, "url": url}
    for refused in (unknown, other_ca):
        assert refused["failed"]
        assert "TLS error talking to GNS3 at %s" % url in refused["msg"], refused["msg"]
        assert "CERTIFICATE_VERIFY_FAILED" in refused["msg"] and "ca_path" in refused["msg"]
    assert not unchecked.get("failed"), unchecked


def test_client_certificate(gns3, conn, run_tasks, tls_front, pki):
    url = tls_front(gns3.url, client_ca=pki["ca.pem"])
    base = dict(conn, url=url, ca_path=pki["ca.pem"])
    shown, none, unreadable = run_tasks(MODULE, [
        dict(base, client_cert=pki["client.pem"], client_key=pki["client.key"]),
        base,
        dict(base, client_cert=pki["client.pem"], client_key="/nonexistent/client.key"),
    ])
    assert not shown.get("failed"), shown
    assert shown["server"]["version"] == gns3.server_version
    assert none["failed"] and "client_cert" in none["msg"], none["msg"]
    assert unreadable["failed"]
    assert "cannot use the TLS files given" in unreadable["msg"] and "/nonexistent/client.key" in unreadable["msg"]


def test_proxy_from_the_environment(gns3, conn, run_tasks, recording_proxy):
    version = "GET %s/%s/version" % (gns3.url, gns3.api_version)
    env = {"http_proxy": recording_proxy.url}
    through, direct = run_tasks(MODULE, [conn, dict(conn, use_proxy=False)], extra_env=env)
    assert not through.get("failed") and not direct.get("failed"), (through, direct)
    assert recording_proxy.requests.count(version) == 1, recording_proxy.requests

    bypassed = run_tasks(MODULE, [conn], extra_env=dict(env, no_proxy="127.0.0.1"))[0]
    assert not bypassed.get("failed"), bypassed
    assert recording_proxy.requests.count(version) == 1, recording_proxy.requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d" % sock.getsockname()[1]
    down = run_tasks(MODULE, [dict(conn, timeout=5)], extra_env={"http_proxy": closed})[0]
    assert down["failed"] and "through the proxy %s" % closed in down["msg"] and "use_proxy: false" in down["msg"]


def test_https_through_a_proxy(gns3, conn, run_tasks, tls_front, recording_proxy, pki):
    url = tls_front(gns3.url)
    result = run_tasks(MODULE, [dict(conn, url=url, ca_path=pki["ca.pem"])],
                       extra_env={"https_proxy": recording_proxy.url})[0]
    assert not result.get("failed"), result
    assert "CONNECT %s" % url.split("://")[1] in recording_proxy.requests


def test_netrc_is_not_read(gns3, conn, run_tasks, tmp_path):
    # ansible-core's open_url would put a ~/.netrc login in place of the GNS3 credentials
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password Netrc-Secret-42\n")
    netrc.chmod(0o600)
    result = run_tasks(MODULE, [conn], extra_env={"NETRC": str(netrc)})[0]
    assert not result.get("failed"), result
    assert "Netrc-Secret-42" not in json.dumps(result)


def test_redirects_are_followed(gns3, conn, run_tasks):
    """A server moved behind another address answers 301 with its new one: GETs follow (as urllib does)."""
    class Moved(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(301)
            self.send_header("Location", gns3.url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    server = HTTPServer(("127.0.0.1", 0), Moved)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        args = dict(conn, url="http://127.0.0.1:%d" % server.server_port)
        if gns3.major >= 3:
            args = {"url": args["url"], "token": gns3.token}   # a login POST is not redirected
        result = run_tasks(MODULE, [args])[0]
    finally:
        server.shutdown()
        server.server_close()
    assert not result.get("failed"), result
    assert result["server"]["version"] == gns3.server_version
