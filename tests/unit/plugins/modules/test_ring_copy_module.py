# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ring_copy's main(): refusals before anything listens, check mode, and a real session on 127.0.0.1 whose
one receiver is missing (the failed result must come back as data beside the error)."""

import socket

from ansible_collections.labfarm.massclone.plugins.modules import ring_copy

KEY = "0123456789abcdef0123456789abcdef"


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def source_args(tmp_path, **extra):
    src = tmp_path / "disk.img"
    src.write_bytes(b"\x01" * 65536)
    args = {"mode": "send", "session": "unit", "key": KEY, "items": [{"name": "disk", "src": str(src)}],
            "chain": ["127.0.0.1:%d" % free_port()], "timeout": 2, "wait_timeout": 3,
            "state_dir": str(tmp_path / "state")}
    args.update(extra)
    return args


def test_bad_parameters_are_all_refused_before_anything_listens(tmp_path, run_module):
    out = run_module(ring_copy, source_args(tmp_path, key="short", chunk_size=1000,
                                            items=[{"name": "disk", "src": str(tmp_path / "nowhere")}]))
    assert out["failed"] and out["msg"].startswith("ring_copy: ")
    assert "key" in out["msg"] and "chunk" in out["msg"] and "nowhere" in out["msg"]
    assert "short" not in out["msg"]          # the key itself is never shown


def test_check_mode_reports_what_would_be_sent(tmp_path, run_module):
    out = run_module(ring_copy, dict(source_args(tmp_path), _ansible_check_mode=True))
    assert out["changed"] and out["sizes"] == {"disk": 65536} and out["bytes"] == 65536


def test_a_session_whose_receiver_is_missing_fails_with_its_result(tmp_path, run_module):
    out = run_module(ring_copy, source_args(tmp_path))
    assert out["failed"] and out["msg"].startswith("ring_copy: ")
    assert out["failed_nodes"] and out["error"] and isinstance(out["nodes"], list)
    assert KEY not in str(out)
