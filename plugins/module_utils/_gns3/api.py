# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The GNS3 REST client, the gradual node start/stop scheduler and the gns3_server job.

* ``GNS3Client`` speaks the controller API of GNS3 2.2 (``/v2``, optional HTTP basic auth)
  and 3.x (``/v3``, a bearer token from ``POST /v3/access/users/authenticate`` or given);
  ``api_version="auto"`` probes ``/v3/version`` then ``/v2/version``.
* Every failure becomes one ``GNS3Error`` carrying the method, the URL (never credentials),
  the HTTP status and GNS3's own message: no traceback reaches the user, no secret a message.
* ``GradualScheduler`` (in ``_gradual``, shared with libvirt_farm) starts or stops nodes at a bounded rate (nodes per second across the
  whole call) with a bounded number in flight, optionally waiting until each node reports the
  target status, and times each node. It is pure logic: the clock, the sleep and the way a
  worker runs are injected, so tests drive it without a server or real time.
* ``ServerJob`` is what the ``gns3_server`` module does (reload, resolve projects, load, open,
  close, start, stop), written against a client object so that it is tested without Ansible.

Standard library only (urllib), Python 3.8 and later.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from http.client import HTTPException
import os
import re
import socket
import ssl
import time

from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import HTTPSHandler, ProxyHandler, Request, build_opener

# The scheduler is shared with libvirt_farm; imported here so existing imports keep working.
from ansible_collections.labfarm.massclone.plugins.module_utils._common.gradual import (  # noqa: F401 pylint: disable=unused-import
    GradualScheduler,
    WaitTimeout,
    spawn_inline,
    spawn_thread,
)

API_VERSIONS = ("auto", "v2", "v3")
STATES = ("present", "opened", "closed", "started", "stopped")
# Node types with nothing to boot: starting them costs the NAS nothing and stopping them cuts links.
DEFAULT_SKIP_NODE_TYPES = ("cloud", "nat", "ethernet_switch", "ethernet_hub", "frame_relay_switch", "atm_switch")
TARGET_STATUS = {"start": "started", "stop": "stopped"}
DONE_ACTION = {"start": "started", "stop": "stopped"}
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_REDACTED = "********"


# -- errors -------------------------------------------------------------------

class GNS3Error(Exception):
    """A GNS3 call that failed, or input that cannot work.

    Attributes: ``method``, ``url`` (credentials removed), ``status`` (HTTP status; None when
    no answer came back), ``server_message`` (GNS3's own "message", when it sent one) and
    ``hint`` (how to fix it). ``str()`` holds all of them in one sentence.
    """

    def __init__(self, message, method=None, url=None, status=None, server_message=None, hint=None):
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.server_message = server_message
        self.hint = hint
        text = message
        if hint:
            text = "%s; %s" % (text, hint)
        super(GNS3Error, self).__init__(text)

    @property
    def reason(self):
        """GNS3's own message when there is one, else the whole error text."""
        return self.server_message if self.server_message else str(self)


def scrub(text, secrets):
    """``text`` with every secret (password, token) replaced by asterisks."""
    text = "%s" % (text,)
    for secret in secrets:
        if secret and len(secret) >= 1:
            text = text.replace(secret, _REDACTED)
    return text


def redact_url(url):
    """The URL without user:password@ (for messages)."""
    try:
        parts = urlsplit(url)
    except (TypeError, ValueError):
        return url
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = "[%s]" % netloc
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _server_message(raw):
    """GNS3's "message" from an error body (2.2: {"message", "status"}; 3.x: {"message"})."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500] or None
    if isinstance(data, dict):
        message = data.get("message", data.get("detail"))
        if message is None:
            return json.dumps(data, sort_keys=True)[:500]
        if not isinstance(message, str):
            message = json.dumps(message, sort_keys=True)
        return message.strip()
    return json.dumps(data)[:500]


# -- the REST client ----------------------------------------------------------

class GNS3Client:
    """A GNS3 controller API client for 2.2 (/v2) and 3.x (/v3).

    ``transport(request, timeout)`` may be injected (tests); the default honours
    ``validate_certs`` and ignores proxy variables (a lab controller is not reached by proxy).
    """

    def __init__(self, url, api_version="auto", username=None, password=None, token=None,
                 validate_certs=True, timeout=30, transport=None):
        if api_version not in API_VERSIONS:
            raise GNS3Error("api_version must be one of %s, got %r" % (", ".join(API_VERSIONS), api_version))
        self._secrets = [s for s in (password, token) if s]
        try:
            parts = urlsplit(url or "")
            port = parts.port
        except (TypeError, ValueError) as exc:
            raise GNS3Error("url %r is not a valid URL: %s" % (redact_url(url), exc),
                            hint="write it as http://HOST:3080 (or https://...)")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GNS3Error("url %r is not an http:// or https:// URL with a host" % scrub(redact_url(url), self._secrets),
                            hint="write it as http://HOST:3080 (or https://...)")
        if parts.password:
            self._secrets.append(parts.password)
            password = password if password is not None else parts.password
        if parts.username:
            username = username if username is not None else parts.username
        path = parts.path.rstrip("/")
        # A URL given with its API prefix (http://h:3080/v3) pins that version.
        match = re.search(r"/(v[23])$", path)
        if match:
            if api_version == "auto":
                api_version = match.group(1)
            path = path[:match.start()]
        host = parts.hostname if ":" not in parts.hostname else "[%s]" % parts.hostname
        netloc = host + (":%d" % port if port else "")
        self.base_url = urlunsplit((parts.scheme, netloc, path, "", ""))
        self.requested_api = api_version
        self.api = None if api_version == "auto" else api_version
        self.username = username
        self._password = password
        self._token = token
        self.timeout = timeout
        self.server_version = None
        self.server_info = {}
        self.connected = False
        if transport is None:
            handlers = [ProxyHandler({})]
            if parts.scheme == "https" and not validate_certs:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                handlers.append(HTTPSHandler(context=context))
            opener = build_opener(*handlers)
            transport = opener.open
        self._transport = transport

    # -- plumbing --------------------------------------------------------------
    def url_for(self, path, api=None):
        return "%s/%s%s" % (self.base_url, api or self.api, path)

    def _auth_header(self, api):
        if api == "v3" and self._token:
            return "Bearer " + self._token
        if api == "v2" and self.username is not None and self._password is not None:
            raw = ("%s:%s" % (self.username, self._password)).encode("utf-8")
            return "Basic " + base64.b64encode(raw).decode("ascii")
        return None

    def _error(self, message, method=None, url=None, status=None, server_message=None, hint=None):
        s = self._secrets
        return GNS3Error(scrub(message, s), method=method, url=url and scrub(url, s), status=status,
                         server_message=server_message and scrub(server_message, s),
                         hint=hint and scrub(hint, s))

    def raw_request(self, method, path, body=None, api=None, auth=True, timeout=None):
        """(status, decoded body) of one call; HTTP errors are answers here, not exceptions.

        Raises GNS3Error only when no answer comes back (refused, timeout, TLS, DNS).
        """
        api = api or self.api
        url = self.url_for(path, api)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth:
            header = self._auth_header(api)
            if header:
                headers["Authorization"] = header
        request = Request(url, data=data, headers=headers)
        request.get_method = lambda: method
        timeout = self.timeout if timeout is None else timeout
        try:
            response = self._transport(request, timeout=timeout)
            try:
                status = getattr(response, "status", None) or response.getcode()
                raw = response.read()
            finally:
                response.close()
        except HTTPError as exc:
            status = exc.code
            try:
                raw = exc.read()
            except Exception:  # pylint: disable=broad-except
                raw = b""
            return status, raw
        except (URLError, socket.timeout, OSError, ValueError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (socket.timeout,)) or "timed out" in str(reason):
                raise self._error("GNS3 at %s did not answer %s %s within %s s" % (self.base_url, method, url, timeout),
                                  method=method, url=url,
                                  hint="check that the server is not overloaded, or raise timeout")
            if isinstance(reason, ssl.SSLError) or "CERTIFICATE" in str(reason).upper():
                raise self._error("TLS error talking to GNS3 at %s: %s" % (self.base_url, reason),
                                  method=method, url=url,
                                  hint="set validate_certs: false for a self-signed certificate, or fix url")
            raise self._error("cannot reach GNS3 at %s (%s %s): %s" % (self.base_url, method, url, reason),
                              method=method, url=url,
                              hint="check url (scheme, host, port) and that gns3server is running there")
        return status, raw

    def request(self, method, path, body=None, ok=(200, 201, 204), timeout=None):
        """Decoded JSON (or None) of a call that must succeed; GNS3Error otherwise."""
        if not self.connected:
            self.connect()
        status, raw = self.raw_request(method, path, body, timeout=timeout)
        url = self.url_for(path)
        if status not in ok:
            message = _server_message(raw)
            hint = None
            if status == 401:
                hint = self._credentials_hint()
            elif status == 403 and self.api == "v3":
                hint = "the GNS3 user %r lacks the privilege for this call" % self.username if self.username else None
            raise self._error("GNS3 answered HTTP %s to %s %s: %s" % (status, method, url, message),
                              method=method, url=url, status=status, server_message=message, hint=hint)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise self._error("GNS3 answered %s %s with a body that is not JSON: %r" % (method, url, raw[:200]),
                              method=method, url=url, status=status)

    def _credentials_hint(self):
        if self.api == "v3":
            if self._token and not self.username:
                return "the token was refused (expired or from another server): give a fresh token, or username and password"
            return "check username and password (GNS3 3.x user %r)" % (self.username,)
        if self.username is None:
            return "this GNS3 2.2 server has HTTP authentication on: give username and password"
        return "check username and password (GNS3 2.2 HTTP authentication, user %r)" % (self.username,)

    # -- connection ----------------------------------------------------------------
    def connect(self):
        """Find the API version (when auto), read the server version and log in (3.x)."""
        if self.api is None:
            self.api = self._probe()
        else:
            status, raw = self.raw_request("GET", "/version", api=self.api, auth=self.api == "v2")
            if status == 404:
                other = "v2" if self.api == "v3" else "v3"
                raise self._error("GNS3 at %s has no /%s API (GET %s answered 404)" % (self.base_url, self.api, self.url_for("/version")),
                                  method="GET", url=self.url_for("/version"), status=404,
                                  hint="set api_version: auto or %s (GNS3 2.2 speaks v2, 3.x speaks v3)" % other)
            self._read_version(status, raw)
        if self.server_version is None:
            status, raw = self.raw_request("GET", "/version", auth=self.api == "v2")
            self._read_version(status, raw)
        if self.api == "v3":
            self._login()
        self.connected = True
        return self

    def _read_version(self, status, raw):
        if status == 200:
            try:
                self.server_info = json.loads(raw.decode("utf-8"))
                self.server_version = self.server_info.get("version")
            except (ValueError, AttributeError):
                self.server_info = {}
        elif status == 401 and self.api == "v2":
            raise self._error("GNS3 refused GET %s: HTTP 401 %s" % (self.url_for("/version"), _server_message(raw) or ""),
                              method="GET", url=self.url_for("/version"), status=401,
                              server_message=_server_message(raw), hint=self._credentials_hint())

    def _probe(self):
        answers = []
        for api in ("v3", "v2"):
            status, raw = self.raw_request("GET", "/version", api=api, auth=api == "v2")
            if status == 200:
                try:
                    info = json.loads(raw.decode("utf-8"))
                except ValueError:
                    info = None
                if isinstance(info, dict) and "version" in info:
                    self.server_info = info
                    self.server_version = info["version"]
                    return api
            if status == 401 and api == "v2":
                # 2.2 with HTTP authentication on answers 401 even to /v2/version.
                self.api = "v2"
                self._read_version(status, raw)
            answers.append("/%s/version answered HTTP %s" % (api, status))
        raise self._error("no GNS3 API at %s: %s" % (self.base_url, ", ".join(answers)),
                          method="GET", url=self.base_url,
                          hint="check that url points at a GNS3 2.2 or 3.x server (e.g. http://HOST:3080)")

    def _login(self):
        if self._token:
            status, raw = self.raw_request("GET", "/access/users/me")
            if status == 200:
                return
            raise self._error("GNS3 %s refused the token: HTTP %s %s" % (self.base_url, status, _server_message(raw)),
                              method="GET", url=self.url_for("/access/users/me"), status=status,
                              server_message=_server_message(raw), hint=self._credentials_hint())
        if not self.username or self._password is None:
            raise self._error("GNS3 %s at %s (API v3) needs a login" % (self.server_version, self.base_url),
                              hint="give username and password (a GNS3 user), or token")
        url = self.url_for("/access/users/authenticate")
        status, raw = self.raw_request("POST", "/access/users/authenticate",
                                       {"username": self.username, "password": self._password}, auth=False)
        if status != 200:
            message = _server_message(raw)
            raise self._error("GNS3 %s refused the login of user %r: HTTP %s %s" % (self.base_url, self.username, status, message),
                              method="POST", url=url, status=status, server_message=message,
                              hint=self._credentials_hint() if status in (401, 403, 422) else None)
        try:
            self._token = json.loads(raw.decode("utf-8"))["access_token"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise self._error("GNS3 %s answered the login without an access_token" % self.base_url,
                              method="POST", url=url, status=status)
        self._secrets.append(self._token)

    # -- calls -----------------------------------------------------------------
    def version(self):
        return self.request("GET", "/version")

    def projects(self):
        return self.request("GET", "/projects") or []

    def project(self, project_id):
        return self.request("GET", "/projects/%s" % quote(project_id))

    # Opening, loading, starting and stopping run to completion before GNS3 answers (creating
    # the nodes on the compute, qemu-img, booting): they take the longer ``timeout`` given.
    def open_project(self, project_id, timeout=None):
        return self.request("POST", "/projects/%s/open" % quote(project_id), {}, timeout=timeout)

    def close_project(self, project_id, timeout=None):
        return self.request("POST", "/projects/%s/close" % quote(project_id), {}, timeout=timeout)

    def load_project(self, path, timeout=None):
        return self.request("POST", "/projects/load", {"path": path}, timeout=timeout)

    def reload(self):
        """POST /reload. 2.2 answers at once and reloads in the background; 3.x answers when done."""
        return self.request("POST", "/reload", {})

    def nodes(self, project_id):
        return self.request("GET", "/projects/%s/nodes" % quote(project_id)) or []

    def node(self, project_id, node_id):
        return self.request("GET", "/projects/%s/nodes/%s" % (quote(project_id), quote(node_id)))

    def start_node(self, project_id, node_id, timeout=None):
        """The node (2.2) or None (3.x answers 204)."""
        return self.request("POST", "/projects/%s/nodes/%s/start" % (quote(project_id), quote(node_id)), {},
                            timeout=timeout)

    def stop_node(self, project_id, node_id, timeout=None):
        return self.request("POST", "/projects/%s/nodes/%s/stop" % (quote(project_id), quote(node_id)), {},
                            timeout=timeout)


# -- the gradual scheduler ----------------------------------------------------

# -- the gns3_server job ------------------------------------------------------

def is_project_path(spec):
    return spec.startswith("/") or spec.startswith("~")


def dot_gns3_path(project):
    path, filename = project.get("path"), project.get("filename")
    if path and filename:
        return os.path.join(path, filename)
    return path


def check_options(params):
    """Refuse option values that cannot work, before anything is sent. Returns the project specs."""
    state = params.get("state")
    if state is not None and state not in STATES:
        raise GNS3Error("state must be one of %s, got %r" % (", ".join(STATES), state))
    specs = []
    for index, spec in enumerate(params.get("projects") or []):
        if not isinstance(spec, str) or not spec.strip():
            raise GNS3Error("projects[%d] is %r: give a project name, a project id or the absolute path of a "
                            ".gns3 file" % (index, spec))
        spec = spec.strip()
        if is_project_path(spec):
            if spec.startswith("~"):
                raise GNS3Error("projects[%d] is %r: a path is read on the GNS3 server and must be absolute (no ~)"
                                % (index, spec))
            if not spec.endswith(".gns3"):
                base = spec.rstrip("/")
                raise GNS3Error("projects[%d] is %r: a path must name the project's .gns3 file" % (index, spec),
                                hint="e.g. %s/%s.gns3" % (base, os.path.basename(base) or "project"))
            spec = os.path.normpath(spec)
        if spec not in specs:
            specs.append(spec)
    if state is not None and not specs:
        raise GNS3Error("state %s needs projects: list the project names, ids or .gns3 paths to act on" % state)
    rate = params.get("rate")
    if rate is not None and rate < 0:
        raise GNS3Error("rate must be >= 0 nodes per second (0 = no pacing), got %r" % rate)
    concurrency = params.get("concurrency")
    if concurrency is not None and concurrency < 1:
        raise GNS3Error("concurrency must be >= 1, got %r" % concurrency)
    for key in ("wait_timeout", "reload_timeout"):
        if params.get(key) is not None and params[key] <= 0:
            raise GNS3Error("%s must be > 0 seconds, got %r" % (key, params[key]))
    if not params.get("reload") and (params.get("reload_pid") or params.get("reload_service")):
        raise GNS3Error("reload_pid and reload_service are the SIGHUP fallback of reload: set reload: true as well")
    if params.get("reload_pid") is not None and params["reload_pid"] <= 1:
        raise GNS3Error("reload_pid must be the PID of gns3server, got %r" % params["reload_pid"])
    skip = params.get("skip_node_types")
    if skip is not None and not all(isinstance(t, str) and t for t in skip):
        raise GNS3Error("skip_node_types must be a list of GNS3 node types (qemu, vpcs, cloud, ...), got %r" % (skip,))
    return specs


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
        # 3.x answers the API reload when it is done; 2.2 (and SIGHUP on both) reload in the
        # background: wait until the server answers and lists every project asked for.
        return how, before, self._wait_reloaded(synchronous=(how == "api" and self.client.api == "v3"))

    def _wait_reloaded(self, synchronous):
        timeout = float(self.params.get("reload_timeout") or 60)
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
                    raise GNS3Error("GNS3 at %s did not answer within reload_timeout (%.0f s) after the reload: %s"
                                    % (self.client.base_url, timeout, last_error),
                                    hint="raise reload_timeout, or check the server's log")
                return projects
            self.sleep(0.25)

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
            else:
                how, before, projects = self._reload()
                result["reloaded"] = True
                result["reload_method"] = how
                new = [p for p in projects if p.get("project_id") not in _ids(before)]
                result["projects_found"] = sorted(p.get("name") for p in new)
                if new:
                    result["changed"] = True
        if projects is None:
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
        result["diff"] = self._diff(result["projects"])
        if self.warnings:
            result["warnings"] = list(self.warnings)
        result["elapsed"] = round(self.clock() - began, 3)
        return result, ("; ".join(failures) if failures else None)

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
                    "at": None, "seconds": None, "error": None}
            record["nodes"].append(info)
            if action is None:
                continue
            if info["node_type"] in self.skip_types:
                info["action"] = "skipped"
            elif info["status"] == target or (action == "stop" and info["status"] not in ("started", "suspended")):
                info["action"] = "unchanged"
            elif self.check_mode:
                info["action"] = DONE_ACTION[action]
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
                info["action"] = DONE_ACTION[action]
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
