# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kea_command, run by ansible-playbook, against a real kea-dhcp4 that listens on no DHCP interface, only on
its control socket in the test's directory (so no network traffic and no namespace). The module's glue
without a daemon is unit-tested in tests/unit/plugins/modules/test_kea_command_module.py."""

import json
import os
import shutil
import subprocess

import pytest

from lab import lab_missing  # pylint: disable=import-error

MODULE = "labfarm.massclone.kea_command"
KEA = shutil.which("kea-dhcp4") or ("/usr/sbin/kea-dhcp4" if os.path.exists("/usr/sbin/kea-dhcp4") else None)


def kea_config(tmp_path, valid_lifetime=4000):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": []},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp_path / "kea.sock")},
        "lease-database": {"type": "memfile", "persist": True, "name": str(tmp_path / "leases.csv")},
        "valid-lifetime": valid_lifetime,
        "subnet4": [{"id": 1, "subnet": "10.96.0.0/24", "pools": [{"pool": "10.96.0.200 - 10.96.0.220"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                     "output_options": [{"output": str(tmp_path / "kea.log")}]}],
    }}


@pytest.fixture
def kea(tmp_path):
    """kea-dhcp4 on a config in tmp_path, stopped (by its PID) after the test."""
    if not KEA:
        lab_missing("kea-dhcp4 is not installed")
    conf = tmp_path / "kea-dhcp4.conf"
    conf.write_text(json.dumps(kea_config(tmp_path)))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp_path), KEA_LOCKFILE_DIR=str(tmp_path))
    with open(str(tmp_path / "kea.out"), "wb") as out:
        proc = subprocess.Popen([KEA, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield {"proc": proc, "conf": conf, "socket": str(tmp_path / "kea.sock"), "dir": tmp_path}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_config_get_waits_for_the_starting_daemon_and_changes_nothing(kea, run_module):
    result = run_module(MODULE, {"socket": kea["socket"], "command": "config-get", "timeout": 15})
    assert result["result"] == 0 and result["changed"] is False
    assert result["arguments"]["Dhcp4"]["valid-lifetime"] == 4000


def test_config_reload_takes_the_new_file(kea, run_module):
    run_module(MODULE, {"socket": kea["socket"], "command": "config-get", "timeout": 15})
    kea["conf"].write_text(json.dumps(kea_config(kea["dir"], valid_lifetime=1234)))
    result = run_module(MODULE, {"socket": kea["socket"], "command": "config-reload"})
    assert result["result"] == 0 and result["changed"] is True and not result.get("failed")
    again = run_module(MODULE, {"socket": kea["socket"], "command": "config-get"})
    assert again["arguments"]["Dhcp4"]["valid-lifetime"] == 1234
    assert kea["proc"].poll() is None


def test_config_reload_of_a_bad_file_fails_with_keas_text_and_kea_keeps_running(kea, run_module):
    run_module(MODULE, {"socket": kea["socket"], "command": "config-get", "timeout": 15})
    bad = kea_config(kea["dir"], valid_lifetime=999)
    bad["Dhcp4"]["subnet4"][0]["pools"] = [{"pool": "10.95.0.1 - 10.95.0.9"}]   # pool outside its subnet
    kea["conf"].write_text(json.dumps(bad))
    result = run_module(MODULE, {"socket": kea["socket"], "command": "config-reload"})
    assert result["failed"] and result["result"] == 1 and result["changed"] is False
    assert "10.95.0.1" in result["msg"] and result["msg"] == "Kea answered 1 to 'config-reload': %s" % result["text"]
    after = run_module(MODULE, {"socket": kea["socket"], "command": "config-get"})
    assert after["arguments"]["Dhcp4"]["valid-lifetime"] == 4000 and kea["proc"].poll() is None


def test_unknown_command_fails_with_keas_answer(kea, run_module):
    result = run_module(MODULE, {"socket": kea["socket"], "command": "no-such-command", "timeout": 15})
    assert result["failed"] and result["result"] == 2 and "no-such-command" in result["msg"]
