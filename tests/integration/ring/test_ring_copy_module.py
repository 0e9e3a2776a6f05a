# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ring_copy through ansible-playbook: every bad parameter named before anything listens, check mode."""

MODULE = "labfarm.massclone.ring_copy"
KEY = "module-test-key-0123456789"


def test_bad_parameters_are_all_named_and_nothing_is_written(run_tasks, tmp_path):
    dest = tmp_path / "never.img"
    missing_parent = tmp_path / "no" / "such" / "dir.img"
    results = run_tasks(MODULE, [
        {"mode": "receive", "session": "m", "key": "short", "listen": "nowhere",
         "chain": ["127.0.0.1:17501", "127.0.0.1:17501", "bad"],
         "items": [{"name": "a", "dest": "relative/path"}, {"name": "a", "dest": str(dest)}, {"name": "b", "src": "/etc/hostname"}]},
        {"mode": "send", "session": "m", "key": KEY, "chain": [], "chunk_size": 1000,
         "items": [{"name": "a", "src": str(tmp_path / "missing.img")}, {"name": "b", "src": "/etc/hostname", "dest": "/tmp/x"}]},
        {"mode": "receive", "session": "m", "key": KEY, "listen": "127.0.0.1:17502", "chain": ["127.0.0.1:17502"],
         "items": [{"name": "a", "dest": str(dest)}]},
        {"mode": "receive", "session": "m", "key": KEY, "listen": "127.0.0.1:17504", "items": [{"name": "a", "dest": str(missing_parent)}]},
    ], check=True)
    first, second, third, fourth = (r["msg"] for r in results)
    assert all(r["failed"] for r in results)
    for text in ("key must be at least 16 characters", "listen 'nowhere' is not host:port",
                 "chain entry 'bad' is not host:port", "chain lists an address twice: 127.0.0.1:17501",
                 "item names given twice: a", "item a: dest relative/path must be an absolute path",
                 "item b: dest is required with mode: receive", "item b: src is for the source"):
        assert text in first, first
    for text in ("chain is empty", "item a: src %s does not exist" % (tmp_path / "missing.img"),
                 "item b: dest is for receivers", "chunk_size 1000 must be a multiple of 4096"):
        assert text in second, second
    assert "chain contains this node's own listen address 127.0.0.1:17502" in third
    assert "the directory of dest %s, %s, does not exist; create it first" % (missing_parent, missing_parent.parent) in fourth
    assert "Traceback" not in first + second + third
    assert not dest.exists()


def test_check_mode_validates_and_neither_listens_nor_writes(run_tasks, tmp_path):
    src = tmp_path / "src.img"
    src.write_bytes(b"x" * 8192)
    dest = tmp_path / "out.img"
    receive, send = run_tasks(MODULE, [
        {"mode": "receive", "session": "m", "key": KEY, "listen": "127.0.0.1:17503", "items": [{"name": "a", "dest": str(dest)}]},
        {"mode": "send", "session": "m", "key": KEY, "chain": ["127.0.0.1:17503"], "items": [{"name": "a", "src": str(src)}]},
    ], check=True)
    assert receive["changed"] and not receive.get("failed") and receive["items"] == {"a": {"dest": str(dest)}}
    assert send["changed"] and not send.get("failed") and send["bytes"] == 8192
    assert not dest.exists()
