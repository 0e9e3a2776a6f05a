# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real GNS3 servers, 2.2.61 and 3.0.6, each started once per session (tests/lab/gns3.py).

Tests that take the ``gns3`` fixture run once per version; pytest groups them by version, so
one server runs at a time. After each test the server's log must hold no ERROR line but those
the test declared with ``gns3.expect_errors(regex, ...)``.
"""

import os
import sys
import uuid

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
