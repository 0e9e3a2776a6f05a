# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GNS3 REST client (plugins/module_utils/_gns3/client.py), without a server.

What a real GNS3 server answers is tested in tests/integration/gns3 (2.2.61 and 3.0.6); here the
HTTP layer is injected to pin down probing, login, error messages (and that no secret reaches them)
and the URL forms.
"""

import io
import json
import ssl
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.client import (
    GNS3Client,
    GNS3Error,
    redact_url,
    scrub,
)

SECRET = "S3cret-Passw0rd"


# -- fakes ----------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch):
    """The messages depend on the proxy the environment names: these tests set their own."""
    for name in ("http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


class _Response(io.BytesIO):
    def __init__(self, status, body):
        super(_Response, self).__init__(body)
        self.status = status

    def getcode(self):
        return self.status


class FakeHTTP:
    """transport(method, url, data, headers, timeout) as ansible-core's Request.open, answering from a
    table {(method, path): (status, body)}."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []

    def __call__(self, method, url, data=None, headers=None, timeout=None):
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        self.requests.append((method, path, dict(headers or {}), data))
        answer = self.routes.get((method, path), (404, {"message": "Not Found"}))
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
        if status >= 400:
            raise HTTPError(url, status, "error", {}, io.BytesIO(raw))
        return _Response(status, raw)


def v3_routes(extra=None):
    routes = {
        ("GET", "/v3/version"): (200, {"version": "3.0.6", "local": True}),
        ("POST", "/v3/access/users/authenticate"): (200, {"access_token": "tok-123", "token_type": "bearer"}),
        ("GET", "/v3/projects"): (200, []),
    }
    routes.update(extra or {})
    return routes


def v2_routes(extra=None):
    routes = {
        ("GET", "/v2/version"): (200, {"version": "2.2.61", "local": True}),
        ("GET", "/v2/projects"): (200, []),
    }
    routes.update(extra or {})
    return routes


# -- the client -----------------------------------------------------------------

def test_auto_probe_finds_v2():
    http = FakeHTTP(v2_routes())
    client = GNS3Client("http://gns3.test:3080/", transport=http).connect()
    assert client.api == "v2" and client.server_version == "2.2.61"
    assert [r[1] for r in http.requests] == ["/v3/version", "/v2/version"]
    assert client.projects() == []


def test_v3_logs_in_and_sends_the_bearer_token():
    http = FakeHTTP(v3_routes())
    client = GNS3Client("http://gns3.test:3080", username="admin", password=SECRET, transport=http).connect()
    assert client.api == "v3"
    method, path, headers, data = http.requests[1]
    assert (method, path) == ("POST", "/v3/access/users/authenticate")
    assert json.loads(data.decode()) == {"username": "admin", "password": SECRET}
    client.projects()
    assert http.requests[-1][2]["Authorization"] == "Bearer tok-123"


def test_v2_basic_auth_header():
    http = FakeHTTP(v2_routes())
    client = GNS3Client("http://gns3.test:3080", api_version="v2", username="u", password="p", transport=http).connect()
    client.projects()
    assert http.requests[-1][2]["Authorization"] == "Basic dTpw"


def test_v2_with_auth_on_answers_401_to_version():
    http = FakeHTTP({("GET", "/v2/version"): (401, b"401: Unauthorized")})
    with pytest.raises(GNS3Error) as err:
        GNS3Client("http://gns3.test:3080", transport=http).connect()
    assert err.value.status == 401 and "HTTP authentication on: give username and password" in str(err.value)


def test_wrong_password_names_the_user_never_the_password():
    http = FakeHTTP(v3_routes({("POST", "/v3/access/users/authenticate"): (
        401, {"message": "Authentication was unsuccessful."})}))
    client = GNS3Client("http://gns3.test:3080", username="admin", password=SECRET, transport=http)
    with pytest.raises(GNS3Error) as err:
        client.connect()
    text = str(err.value)
    assert "'admin'" in text and "HTTP 401" in text and "check username and password" in text
    assert SECRET not in text and SECRET not in repr(err.value.__dict__)


def test_refused_token_says_so():
    http = FakeHTTP(v3_routes({("GET", "/v3/access/users/me"): (401, {"message": "Could not validate credentials"})}))
    with pytest.raises(GNS3Error) as err:
        GNS3Client("http://gns3.test:3080", token="tok-" + SECRET, transport=http).connect()
    assert "refused the token" in str(err.value) and SECRET not in str(err.value)


def test_v3_without_credentials():
    with pytest.raises(GNS3Error, match="give username and password"):
        GNS3Client("http://gns3.test:3080", transport=FakeHTTP(v3_routes())).connect()


def test_unreachable_server_message_has_no_credentials():
    http = FakeHTTP({("GET", "/v3/version"): URLError(ConnectionRefusedError(111, "Connection refused"))})
    client = GNS3Client("http://admin:%s@gns3.test:3080" % SECRET, transport=http)
    with pytest.raises(GNS3Error) as err:
        client.connect()
    text = str(err.value)
    assert "cannot reach GNS3 at http://gns3.test:3080" in text and "Connection refused" in text
    assert "check url" in text and SECRET not in text and err.value.status is None


def test_timeout_is_named():
    import socket
    http = FakeHTTP({("GET", "/v3/version"): URLError(socket.timeout("timed out"))})
    with pytest.raises(GNS3Error, match="did not answer GET .* within 7 s"):
        GNS3Client("http://gns3.test:3080", timeout=7, transport=http).connect()


def test_http_error_carries_method_url_status_and_gns3s_message():
    http = FakeHTTP(v2_routes({("POST", "/v2/projects/p1/open"): (
        409, {"message": "Port 5000 is already used", "status": 409})}))
    client = GNS3Client("http://gns3.test:3080", transport=http)
    with pytest.raises(GNS3Error) as err:
        client.open_project("p1")
    exc = err.value
    assert (exc.method, exc.url, exc.status) == ("POST", "http://gns3.test:3080/v2/projects/p1/open", 409)
    assert exc.server_message == "Port 5000 is already used" and exc.reason == "Port 5000 is already used"
    assert str(exc) == "GNS3 answered HTTP 409 to POST http://gns3.test:3080/v2/projects/p1/open: Port 5000 is already used"


def test_a_secret_echoed_by_the_server_is_scrubbed():
    http = FakeHTTP(v3_routes({("GET", "/v3/projects"): (422, {"message": [{"input": SECRET, "msg": "bad"}]})}))
    client = GNS3Client("http://gns3.test:3080", username="admin", password=SECRET, transport=http)
    with pytest.raises(GNS3Error) as err:
        client.projects()
    assert "HTTP 422" in str(err.value) and SECRET not in str(err.value) and "********" in str(err.value)


def test_no_gns3_at_the_url():
    http = FakeHTTP({})
    with pytest.raises(GNS3Error, match=r"no GNS3 API at http://gns3.test:3080: /v3/version answered HTTP 404, "
                                        r"/v2/version answered HTTP 404"):
        GNS3Client("http://gns3.test:3080", transport=http).connect()


def test_pinned_version_that_the_server_lacks():
    http = FakeHTTP(v3_routes())
    with pytest.raises(GNS3Error, match=r"has no /v2 API .*set api_version: auto or v3"):
        GNS3Client("http://gns3.test:3080", api_version="v2", transport=http).connect()


@pytest.mark.parametrize("url, base, api", [
    ("http://gns3.test:3080", "http://gns3.test:3080", None),
    ("http://gns3.test:3080/v3/", "http://gns3.test:3080", "v3"),
    ("https://[fd00::1]:3080/gns3/v2", "https://[fd00::1]:3080/gns3", "v2"),
])
def test_url_forms(url, base, api):
    client = GNS3Client(url, transport=FakeHTTP({}))
    assert client.base_url == base and client.api == api


@pytest.mark.parametrize("url", ["gns3.test:3080", "ftp://gns3.test", "http://", "http://h:99999"])
def test_bad_urls(url):
    with pytest.raises(GNS3Error, match="URL"):
        GNS3Client(url)


def test_redact_and_scrub():
    assert redact_url("http://u:%s@h:1/x" % SECRET) == "http://h:1/x"
    assert redact_url("http://h:1/x") == "http://h:1/x"
    assert scrub("a %s b" % SECRET, [SECRET, None]) == "a ******** b"


def test_validate_certs_false_builds_a_client():
    client = GNS3Client("https://gns3.test:3443", validate_certs=False)
    assert client.base_url == "https://gns3.test:3443"


# -- TLS and proxy settings (the real TLS endpoint, client certificates and proxies: tests/integration/gns3) --

def test_tls_files_that_cannot_be_read_are_refused_before_any_call(tmp_path):
    with pytest.raises(GNS3Error) as err:
        GNS3Client("https://gns3.test:3443", ca_path=str(tmp_path / "missing-ca.pem"))
    assert "cannot use the TLS files given (ca_path %s)" % (tmp_path / "missing-ca.pem") in str(err.value)
    garbage = tmp_path / "client.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(GNS3Error, match="client_cert .*client.pem.*PEM files"):
        GNS3Client("https://gns3.test:3443", client_cert=str(garbage))


@pytest.mark.parametrize("reason, hint", [
    (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"),
     "give the CA that signed the server's certificate as ca_path"),
    (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                     "IP address mismatch, certificate is not valid for '10.0.0.1'"),
     "use in url the name it was issued for"),
    (ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required"),
     "the server asks for a client certificate it trusts: give client_cert and client_key"),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"),
     "if the server asks for a client certificate, give client_cert and client_key"),
])
def test_tls_errors_say_which_option_helps(reason, hint):
    http = FakeHTTP({("GET", "/v3/version"): URLError(reason)})
    with pytest.raises(GNS3Error) as err:
        GNS3Client("https://gns3.test:3443", transport=http, use_proxy=False).connect()
    assert str(err.value).startswith("TLS error talking to GNS3 at https://gns3.test:3443: ") and hint in str(err.value)


def test_the_proxy_in_use_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://squid:%s@proxy.test:3128" % SECRET)
    monkeypatch.setenv("no_proxy", "lab.local")
    http = FakeHTTP({("GET", "/v3/version"): URLError(OSError("Tunnel connection failed: 403 Forbidden"))})
    client = GNS3Client("https://gns3.test:3443", transport=http)
    assert client.proxy == "http://proxy.test:3128"
    with pytest.raises(GNS3Error) as err:
        client.connect()
    text = str(err.value)
    assert "cannot reach GNS3 at https://gns3.test:3443 through the proxy http://proxy.test:3128" in text
    assert "Tunnel connection failed" in text and "use_proxy: false" in text and SECRET not in text
    assert GNS3Client("https://gns3.lab.local", transport=http).proxy is None       # no_proxy
    assert GNS3Client("https://gns3.test", transport=http, use_proxy=False).proxy is None
    assert GNS3Client("http://gns3.test", transport=http).proxy is None             # no http_proxy
