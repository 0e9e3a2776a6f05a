# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The GNS3 REST client: the controller API of GNS3 2.2 (``/v2``) and 3.x (``/v3``).

* ``GNS3Client`` speaks ``/v2`` (optional HTTP basic auth) and ``/v3`` (a bearer token from
  ``POST /v3/access/users/authenticate``, or given); ``api_version="auto"`` probes ``/v3/version``
  then ``/v2/version``.
* Every failure becomes one ``GNS3Error`` carrying the method, the URL (never credentials),
  the HTTP status and GNS3's own message:
  no traceback reaches the user, no secret a message (``scrub``, ``redact_url``).
* HTTP goes through ansible-core's ``ansible.module_utils.urls.Request`` (as ``open_url``): TLS with
  ``validate_certs``, ``ca_path``, ``client_cert``/``client_key``, proxies from the environment
  (``https_proxy``, ``no_proxy``) unless ``use_proxy`` is false, redirects as urllib follows them.
  ``~/.netrc`` is never read: the credentials are the ones given.

Works with ansible-core 2.16 and later (a ``Request`` that takes a TLS context gets one built
once; older ones build it per request).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from http.client import HTTPException
import re
import socket
import ssl

from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import Request, make_context

try:
    from inspect import signature
    _REQUEST_TAKES_CONTEXT = "context" in signature(Request.__init__).parameters
except (ImportError, TypeError, ValueError):
    _REQUEST_TAKES_CONTEXT = False

API_VERSIONS = ("auto", "v2", "v3")
HTTP_AGENT = "labfarm.massclone-gns3"
_REDACTED = "********"
# TLS alerts of a server that wants a client certificate it trusts
# ("tlsv13 alert certificate required", or only "TLSV13_ALERT_CERTIFICATE_REQUIRED")
_CLIENT_CERT_ALERT = re.compile(r"alert[ _](certificate[ _]required|unknown[ _]ca|bad[ _]certificate|certificate[ _]unknown)",
                                re.IGNORECASE)


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


def _proxy_for(scheme, netloc):
    """The proxy (without credentials) the environment gives for ``scheme://netloc``, or None."""
    proxy = getproxies().get(scheme)
    if not proxy or proxy_bypass(netloc):
        return None
    return redact_url(proxy)


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


class GNS3Client:
    """A GNS3 controller API client for 2.2 (/v2) and 3.x (/v3).

    ``transport(method, url, data=None, headers=None, timeout=None)`` -> a response (``.status``,
    ``.read()``, ``.close()``), raising ``urllib.error.HTTPError`` for HTTP errors, may be injected
    (tests); the default is ansible-core's ``Request.open`` with the TLS and proxy options given.
    """

    def __init__(self, url, api_version="auto", username=None, password=None, token=None,
                 validate_certs=True, timeout=30, ca_path=None, client_cert=None, client_key=None,
                 use_proxy=True, transport=None):
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
        self.proxy = _proxy_for(parts.scheme, netloc) if use_proxy else None
        if transport is None:
            transport = self._request(validate_certs, ca_path, client_cert, client_key, use_proxy).open
        self._transport = transport

    @staticmethod
    def _request(validate_certs, ca_path, client_cert, client_key, use_proxy):
        """ansible-core's Request with these settings; unreadable TLS files are refused here, before any call."""
        try:
            context = make_context(cafile=ca_path, validate_certs=validate_certs, client_cert=client_cert,
                                   client_key=client_key)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            given = ", ".join("%s %s" % (name, value) for name, value in
                              (("ca_path", ca_path), ("client_cert", client_cert), ("client_key", client_key)) if value)
            if not given:
                raise GNS3Error("cannot set up TLS for GNS3: %s" % (exc,))
            raise GNS3Error("cannot use the TLS files given (%s): %s" % (given, exc),
                            hint="give PEM files readable on the host the task runs on; client_key must be the key "
                                 "of client_cert, without a passphrase")
        settings = dict(use_proxy=use_proxy, validate_certs=validate_certs, ca_path=ca_path,
                        client_cert=client_cert, client_key=client_key, http_agent=HTTP_AGENT,
                        follow_redirects="urllib2", use_netrc=False)
        if _REQUEST_TAKES_CONTEXT:
            settings["context"] = context  # built once, not for every request
        return Request(**settings)

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
        timeout = self.timeout if timeout is None else timeout
        try:
            response = self._transport(method, url, data=data, headers=headers, timeout=timeout)
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
        except (URLError, socket.timeout, OSError, ValueError, HTTPException, UrlsConnectionError) as exc:
            raise self._transport_error(exc, method, url, timeout)
        return status, raw

    def _transport_error(self, exc, method, url, timeout):
        """The GNS3Error of a call that got no answer: timeout, TLS, proxy, refused, DNS."""
        reason = getattr(exc, "reason", exc)
        text = "%s" % (reason,)
        via = " through the proxy %s" % self.proxy if self.proxy else ""
        if isinstance(reason, socket.timeout) or "timed out" in text:
            return self._error("GNS3 at %s did not answer %s %s%s within %s s" % (self.base_url, method, url, via, timeout),
                               method=method, url=url,
                               hint="check that the server is not overloaded, or raise timeout")
        if isinstance(reason, ssl.SSLError) or "CERTIFICATE" in text.upper():
            if _CLIENT_CERT_ALERT.search(text):
                hint = "the server asks for a client certificate it trusts: give client_cert and client_key"
            elif "mismatch" in text.lower():
                hint = "the certificate is not for this host: use in url the name it was issued for"
            elif isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
                hint = ("give the CA that signed the server's certificate as ca_path, or set validate_certs: false "
                        "(self-signed certificate), or fix url")
            else:
                # TLS 1.3 servers often just close when the client certificate is missing or unknown
                hint = ("if the server asks for a client certificate, give client_cert and client_key; "
                        "else check that url's port speaks https")
            return self._error("TLS error talking to GNS3 at %s%s: %s" % (self.base_url, via, text),
                               method=method, url=url, hint=hint)
        if self.proxy:
            return self._error("cannot reach GNS3 at %s%s (%s %s): %s" % (self.base_url, via, method, url, text),
                               method=method, url=url,
                               hint="check the proxy, add the GNS3 host to no_proxy, or set use_proxy: false")
        return self._error("cannot reach GNS3 at %s (%s %s): %s" % (self.base_url, method, url, text),
                           method=method, url=url,
                           hint="check url (scheme, host, port) and that gns3server is running there")

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
