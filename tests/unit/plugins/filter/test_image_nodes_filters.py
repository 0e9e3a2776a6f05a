# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image_nodes filters: their input checks and what they return."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.image_nodes import (
    FilterModule, image_nodes_pending, image_nodes_problems, image_nodes_result)


def test_registered():
    assert set(FilterModule().filters()) == {"image_nodes_problems", "image_nodes_pending", "image_nodes_result"}


def test_problems_refuses_a_non_list():
    with pytest.raises(AnsibleFilterError, match="list of mappings"):
        image_nodes_problems("node1")
    assert image_nodes_problems([{"name": "a"}])[0] == "node a: no MAC (mac)"


def test_pending_and_result():
    assert image_nodes_pending(["a", "b"], {"a": {"ok": True, "image_digest": "x"}}, "x") == {"todo": ["b"], "done": ["a"]}
    out = image_nodes_result({"b": {"ok": False, "stage": "ring", "reason": "bypassed"}}, ["a"])
    assert out["failed"] == ["b"] and out["skipped"] == ["a"] and out["table"][-1] == "0 ok, 1 failed, 1 skipped"
    with pytest.raises(AnsibleFilterError):
        image_nodes_result([])
