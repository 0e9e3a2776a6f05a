# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kea_command and its control-socket client without Kea: check mode, a missing socket, and the message
framing against a unix socket server written here that answers as scripted (a real socket, no mock).
The module against a real kea-dhcp4 is tests/integration/netboot/test_kea_command.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading
import time

import pytest

from ansible_collections.labfarm.massclone.plugins.modules import kea_command
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.kea import KeaError, send_command


class ScriptedServer(object):
    """Accepts one connection on a unix socket, reads the request until it parses as JSON, then sends
    ``chunks`` (bytes, a pause between them) and closes, unless ``hold`` keeps the connection open."""

    def __init__(self, path, chunks, hold=False):
        self.path = path
        self.chunks = chunks
        self.hold = hold
        self.request = None
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        conn, dummy = self.listener.accept()
        try:
            data = b""
            while self.request is None:
                data += conn.recv(4096)
                try:
                    self.request = json.loads(data.decode())
                except ValueError:
                    continue
            for chunk in self.chunks:
                conn.sendall(chunk)
                time.sleep(0.05)
            if self.hold:
                self.release.wait(10)
        finally:
            conn.close()

    def close(self):
        self.release.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def server(tmp_path):
    started = []

    def start(chunks, hold=False):
        started.append(ScriptedServer(str(tmp_path / "kea.sock"), chunks, hold))
        return started[-1]
    yield start
    for item in started:
        item.close()


def test_the_request_is_one_json_object_and_an_answer_in_pieces_is_read_whole(server):
    answer = json.dumps({"result": 0, "text": "ok", "arguments": {"Dhcp4": {"valid-lifetime": 4000}}}).encode()
    fake = server([answer[:7], answer[7:30], answer[30:]])
    got = send_command(fake.path, "config-get", {"x": 1}, timeout=5)
    assert got == json.loads(answer.decode())
    assert fake.request == {"command": "config-get", "arguments": {"x": 1}}


def test_a_control_agents_list_is_unwrapped(server):
    fake = server([b'[{"result": 0, "text": "via the agent"}]'])
    assert send_command(fake.path, "status-get", timeout=5) == {"result": 0, "text": "via the agent"}
    assert fake.request == {"command": "status-get"}


@pytest.mark.parametrize("chunks, expected", [
    ([b'{"result": 0, "te'], "closed %s without a JSON answer to 'config-get'"),
    ([b'{"text": "no result code"}'], "unexpected answer from %s to 'config-get'"),
    ([b'"a string"'], "unexpected answer from %s to 'config-get'"),
])
def test_a_broken_answer_is_an_error_that_names_the_socket(server, chunks, expected):
    fake = server(chunks)
    with pytest.raises(KeaError) as info:
        send_command(fake.path, "config-get", timeout=5)
    assert expected % fake.path in str(info.value)


def test_an_answer_that_never_completes_times_out(server):
    fake = server([b'{"result": 0'], hold=True)
    started = time.monotonic()
    with pytest.raises(KeaError, match="no complete answer from .* within 0.5s to 'config-get'"):
        send_command(fake.path, "config-get", timeout=0.5)
    assert time.monotonic() - started < 5


def test_a_refused_command_fails_the_module_with_keas_answer(server, run_module):
    fake = server([b'{"result": 1, "text": "pool 10.95.0.1 - 10.95.0.9 is outside its subnet"}'])
    result = run_module(kea_command, {"socket": fake.path, "command": "config-reload", "timeout": 5})
    assert result["failed"] and result["result"] == 1 and result["changed"] is False
    assert result["msg"] == "Kea answered 1 to 'config-reload': %s" % result["text"]


def test_an_accepted_changing_command_reports_changed(server, run_module):
    fake = server([b'{"result": 0, "text": "Configuration successful."}'])
    result = run_module(kea_command, {"socket": fake.path, "command": "config-reload", "timeout": 5})
    assert result["changed"] is True and result["result"] == 0 and "arguments" not in result
    assert result["text"] == "Configuration successful." and not result.get("failed")


def test_check_mode_sends_no_changing_command(tmp_path, run_module):
    result = run_module(kea_command, {"socket": str(tmp_path / "absent.sock"), "command": "config-reload",
                                      "_ansible_check_mode": True})
    assert result["changed"] is True and not result.get("failed") and "result" not in result


def test_no_socket_fails_after_the_timeout_and_names_it(tmp_path, run_module):
    started = time.monotonic()
    result = run_module(kea_command, {"socket": str(tmp_path / "absent.sock"), "command": "config-get", "timeout": 0.5})
    assert result["failed"] and str(tmp_path / "absent.sock") in result["msg"] and "within 0.5s" in result["msg"]
    assert 0.4 < time.monotonic() - started < 5
