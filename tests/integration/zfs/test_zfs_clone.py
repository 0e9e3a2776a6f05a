# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labfarm.massclone.zfs_clone through the real ansible-playbook, on a real zfs-fuse pool."""

import os

MODULE = "labfarm.massclone.zfs_clone"
PROJECT = '{"name": "P", "project_id": "00000000-0000-0000-0000-000000000001"}\n'
STARTUP = "ip 10.0.0.1 255.255.255.0\n"


def make_source(pool, children=()):
    """pool/projects/P with two files (and child datasets), snapshot @s1 (recursive)."""
    source = pool.create(pool.path("projects/P"))
    pool.write_file(source, "P.gns3", PROJECT)
    pool.write_file(source, "project-files/vpcs/n1/startup.vpc", STARTUP)
    for child in children:
        pool.create(source + "/" + child)
        pool.write_file(source + "/" + child, "%s.txt" % child, "child %s\n" % child)
    return pool.snapshot(source + "@s1", recursive=True)


def ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def names(pool, fmt, indexes):
    return [pool.path(fmt % i) for i in indexes]


def read(path):
    with open(path) as handle:
        return handle.read()


def test_ten_clones_from_a_range_then_a_rerun_changes_nothing(zpool, run_module):
    snap = make_source(zpool)
    clones = names(zpool, "clones/C%02d", range(1, 11))
    properties = {"com.labfarm:exam": "t1", "atime": False}  # a boolean becomes off
    result = ok(run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-10]"),
                                    "properties": properties}, diff=True))
    assert result["changed"] is True
    assert result["created"] == clones and result["existing"] == []
    assert result["parents_created"] == [zpool.path("clones")]
    # one listing of datasets, one of snapshots, a clone each, one listing at the end
    assert result["commands"] == 2 + 10 + 1
    assert result["diff"] == {"before": {"clones": []}, "after": {"clones": clones}}
    datasets = zpool.datasets()
    assert zpool.get(clones[-1], "com.labfarm:exam") == "t1" and zpool.get(clones[-1], "atime") == "off"
    for entry in result["clones"]:
        assert entry["state"] == "created" and entry["origin"] == snap
        assert datasets[entry["name"]] == snap
        assert entry["mountpoint"] == os.path.join(zpool.mountpoint, "clones", entry["name"].rsplit("/", 1)[1])
        assert read(os.path.join(entry["mountpoint"], "P.gns3")) == PROJECT
        assert read(os.path.join(entry["mountpoint"], "project-files/vpcs/n1/startup.vpc")) == STARTUP

    again = ok(run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-10]")}, diff=True))
    assert again["changed"] is False
    assert again["created"] == [] and again["existing"] == clones
    assert {entry["state"] for entry in again["clones"]} == {"existing"}
    assert again["commands"] == 2
    assert again["diff"]["before"] == again["diff"]["after"] == {"clones": clones}
    assert zpool.datasets() == datasets


def test_check_mode_lists_the_plan_and_creates_nothing(zpool, run_module):
    snap = make_source(zpool)
    zpool.clone(snap, zpool.path("clones/C01"))
    before = zpool.datasets()
    result = ok(run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-04]")}, check=True, diff=True))
    assert result["changed"] is True
    assert result["created"] == names(zpool, "clones/C%02d", [2, 3, 4])
    assert result["existing"] == [zpool.path("clones/C01")]
    assert result["diff"]["after"]["clones"] == names(zpool, "clones/C%02d", [1, 2, 3, 4])
    assert [entry["state"] for entry in result["clones"]] == ["existing", "created", "created", "created"]
    assert result["commands"] == 2
    assert zpool.datasets() == before


def test_existing_datasets_with_another_origin_are_refused_before_anything_is_made(zpool, run_module):
    snap = make_source(zpool)
    other = zpool.create(zpool.path("projects/Other"))
    zpool.snapshot(other + "@x")
    zpool.create(zpool.path("clones/C03"))
    zpool.clone(other + "@x", zpool.path("clones/C04"))
    before = zpool.datasets()
    result = run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-05]")})
    assert result["failed"] is True and result["changed"] is False
    assert "%s (exists and is not a clone)" % zpool.path("clones/C03") in result["msg"]
    assert "%s (a clone of %s@x)" % (zpool.path("clones/C04"), other) in result["msg"]
    assert "Nothing was changed" in result["msg"]
    assert len(result["conflicts"]) == 2
    assert zpool.datasets() == before


def test_bad_input_gets_a_clear_error_and_changes_nothing(zpool, run_module):
    snap = make_source(zpool)
    before = zpool.datasets()
    bad = zpool.path("clones/C 02")
    result = run_module(MODULE, {"snapshot": snap, "clones": [zpool.path("clones/C01"), bad]})
    assert result["failed"] is True
    assert repr(bad) in result["msg"] and "letters, digits" in result["msg"]
    result = run_module(MODULE, {"snapshot": zpool.path("projects/P@nope"), "clones": zpool.path("clones/C[1-2]")})
    assert result["failed"] is True
    assert "snapshot %s does not exist" % zpool.path("projects/P@nope") in result["msg"]
    assert "create_snapshot: true" in result["msg"]
    assert "Traceback" not in result["msg"] and "module_stderr" not in result
    assert zpool.datasets() == before


def _block(pool, clone_name):
    """A non-empty directory where a later clone must mount: `zfs clone` makes it, then cannot mount it."""
    pool.create(pool.path("clones"))
    return pool.write_file(pool.path("clones"), clone_name + "/keep.txt", "not a clone\n")


def test_a_failure_in_the_middle_of_the_batch_is_rolled_back(zpool, run_module):
    snap = make_source(zpool)
    blocker = _block(zpool, "C04")
    before = zpool.datasets()
    result = run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-06]")})
    assert result["failed"] is True
    assert result["failed_clone"] == zpool.path("clones/C04")
    assert "directory is not empty" in result["msg"] and "directory is not empty" in result["stderr"]
    assert zpool.path("clones/C04") in result["msg"]
    # rolled back deepest first, the last made first
    assert result["rolled_back"] == names(zpool, "clones/C%02d", [3, 2, 1])
    assert result["created"] == []
    states = dict((entry["name"], entry["state"]) for entry in result["clones"])
    assert states[zpool.path("clones/C01")] == "rolled_back"
    assert states[zpool.path("clones/C04")] == "failed"
    assert states[zpool.path("clones/C06")] == "not_created"
    assert zpool.datasets() == before
    assert zpool.snapshots() == [snap]
    assert read(blocker) == "not a clone\n"


def test_without_rollback_the_clones_made_before_the_failure_are_kept_and_a_rerun_converges(zpool, run_module):
    snap = make_source(zpool)
    blocker = _block(zpool, "C04")
    args = {"snapshot": snap, "clones": zpool.path("clones/C[01-06]"), "rollback": False}
    result = run_module(MODULE, args)
    assert result["failed"] is True and result["changed"] is True
    assert result["failed_clone"] == zpool.path("clones/C04")
    made = names(zpool, "clones/C%02d", [1, 2, 3])
    assert result["created"] == made
    assert ", ".join(made) in result["msg"]
    datasets = zpool.datasets()
    assert [name for name in datasets if name.startswith(zpool.path("clones") + "/")] == made
    assert all(datasets[name] == snap for name in made)

    os.unlink(blocker)
    again = ok(run_module(MODULE, args))
    assert again["existing"] == made
    assert again["created"] == names(zpool, "clones/C%02d", [4, 5, 6])
    assert read(os.path.join(zpool.mountpoint, "clones/C04/P.gns3")) == PROJECT


def test_absent_destroys_only_the_clones_and_a_rerun_changes_nothing(zpool, run_module):
    snap = make_source(zpool)
    for name in names(zpool, "clones/C%02d", [1, 2, 3]):
        zpool.clone(snap, name)
    zpool.create(zpool.path("clones/plain"))
    args = {"snapshot": snap, "clones": zpool.path("clones/C[01-04]"), "state": "absent"}

    planned = ok(run_module(MODULE, args, check=True, diff=True))
    assert planned["changed"] is True and planned["destroyed"] == names(zpool, "clones/C%02d", [1, 2, 3])
    assert planned["diff"] == {"before": {"clones": planned["destroyed"]}, "after": {"clones": []}}
    assert len(zpool.datasets()) == 8

    result = ok(run_module(MODULE, args, diff=True))
    assert result["changed"] is True
    assert result["destroyed"] == names(zpool, "clones/C%02d", [1, 2, 3])
    assert [entry["state"] for entry in result["clones"]] == ["absent", "destroyed", "destroyed", "destroyed"]
    assert sorted(zpool.datasets()) == sorted([zpool.name, zpool.path("projects"), zpool.path("projects/P"),
                                              zpool.path("clones"), zpool.path("clones/plain")])
    assert zpool.snapshots() == [snap]
    assert read(os.path.join(zpool.mountpoint, "projects/P/P.gns3")) == PROJECT

    again = ok(run_module(MODULE, args))
    assert again["changed"] is False and again["destroyed"] == []

    refused = run_module(MODULE, {"snapshot": snap, "clones": [zpool.path("clones/plain"), zpool.path("projects/P")],
                                  "state": "absent"})
    assert refused["failed"] is True
    assert zpool.path("projects/P") in refused["msg"] and "source" in refused["msg"]
    refused = run_module(MODULE, {"snapshot": snap, "clones": [zpool.path("clones/plain")], "state": "absent"})
    assert refused["failed"] is True
    assert "%s (exists and is not a clone)" % zpool.path("clones/plain") in refused["msg"]
    assert zpool.exists(zpool.path("clones/plain")) and zpool.exists(snap)


def test_recursive_clones_keep_the_tree_and_absent_removes_it(zpool, run_module):
    snap = make_source(zpool, children=("a", "b"))
    args = {"snapshot": snap, "clones": [zpool.path("clones/C1"), zpool.path("clones/C2")], "recursive": True}
    result = ok(run_module(MODULE, args))
    expected = {}
    for clone in ("C1", "C2"):
        expected[zpool.path("clones/" + clone)] = snap
        for child in ("a", "b"):
            expected[zpool.path("clones/%s/%s" % (clone, child))] = zpool.path("projects/P/%s@s1" % child)
    assert sorted(result["created"]) == sorted(expected)
    datasets = zpool.datasets()
    for name, origin in expected.items():
        assert datasets[name] == origin
    assert read(os.path.join(zpool.mountpoint, "clones/C2/b/b.txt")) == "child b\n"
    assert read(os.path.join(zpool.mountpoint, "clones/C2/P.gns3")) == PROJECT

    gone = ok(run_module(MODULE, dict(args, state="absent")))
    assert sorted(gone["destroyed"]) == sorted(expected)
    # deepest first
    depths = [name.count("/") for name in gone["destroyed"]]
    assert depths == sorted(depths, reverse=True)
    assert not [name for name in zpool.datasets() if name.startswith(zpool.path("clones") + "/")]
    assert zpool.snapshots() == sorted([snap, zpool.path("projects/P/a@s1"), zpool.path("projects/P/b@s1")])


def test_create_snapshot_from_source_and_snapshot_name(zpool, run_module):
    make_source(zpool, children=("a",))
    source = zpool.path("projects/P")
    args = {"source": source, "snapshot_name": "exam1", "create_snapshot": True,
            "clones": zpool.path("clones/X[1-3]")}
    planned = ok(run_module(MODULE, args, check=True))
    assert planned["changed"] is True and planned["snapshot_created"] is True
    assert planned["created"] == names(zpool, "clones/X%d", [1, 2, 3])
    assert source + "@exam1" not in zpool.snapshots()

    result = ok(run_module(MODULE, args))
    assert result["snapshot"] == source + "@exam1" and result["snapshot_created"] is True
    # recursive snapshot: the child has it too
    assert {source + "@exam1", source + "/a@exam1"} <= set(zpool.snapshots())
    datasets = zpool.datasets()
    assert all(datasets[name] == source + "@exam1" for name in result["created"])

    again = ok(run_module(MODULE, args))
    assert again["changed"] is False and again["snapshot_created"] is False
    assert again["existing"] == result["created"]


HOST_LOCK_HOLDER = r"""
import sys
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import host_lock
with host_lock(60):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_batch_held_up_by_another_waits_at_most_lock_timeout(zpool, run_module, collections_path):
    """A hung batch (here a process holding the host lock) delays the next one for lock_timeout seconds, then
    it fails naming the holder, with no zfs command run; once the holder is gone the batch runs."""
    import socket
    import subprocess
    import sys
    snap = make_source(zpool)
    before = zpool.datasets()
    holder = subprocess.Popen([sys.executable, "-c", HOST_LOCK_HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=collections_path))
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-03]"), "lock_timeout": 2})
        assert result.get("failed") is True
        assert "another zfs_clone batch is running on this host, and no zfs command was run" in result["msg"]
        assert "pid %d on host %s (zfs_clone) since 20" % (holder.pid, socket.gethostname()) in result["msg"]
        assert "lock_timeout=2" in result["msg"]
        assert zpool.datasets() == before
    finally:
        holder.stdin.close()
        holder.wait(10)
    done = ok(run_module(MODULE, {"snapshot": snap, "clones": zpool.path("clones/C[01-03]"), "lock_timeout": 2}))
    assert done["created"] == names(zpool, "clones/C%02d", [1, 2, 3])
