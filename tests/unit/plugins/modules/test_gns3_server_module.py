# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gns3_server module's own glue: its arguments reach the job, and it finishes through
_common.module (warnings, diff only when asked, an error that carries the result).

The job is tested in tests/unit/plugins/module_utils/test_gns3_job.py and, against real GNS3
servers, in tests/integration/gns3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.modules import gns3_server

SECRET = "S3cret-Passw0rd"
RESULT = {"changed": True, "projects": [{"name": "lab1", "status": "opened"}], "warnings": ["sent SIGHUP instead"],
          "diff": {"before": "lab1: closed\n", "after": "lab1: opened\n"}}


def fake_job(monkeypatch, outcome):
    """Replace the job: it records what the module gave it and returns (or raises) ``outcome``."""
    seen = {}

    def run(params, check_mode=False, hup=None, client=None):
        seen.update(params=params, check_mode=check_mode, hup=hup)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)
    monkeypatch.setattr(gns3_server, "run_server_job", run)
    return seen


def test_the_connection_options_and_their_defaults_reach_the_job(monkeypatch, run_module):
    seen = fake_job(monkeypatch, {"changed": False})
    run_module(gns3_server, {"url": "http://gns3.test:3080", "_ansible_check_mode": True})
    assert seen["check_mode"] is True and callable(seen["hup"])
    params = seen["params"]
    assert (params["api_version"], params["validate_certs"], params["timeout"]) == ("auto", True, 30)
    assert "cloud" in params["skip_node_types"] and params["rate"] == 2.0
    assert (params["use_proxy"], params["ca_path"], params["client_cert"], params["client_key"]) == (True, None, None, None)


def test_tls_files_are_paths_and_a_missing_one_is_named(tmp_path, monkeypatch, run_module):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_module(gns3_server, {"url": "https://gns3.test:3443", "ca_path": "~/lab-ca.pem", "use_proxy": False})
    assert result["failed"] is True and result["changed"] is False
    assert "cannot use the TLS files given (ca_path %s/lab-ca.pem)" % tmp_path in result["msg"]


def test_warnings_are_warned_and_the_diff_only_comes_with_diff(monkeypatch, run_module, warning_texts):
    fake_job(monkeypatch, RESULT)
    result = run_module(gns3_server, {"url": "http://gns3.test:3080"})
    assert result["changed"] is True and "diff" not in result and warning_texts(result) == ["sent SIGHUP instead"]
    result = run_module(gns3_server, {"url": "http://gns3.test:3080", "_ansible_diff": True})
    assert result["diff"] == RESULT["diff"]


def test_a_failure_returns_what_was_done(monkeypatch, run_module, warning_texts):
    fake_job(monkeypatch, ResultError("node PC1 (vpcs) of project lab1 failed to start: too old", **RESULT))
    result = run_module(gns3_server, {"url": "http://gns3.test:3080"})
    assert result["failed"] is True and result["msg"].startswith("node PC1 (vpcs) of project lab1 failed")
    assert result["projects"] == RESULT["projects"] and warning_texts(result) == ["sent SIGHUP instead"]


def test_a_bad_url_fails_without_the_password(run_module):
    result = run_module(gns3_server, {"url": "ftp://admin:%s@gns3.test" % SECRET, "password": SECRET})
    assert result["failed"] is True and "is not an http:// or https:// URL" in result["msg"]
    assert SECRET not in result["msg"] and result["changed"] is False
