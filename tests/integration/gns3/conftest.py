# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real GNS3 servers, 2.2.61 and 3.0.6, each started once per session (tests/lab/gns3.py).

Tests that take the ``gns3`` fixture run once per version; pytest groups them by version, so
one server runs at a time. After each test the server's log must hold no ERROR line but those
the test declared with ``gns3.expect_errors(regex, ...)``.

For the connection options (TLS, proxies): ``pki`` (a CA, a server certificate for 127.0.0.1, a
client certificate, and a CA that signed none of them, made with openssl), ``tls_front`` (a real TLS
endpoint that hands each connection to the GNS3 server: HTTPS in front of it, as a reverse proxy
would) and ``recording_proxy`` (a real HTTP forward proxy, CONNECT included, that records what it
was asked).
"""

import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab.gns3 import GNS3Server, missing_reason  # noqa: E402  pylint: disable=wrong-import-position
from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position

VERSIONS = ("2.2", "3.0")


@pytest.fixture(scope="session", params=VERSIONS, ids=["gns3-%s" % v for v in VERSIONS])
def gns3_server(request, tmp_path_factory):
    """One real GNS3 server of each version for the whole session, stopped (by PID) at the end."""
    version = request.param
    reason = missing_reason(version)
    if reason:
        lab_missing(reason)
    server = GNS3Server(version, tmp_path_factory.mktemp("gns3-%s" % version))
    server.start()
    server.expected = []
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gns3(gns3_server):
    """The session's server for one test: log checked and projects closed afterwards."""
    server = gns3_server
    mark = server.log_size()
    server.expected = []

    def expect_errors(*patterns):
        server.expected.extend(patterns)
    server.expect_errors = expect_errors
    yield server
    if server.running():
        server.close_all()
    errors = server.log_errors(since=mark, ignore=server.expected)
    assert not errors, "GNS3 %s logged errors:\n%s" % (server.version, "\n".join(errors))


@pytest.fixture
def conn(gns3):
    """Connection options of the gns3_server module for this server."""
    args = {"url": gns3.url}
    if gns3.major >= 3:
        args.update(username=gns3.username, password=gns3.password)
    return args


@pytest.fixture
def unique():
    """A short unique suffix for project names (the servers live for the whole session)."""
    return uuid.uuid4().hex[:6]


# -- TLS and proxies in front of the real servers -----------------------------------------------

def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=str(cwd), check=True, capture_output=True)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """PEM files: ca.pem (the CA), server.pem/server.key (127.0.0.1, localhost), client.pem/client.key,
    other-ca.pem (a CA that signed nothing here). Returns {name: path}."""
    where = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=labfarm test " + ca,
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)
    leaves = {"server": "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
              "client": "extendedKeyUsage=clientAuth\n"}
    for name, extensions in leaves.items():
        (where / (name + ".ext")).write_text("basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n" + extensions)
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=labfarm test " + name, cwd=where)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext", cwd=where)
    return dict((f.name, str(f)) for f in where.iterdir())


def _splice(client, upstream):
    """Copy both ways, in this one thread (an SSL socket must not be read and written from two), until
    either side closes: with HTTP/1.1 and Connection: close, the server once it has answered."""
    try:
        while True:
            ready = [s for s in (client, upstream) if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready = select.select([client, upstream], [], [], 60)[0]
                if not ready:
                    return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        pass
    finally:
        for sock in (client, upstream):
            try:
                sock.close()
            except OSError:
                pass


class _Listener:
    """Accepts on 127.0.0.1:<port> in a daemon thread; each connection gets ``handle(sock)`` in its own."""

    def __init__(self, handle):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            self.handle(conn)
        except (OSError, ValueError):
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def tls_front(pki):
    """tls_front(upstream_url, client_ca=None) -> an https:// URL whose TLS endpoint (server.pem) hands
    each connection to upstream_url; with client_ca it asks for a client certificate signed by that CA."""
    listeners = []

    def start(upstream_url, client_ca=None):
        upstream = urlsplit(upstream_url)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki["server.pem"], pki["server.key"])
        if client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)

        def handle(conn):
            tls = context.wrap_socket(conn, server_side=True)
            _splice(tls, socket.create_connection((upstream.hostname, upstream.port)))
        listener = _Listener(handle)
        listeners.append(listener)
        return "https://127.0.0.1:%d" % listener.port
    yield start
    for listener in listeners:
        listener.close()


class RecordingProxy(_Listener):
    """An HTTP forward proxy: absolute-URI requests (plain HTTP) and CONNECT (HTTPS). ``.requests``
    holds the request lines it was sent; ``.url`` is what http_proxy/https_proxy take."""

    def __init__(self):
        self.requests = []
        super(RecordingProxy, self).__init__(self._proxy)
        self.url = "http://127.0.0.1:%d" % self.port

    def _proxy(self, conn):
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            if not data:
                conn.close()
                return
            head += data
        line, rest = head.split(b"\r\n", 1)
        method, target, version = line.decode("latin-1").split(" ")
        self.requests.append("%s %s" % (method, target))
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _splice(conn, upstream)
            return
        parts = urlsplit(target)
        upstream = socket.create_connection((parts.hostname, parts.port or 80))
        path = parts.path + ("?" + parts.query if parts.query else "")
        upstream.sendall(("%s %s %s\r\n" % (method, path or "/", version)).encode("latin-1") + rest)
        _splice(conn, upstream)


@pytest.fixture
def recording_proxy():
    proxy = RecordingProxy()
    yield proxy
    proxy.close()
