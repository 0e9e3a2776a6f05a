# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared store's judgement of its GNS3 servers (plugins/filter/mass_clone_store.py over _gns3/store.py),
fed with results shaped as ansible.builtin.slurp and labfarm.massclone.gns3_server register them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.labfarm.massclone.plugins.filter.mass_clone_store import FilterModule, mass_clone_store_check
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.store import judge_store, major_version

TOKEN = "k3y0fthisrun"


def marker(text):
    return {"changed": False, "content": base64.b64encode(text.encode()).decode(), "encoding": "base64"}


def api(version="2.2.61"):
    return {"changed": False, "server": {"version": version, "api": "v2", "url": "http://10.0.0.1:3080"}}


def probe(server, seen=TOKEN + "\n", version="2.2.61", **over):
    out = {"server": server, "path": "/srv/gns3/projects/.labfarm-store-marker." + TOKEN, "marker": marker(seen),
           "gns3": api(version)}
    out.update(over)
    return out


def test_registered():
    assert list(FilterModule().filters()) == ["mass_clone_store_check"]


def test_every_server_that_shows_the_store_and_answers_is_up_in_order():
    verdict = mass_clone_store_check([probe("b"), probe("a"), probe("c")], TOKEN)
    assert verdict == {"up": ["b", "a", "c"], "down": [], "unmounted": [], "errors": [],
                       "versions": {"a": "2.2.61", "b": "2.2.61", "c": "2.2.61"}}


def test_a_missing_marker_names_the_server_and_its_path():
    missing = {"failed": True, "msg": "file not found: /srv/gns3/projects/.labfarm-store-marker." + TOKEN}
    verdict = mass_clone_store_check([probe("a"), probe("b", marker=missing)], TOKEN)
    assert verdict["up"] == ["a"]
    assert [e["server"] for e in verdict["unmounted"]] == ["b"]
    path = "/srv/gns3/projects/.labfarm-store-marker." + TOKEN
    assert verdict["errors"] == ["GNS3 server b: %s is not there (file not found: %s): its projects_path does not show "
                                 "the store; mount the store's projects directory there (NFS) and run again" % (path, path)]


def test_a_marker_of_another_run_is_a_stale_or_wrong_mount_even_with_redistribute():
    verdict = mass_clone_store_check([probe("a"), probe("b", seen="old")], TOKEN, True)
    assert verdict["unmounted"][0]["server"] == "b"
    assert "holds 'old', not this run's %r" % TOKEN in verdict["errors"][0]


@pytest.mark.parametrize("down", [
    {"marker": {"unreachable": True, "msg": "Failed to connect to the host via ssh: timed out"}},
    {"gns3": {"unreachable": True, "msg": "Failed to connect"}},
    {"gns3": {"failed": True, "msg": "cannot reach GNS3 at http://10.0.0.2:3080: Connection refused"}},
    # as failed_when: false registers a failure
    {"gns3": {"failed": False, "changed": False, "msg": "cannot reach GNS3 at http://10.0.0.2:3080: Connection refused"}},
])
def test_a_server_that_does_not_answer_fails_the_run_unless_redistribute(down):
    probes = [probe("a"), probe("b", **down)]
    verdict = mass_clone_store_check(probes, TOKEN)
    assert verdict["up"] == ["a"] and verdict["down"][0]["server"] == "b"
    assert len(verdict["errors"]) == 1 and verdict["errors"][0].startswith("GNS3 server b ")
    assert "mass_clone_redistribute=true" in verdict["errors"][0]
    spread = mass_clone_store_check(probes, TOKEN, True)
    assert spread["up"] == ["a"] and spread["errors"] == [] and spread["down"] == verdict["down"]


def test_no_server_left():
    verdict = judge_store([probe("a", gns3={"failed": True, "msg": "refused"})], TOKEN, redistribute=True)
    assert verdict["errors"] == ["no GNS3 server can take the clones"]


def test_skipped_probes_count_as_down():
    verdict = judge_store([probe("a"), probe("b", marker={"skipped": True}, gns3={"skipped": True})], TOKEN)
    assert verdict["down"] == [{"server": "b", "reason": "was not probed (not in the play, or failed earlier)"}]


def test_two_gns3_major_versions_on_one_store_are_refused_with_each_server_named():
    verdict = judge_store([probe("a"), probe("b", version="3.0.6"), probe("c", version="2.2.55")], TOKEN)
    assert len(verdict["errors"]) == 1
    assert "different GNS3 major versions (2: a 2.2.61, c 2.2.55; 3: b 3.0.6)" in verdict["errors"][0]
    assert judge_store([probe("a", version="3.0.6"), probe("b", version="3.1.0")], TOKEN)["errors"] == []


def test_major_version():
    assert major_version("3.0.6") == 3 and major_version("2.2.61") == 2 and major_version(None) is None


@pytest.mark.parametrize("args, message", [
    (("nope", TOKEN), "must be the list of the servers' probes, got str"),
    (([], ""), "token must be the marker's non-empty text"),
    (([], TOKEN, "yes"), "redistribute must be a boolean"),
    (([{"path": "/x"}], TOKEN), "every probe must be a mapping with a server name"),
])
def test_bad_input_is_named(args, message):
    with pytest.raises(AnsibleFilterError, match="mass_clone_store_check: .*" + message.replace("(", r"\(")):
        mass_clone_store_check(*args)


def test_the_path_defaults_to_the_root_and_the_marker_name():
    verdict = judge_store([{"server": "a", "root": "/srv/p/", "marker": {"failed": True, "msg": "gone"}, "gns3": api()}], TOKEN)
    assert verdict["errors"][0].startswith("GNS3 server a: /srv/p/.labfarm-store-marker is not there (gone)")
