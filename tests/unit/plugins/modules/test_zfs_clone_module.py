# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The zfs_clone module's own glue: arguments, missing zfs, diff only when asked, error mapping.

The zfs layer is tested in tests/unit/plugins/module_utils/test_zfs.py and, for real, in
tests/integration/zfs; here ZfsCli._run_command answers from a script, or a stand-in zfs executable
runs through AnsibleModule.run_command.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import ZfsCli
from ansible_collections.labfarm.massclone.plugins.modules import zfs_clone

SNAP = "tank/projects/P@s1"
LISTING = "tank\t-\tfilesystem\t/tank\tyes\ntank/projects\t-\tfilesystem\t/tank/projects\tyes\n" \
          "tank/projects/P\t-\tfilesystem\t/tank/projects/P\tyes\n"


@pytest.fixture
def zfs(monkeypatch):
    """Scripted zfs: argv tuple (without the binary) -> (rc, out, err); records every call."""
    calls = []
    answers = {}

    def fake(self, argv):
        calls.append(argv[1:])
        return answers.get(tuple(argv[1:]), (0, "", ""))

    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/sbin/zfs")
    monkeypatch.setattr(ZfsCli, "_run_command", fake)
    listing = ("list", "-H", "-o", "name,origin,type,mountpoint,mounted", "-t", "filesystem,volume", "-r", "tank")
    answers[listing] = (0, LISTING, "")
    answers[("list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", "tank/projects/P")] = (0, SNAP + "\n", "")
    return calls, answers


def test_a_missing_zfs_command_is_a_clear_error(monkeypatch, run_module):
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": "tank/c/C[1-2]"})
    assert result["failed"] and "the zfs command was not found" in result["msg"] and "zfs-fuse" in result["msg"]


def test_check_mode_with_diff(zfs, run_module):
    calls = zfs[0]
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": "tank/c/C[1-2]", "_ansible_check_mode": True,
                                    "_ansible_diff": True})
    assert result["changed"] and result["created"] == ["tank/c/C1", "tank/c/C2"]
    assert result["diff"] == {"before": {"clones": []}, "after": {"clones": ["tank/c/C1", "tank/c/C2"]}}
    assert [c[0] for c in calls] == ["list", "list"]


def test_no_diff_unless_asked_and_warnings_become_warnings(zfs, run_module):
    calls, answers = zfs
    answers[("list", "-H", "-o", "name", "-t", "snapshot", "-r", "tank/projects/P")] = (0, SNAP + "\n", "")
    answers[("list", "-H", "-o", "name,origin,type,mountpoint,mounted", "-t", "filesystem,volume", "-r", "tank")] = (
        0, LISTING + "tank/projects/P/new\t-\tfilesystem\t/tank/projects/P/new\tyes\n", "")
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": ["tank/c/C1"], "recursive": True})
    assert "diff" not in result
    assert result["created"] == ["tank/c/C1"]
    # ansible-core 2.19 returns warnings as WarningSummary dicts, older releases as strings
    assert "tank/projects/P/new has no snapshot @s1" in json.dumps(result["warnings"])
    assert ["clone", "-p", SNAP, "tank/c/C1"] in calls


def test_a_failed_clone_is_reported_as_failed_clone(zfs, run_module):
    answers = zfs[1]
    answers[("clone", "-p", SNAP, "tank/c/C2")] = (1, "", "cannot create 'tank/c/C2': out of space\n")
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": "tank/c/C[1-3]"})
    assert result["failed"] and result["failed_clone"] == "tank/c/C2"
    assert "out of space" in result["msg"] and result["changed"] is False


@pytest.mark.parametrize("args, words", [
    ({"snapshot": SNAP, "clones": "tank/c/C[1-", "retries": 3}, ["invalid noderange"]),
    ({"snapshot": SNAP, "clones": "tank/c/C1", "retries": 99}, ["retries must be a whole number from 0 to 20"]),
    ({"snapshot": "tank/projects/P", "clones": "tank/c/C1"}, ["exactly one '@'"]),
    ({"source": "tank/projects/P", "snapshot_name": "a@b", "clones": "tank/c/C1"}, ["snapshot_name 'a@b'"]),
    ({"snapshot": SNAP, "clones": 5}, ["clones must be a range expression such as pool/clones/C[01-40] or a list of names, got int"]),
    ({"snapshot": SNAP, "source": "tank/projects/P", "clones": "tank/c/C1"}, ["mutually exclusive"]),
    ({"source": "tank/projects/P", "clones": "tank/c/C1"}, ["snapshot_name"]),
])
def test_bad_arguments_fail_cleanly(zfs, run_module, args, words):
    calls = zfs[0]
    result = run_module(zfs_clone, args)
    assert result["failed"]
    for word in words:
        assert word in result["msg"]
    assert not [c for c in calls if c[0] != "list"]


STAND_IN = '''#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "LC_ALL": os.environ.get("LC_ALL")}}) + "\\n")
args = sys.argv[1:]
if args[0] == "list" and "filesystem,volume" in args:
    sys.stdout.write({listing!r})
elif args[0] == "list":
    sys.stdout.write({snap!r} + "\\n")
'''


@pytest.fixture
def zfs_stand_in(monkeypatch, tmp_path):
    """A real executable as zfs (a Python script that logs its argv and environment): the module runs it
    as on a managed node."""
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "zfs"
    script.write_text(STAND_IN.format(python=sys.executable, log=str(log), listing=LISTING, snap=SNAP))
    script.chmod(0o755)
    real = AnsibleModule.get_bin_path  # ansible-core itself looks for `locale`
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(script) if name == "zfs" else real(self, name, *a, **k))
    return script, lambda: [json.loads(line) for line in log.read_text().splitlines()]


def test_zfs_runs_with_its_argv_untouched_in_the_c_locale(zfs_stand_in, run_module, monkeypatch):
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    note = "$HOME and ~ stay as written"
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": "tank/c/C1", "properties": {"org.labfarm:note": note}})
    assert not result.get("failed"), result
    calls = zfs_stand_in[1]()
    assert [c["argv"] for c in calls][:3] == [
        ["list", "-H", "-o", "name,origin,type,mountpoint,mounted", "-t", "filesystem,volume", "-r", "tank"],
        ["list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", "tank/projects/P"],
        ["clone", "-p", "-o", "org.labfarm:note=" + note, SNAP, "tank/c/C1"],
    ]
    # zfs's messages are matched in English
    assert set(c["LC_ALL"] for c in calls) == {"C"}


def test_a_zfs_that_cannot_start_is_named(zfs_stand_in, run_module):
    script = zfs_stand_in[0]
    script.write_text("#!/nonexistent/interpreter\n")
    result = run_module(zfs_clone, {"snapshot": SNAP, "clones": "tank/c/C1"})
    assert result["failed"]
    assert "cannot list the datasets under tank" in result["msg"] and "cannot run %s" % script in result["msg"]
