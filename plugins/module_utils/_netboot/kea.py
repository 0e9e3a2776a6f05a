# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""A client of a Kea daemon's unix control socket: one JSON command, one JSON answer.

Kea frames nothing: the request is one JSON object, the answer one JSON document (a Control Agent
wraps it in a one-element list) and the daemon closes the connection after it. The answer is read
until it parses. Standard library only (no socat, no Control Agent on the managed host).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError

# Commands that change nothing in the daemon.
READ_ONLY = ["config-get", "config-test", "status-get", "version-get", "list-commands", "build-report",
             "statistic-get", "statistic-get-all", "lease4-get", "lease4-get-all", "lease6-get", "lease6-get-all"]


class KeaError(ResultError):
    """No answer from Kea, or an answer that refuses the command (then ``result`` holds Kea's answer)."""


def send_command(path, command, arguments=None, timeout=10.0):
    """Send one command; return Kea's answer (a dict; a Control Agent's one-element list is unwrapped).
    Retries the connection until `timeout` while the socket is absent or refuses (daemon starting)."""
    request = {"command": command}
    if arguments is not None:
        request["arguments"] = arguments
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            sock.connect(path)
            break
        except (OSError, socket.error) as exc:
            sock.close()
            if time.monotonic() >= deadline:
                raise KeaError("cannot connect to Kea's control socket %s within %gs: %s" % (path, timeout, exc))
            time.sleep(0.1)
    try:
        sock.sendall(json.dumps(request).encode("utf-8"))
        data = b""
        answer = None
        while answer is None:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise KeaError("no complete answer from %s within %gs to %r (got %r)"
                               % (path, timeout, command, data[:200].decode("utf-8", "replace")))
            if not chunk:
                break
            data += chunk
            try:
                answer = json.loads(data.decode("utf-8"))
            except ValueError:
                continue
    finally:
        sock.close()
    if answer is None:
        raise KeaError("Kea closed %s without a JSON answer to %r: %r"
                       % (path, command, data[:200].decode("utf-8", "replace")))
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), int):
        raise KeaError("unexpected answer from %s to %r: %r" % (path, command, answer))
    return answer


def answer_fields(answer, command):
    """{result, text, arguments} of an answer (text and arguments when Kea gave them); KeaError carrying
    them, and changed=false, when Kea's result code is not 0 (the command was refused)."""
    fields = dict(result=answer["result"])
    for key in ("text", "arguments"):
        if key in answer:
            fields[key] = answer[key]
    if answer["result"] != 0:
        raise KeaError("Kea answered %s to %r: %s" % (answer["result"], command, answer.get("text", "(no text)")),
                       changed=False, **fields)
    return fields
