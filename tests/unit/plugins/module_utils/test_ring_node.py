# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ring_copy's node (_ring/node.py) without the module: the result of a run, and the source's sizes in check mode."""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import source_sizes
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.node import node_result


def source_run(*oks):
    nodes = [{"node": "r%d" % i, "ok": ok, "error": None if ok else "gone", "items": {"disk": {"bytes_written": 5}}}
             for i, ok in enumerate(oks)]
    return {"nodes": nodes, "ok_nodes": [n["node"] for n in nodes if n["ok"]],
            "failed_nodes": [n["node"] for n in nodes if not n["ok"]]}


def test_a_receiver_that_wrote_is_changed_and_one_that_failed_raises_its_result():
    params = {"mode": "receive"}
    result = node_result(params, {"ok": True, "node": "r1", "error": None, "items": {"disk": {"bytes_written": 0}}})
    assert result["changed"] is False
    with pytest.raises(ResultError) as err:
        node_result(params, {"ok": False, "node": "r1", "error": "digest differs", "items": {"disk": {"bytes_written": 7}}})
    assert err.value.msg == "ring_copy: r1 failed: digest differs" and err.value.result["changed"] is True


def test_failed_receivers_fail_the_source_unless_allowed_and_one_succeeded():
    with pytest.raises(ResultError) as err:
        node_result({"mode": "send", "allow_failures": False}, source_run(True, False))
    assert err.value.msg == "ring_copy: 1 of 2 nodes failed: r1 (gone)" and err.value.result["failed_nodes"] == ["r1"]
    result = node_result({"mode": "send", "allow_failures": True}, source_run(True, False))
    assert result["changed"] is True and result["error"] is None
    with pytest.raises(ResultError):
        node_result({"mode": "send", "allow_failures": True}, source_run(False, False))


def test_source_sizes_give_a_regular_file_its_size_and_a_device_none(tmp_path):
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * 12345)
    assert source_sizes([{"name": "disk", "src": str(image)}, {"name": "null", "src": "/dev/null"}]) == {
        "disk": 12345, "null": None}
