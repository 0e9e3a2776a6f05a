# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/mass_clone.yml over two "GNS3 servers" (two local hosts, each with its own zfs-fuse pool):
placement, one MAC prefix per server, check mode, idempotent rerun, bad input, absent."""

import csv
import json
import os
import shutil
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "playbooks", "files", "sample_project")
with open(os.path.join(SAMPLE, "lab.gns3")) as _handle:
    SOURCE_ID = json.load(_handle)["project_id"]


@pytest.fixture
def two_servers(zfs_lab, tmp_path):
    servers = {}
    pools = []
    try:
        for name in ("gns3-a", "gns3-b"):
            pool = zfs_lab.create_pool("lfzt%d_%s" % (os.getpid(), uuid.uuid4().hex[:6]), tmp_path / name)
            pools.append(pool)
            dataset = pool.create(pool.path("gns3/projects"))
            pool.create(dataset + "/" + SOURCE_ID)
            root = os.path.join(pool.mountpoint, "gns3", "projects")
            shutil.copytree(SAMPLE, os.path.join(root, SOURCE_ID), dirs_exist_ok=True)
            servers[name] = {"pool": pool, "dataset": dataset, "root": root}
        yield servers
    finally:
        for pool in pools:
            pool.destroy()


def playbook(run, tmp_path, servers, *extra, names="Cexam_[01-07]", stats=None):
    hosts = {}
    for name, server in servers.items():
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": os.path.abspath(sys.executable),
                       "mass_clone_projects_root": server["root"], "mass_clone_projects_dataset": server["dataset"]}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"gns3_servers": {"hosts": hosts, "vars": {
        "mass_clone_names": names, "mass_clone_source": "lab", "mass_clone_summary_dir": str(tmp_path)}}}))
    # ``stats``: a file that receives the run's set_stats data (what AWX keeps as the job's artifacts)
    recorder = [] if stats is None else [
        "env", "ANSIBLE_CALLBACK_PLUGINS=" + os.path.join(ROOT, "tests", "integration", "survey", "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED=record_stats", "LABFARM_STATS_FILE=" + str(stats)]
    return run(*(recorder + ["ansible-playbook", "-i", str(inventory), os.path.join(ROOT, "playbooks", "mass_clone.yml")]
                 + list(extra)))


def clones_on(server):
    out = server["pool"].zfs("list", "-H", "-o", "name,origin", "-r", server["dataset"])
    return sorted(line.split("\t")[0] for line in out.splitlines() if "@clonesource" in line)


def changed(output):
    return sum(int(line.split("changed=")[1].split()[0]) for line in output.splitlines() if "changed=" in line and " : ok=" in line)


def test_two_servers_check_mode_rerun_and_absent(run, tmp_path, two_servers):
    check = playbook(run, tmp_path, two_servers, "--check")
    assert check.returncode == 0, check.stdout[-5000:]
    assert all(clones_on(server) == [] for server in two_servers.values())

    first = playbook(run, tmp_path, two_servers, stats=tmp_path / "stats.json")
    assert first.returncode == 0, first.stdout[-5000:]
    # standalone: the playbook names gns3_storage only where the inventory has it
    assert "Could not match supplied host pattern" not in first.stdout + first.stderr, first.stderr
    # the clone set as job data, for the next job of an AWX workflow
    published = json.loads((tmp_path / "stats.json").read_text())["labfarm_mass_clone"]
    assert published["state"] == "present" and published["source"] == "lab"
    assert sorted(c["name"] for c in published["clones"]) == ["Cexam_%02d" % i for i in range(1, 8)]
    assert sorted(set(c["server"] for c in published["clones"])) == ["gns3-a", "gns3-b"]
    assert all(c["project_id"] and c["nodes"] and c["path"] for c in published["clones"])
    a, b = (clones_on(two_servers[name]) for name in ("gns3-a", "gns3-b"))
    assert (len(a), len(b)) == (4, 3)   # even: the remainder to the first server
    with open(str(tmp_path / "lab-clones.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(set(row["clone"] for row in rows)) == ["Cexam_%02d" % i for i in range(1, 8)]
    by_server = {}
    for row in rows:
        by_server.setdefault(row["server"], set()).update(mac for mac in row["macs"].split() if mac)
    # one MAC prefix octet per server: no two servers can hand out the same MAC
    assert all(mac.startswith("02:4c:46:00:") for mac in by_server["gns3-a"])
    assert all(mac.startswith("02:4c:46:01:") for mac in by_server["gns3-b"])
    assert "7 clones of 'lab'" in first.stdout and "on 2 server(s)" in first.stdout

    again = playbook(run, tmp_path, two_servers)
    assert again.returncode == 0 and changed(again.stdout) == 0, again.stdout[-5000:]

    gone = playbook(run, tmp_path, two_servers, "-e", "mass_clone_state=absent", stats=tmp_path / "stats.json")
    assert gone.returncode == 0, gone.stdout[-5000:]
    published = json.loads((tmp_path / "stats.json").read_text())["labfarm_mass_clone"]
    assert published["state"] == "absent" and published["clones"] == []
    assert sorted(published["removed"]) == ["Cexam_%02d" % i for i in range(1, 8)]
    for server in two_servers.values():
        assert clones_on(server) == []
        # the reset's farm lock file stays (it is never a stale lock: see _common/locks.py)
        assert sorted(os.listdir(server["root"])) == [".labfarm-farm.lock", SOURCE_ID]
        assert server["pool"].zfs("list", "-H", "-o", "name", "-t", "snapshot", "-r", server["dataset"]).split() == \
            [server["dataset"] + "/" + SOURCE_ID + "@clonesource"]
    assert not os.path.exists(str(tmp_path / "lab-clones.csv"))


def test_bad_input_fails_before_any_change(run, tmp_path, two_servers):
    missing = playbook(run, tmp_path, two_servers, "-e", "mass_clone_source=nope")
    assert missing.returncode != 0
    assert "mass_clone_source 'nope': no project under projects_root" in missing.stdout
    bad_range = playbook(run, tmp_path, two_servers, names="Cexam_[05-1]")
    assert bad_range.returncode != 0 and "noderange" in bad_range.stdout
    # five octets leave none for the server: refused by the plan, before zfs_clone makes a clone
    long_prefix = playbook(run, tmp_path, two_servers, "-e", "mass_clone_mac_prefix=02:4c:46:00:01")
    assert long_prefix.returncode != 0 and "mass_clone_mac_prefix 02:4c:46:00:01 has 5 octets" in long_prefix.stdout
    assert all(clones_on(server) == [] for server in two_servers.values())


# --- runs that share one projects root (issue 12, sections 1 and 1b) ----------------------------------

@pytest.fixture
def one_root(zfs_lab, tmp_path):
    """One zfs-fuse pool whose projects dataset holds the sample project (the source, 'lab')."""
    pool = zfs_lab.create_pool("lfzt%d_%s" % (os.getpid(), uuid.uuid4().hex[:6]), tmp_path / "pool")
    try:
        dataset = pool.create(pool.path("gns3/projects"))
        pool.create(dataset + "/" + SOURCE_ID)
        root = os.path.join(pool.mountpoint, "gns3", "projects")
        shutil.copytree(SAMPLE, os.path.join(root, SOURCE_ID), dirs_exist_ok=True)
        yield {"pool": pool, "dataset": dataset, "root": root}
    finally:
        pool.destroy()


def one_server_inventory(tmp_path, server, label, **variables):
    host = {"ansible_connection": "local", "ansible_python_interpreter": os.path.abspath(sys.executable),
            "mass_clone_projects_root": server["root"], "mass_clone_projects_dataset": server["dataset"]}
    summary = tmp_path / ("summary-" + label)
    summary.mkdir(exist_ok=True)
    group_vars = {"mass_clone_source": "lab", "mass_clone_summary_dir": str(summary)}
    group_vars.update(variables)
    inventory = tmp_path / ("inventory-%s.json" % label)
    inventory.write_text(json.dumps({"gns3_servers": {"hosts": {"gns3-" + label: host}, "vars": group_vars}}))
    return str(inventory)


def farm_values(root):
    """(console ports, MACs, project names) of every project under root."""
    ports, macs, names = [], [], []
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry, "lab.gns3")
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            data = json.load(handle)
        names.append(data["name"])
        for node in data["topology"]["nodes"]:
            if isinstance(node.get("console"), int):
                ports.append(node["console"])
            if (node.get("properties") or {}).get("mac_address"):
                macs.append(node["properties"]["mac_address"])
    return ports, macs, names


def test_two_playbook_runs_released_together_on_one_root_both_succeed(run, ansible_env, tmp_path, one_root):
    """Two teachers' runs on one projects root at the same moment, with different clone names: both
    succeed (the second waits for the first's locks), and no port or MAC is held twice."""
    import subprocess
    playbook_path = os.path.join(ROOT, "playbooks", "mass_clone.yml")
    commands = [["ansible-playbook", "-i", one_server_inventory(tmp_path, one_root, label, mass_clone_names=names),
                 playbook_path] for label, names in (("a", "Cexam_[01-15]"), ("b", "Cteam_[01-15]"))]
    procs = [subprocess.Popen(command, env=ansible_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for command in commands]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-6000:]
    ports, macs, names = farm_values(one_root["root"])
    assert sorted(names) == sorted(["lab"] + ["Cexam_%02d" % i for i in range(1, 16)] + ["Cteam_%02d" % i for i in range(1, 16)])
    assert len(ports) == len(set(ports)) == 31 * 5
    assert len(macs) == len(set(macs))


def farm_state(server):
    """What "the farm as it was" means: every dataset and snapshot of the pool with its origin, and every
    file under the projects root with its content (but the farm lock's, which names its last holder)."""
    datasets = server["pool"].zfs("list", "-H", "-t", "all", "-o", "name,origin", "-r", server["pool"].name)
    found = {}
    for base, dirs, names in os.walk(server["root"]):
        for name in dirs:
            found[os.path.relpath(os.path.join(base, name), server["root"]) + "/"] = None
        for name in names:
            if name == ".labfarm-farm.lock":
                found[name] = None
                continue
            with open(os.path.join(base, name), "rb") as handle:
                found[os.path.relpath(os.path.join(base, name), server["root"])] = handle.read()
    return sorted(datasets.splitlines()), found


def run_one(run, tmp_path, server, names, *extra, **variables):
    inventory = one_server_inventory(tmp_path, server, "x", mass_clone_names=names, **variables)
    return run("ansible-playbook", "-i", inventory, os.path.join(ROOT, "playbooks", "mass_clone.yml"), *extra)


@pytest.fixture
def three_clones(run, tmp_path, one_root):
    """one_root after a first run made Cexam_01 to Cexam_03 (their 15 consoles are 9986-10000)."""
    first = run_one(run, tmp_path, one_root, "Cexam_[01-03]")
    assert first.returncode == 0, first.stdout[-5000:]
    return one_root


def assert_nothing_left(result, before, server):
    assert result.returncode != 0
    assert farm_state(server) == before
    assert "nothing this run made was left" in result.stdout, result.stdout[-5000:]


def test_an_exhausted_console_range_leaves_the_farm_as_it_was(run, tmp_path, three_clones):
    before = farm_state(three_clones)
    result = run_one(run, tmp_path, three_clones, "Cexam_[04-23]", "-e", "mass_clone_console_port_range=9990-10000")
    assert_nothing_left(result, before, three_clones)
    assert "console_port_range 9990-10000 is exhausted" in result.stdout
    # and every later run still works: absent removes the first three, only the source stays
    gone = run_one(run, tmp_path, three_clones, "Cexam_[01-23]", "-e", "mass_clone_state=absent")
    assert gone.returncode == 0, gone.stdout[-5000:]
    assert sorted(os.listdir(three_clones["root"])) == [".labfarm-farm.lock", SOURCE_ID]


def test_a_corrupt_project_under_the_root_leaves_the_farm_as_it_was(run, tmp_path, three_clones):
    os.mkdir(os.path.join(three_clones["root"], "broken"))
    with open(os.path.join(three_clones["root"], "broken", "broken.gns3"), "w") as handle:
        handle.write('{"type": "topology", "revision": 9, ')
    before = farm_state(three_clones)
    result = run_one(run, tmp_path, three_clones, "Cexam_[04-08]")
    assert_nothing_left(result, before, three_clones)
    assert "broken.gns3 is not valid JSON" in result.stdout


def test_a_clone_that_cannot_be_made_leaves_the_farm_as_it_was(run, tmp_path, three_clones):
    from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.allocators import derive_project_id
    # Cexam_06's mountpoint holds a file: zfs could make its dataset but not mount it. The plan sees it first.
    blocked = os.path.join(three_clones["root"], derive_project_id(SOURCE_ID, "Cexam_06"))
    os.mkdir(blocked)
    with open(os.path.join(blocked, "left-by-someone"), "w") as handle:
        handle.write("x\n")
    before = farm_state(three_clones)
    result = run_one(run, tmp_path, three_clones, "Cexam_[04-08]")
    assert_nothing_left(result, before, three_clones)
    assert "%s holds no .gns3 file" % blocked in result.stdout
    os.remove(os.path.join(blocked, "left-by-someone"))
    os.rmdir(blocked)

    # Cexam_07's dataset exists, is no clone and is not mounted (the plan cannot see it): zfs_clone refuses it
    other = three_clones["pool"].create(three_clones["dataset"] + "/" + derive_project_id(SOURCE_ID, "Cexam_07"))
    three_clones["pool"].zfs("set", "mountpoint=none", other)
    before = farm_state(three_clones)
    result = run_one(run, tmp_path, three_clones, "Cexam_[04-08]")
    assert_nothing_left(result, before, three_clones)
    assert "%s (exists and is not a clone)" % other in result.stdout


def test_a_reset_failing_after_the_clones_were_made_destroys_them(run, tmp_path, three_clones):
    """The snapshot was taken while the source's file was broken, and the file has been mended since: the plan
    from the live file passes, the clones are made and hold the broken file, and their reset fails. The datasets
    this run made are destroyed and the error names them; the snapshot, which was there before, stays."""
    source_file = os.path.join(three_clones["root"], SOURCE_ID, "lab.gns3")
    with open(source_file, "rb") as handle:
        good = handle.read()
    with open(source_file, "wb") as handle:
        handle.write(b'{"type": "topology", "revision": 9, ')
    three_clones["pool"].zfs("snapshot", "%s/%s@broken" % (three_clones["dataset"], SOURCE_ID))
    with open(source_file, "wb") as handle:
        handle.write(good)
    before = farm_state(three_clones)
    result = run_one(run, tmp_path, three_clones, "Cexam_[04-05]", "-e", "mass_clone_snapshot_name=broken")
    assert_nothing_left(result, before, three_clones)
    assert "lab.gns3 is not valid JSON" in result.stdout
    assert "this call destroyed the datasets it had made (%s/" % three_clones["dataset"] in result.stdout


def test_a_farm_lock_held_elsewhere_makes_the_run_wait_then_fail_with_nothing_made(run, tmp_path, three_clones,
                                                                                   collections_path):
    """Another job holds the farm lock for longer than mass_clone_lock_timeout: the run waits that long, then
    fails naming the holder, before any dataset is made."""
    import subprocess
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys\n"
        "from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm_lock import farm_lock\n"
        "with farm_lock(sys.argv[1], 5):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"), three_clones["root"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=collections_path))
    try:
        assert holder.stdout.readline().strip() == "held"
        before = farm_state(three_clones)
        result = run_one(run, tmp_path, three_clones, "Cexam_[04-05]", "-e", "mass_clone_lock_timeout=2")
        assert_nothing_left(result, before, three_clones)
        assert "pid %d on host" % holder.pid in result.stdout
        assert "no dataset had been made" not in result.stdout   # refused by the lock, before the plan
        assert "another gns3_project_reset is working on projects_root" in result.stdout
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_another_runs_clone_not_reset_yet_does_not_hide_the_source(run, tmp_path, one_root):
    """Between its zfs_clone and its reset, another run's clones are byte copies of the source (same name and
    project_id), in directories named after their own ids: the source is still found, in the directory named
    after its id."""
    copy = os.path.join(one_root["root"], str(uuid.uuid4()))
    shutil.copytree(os.path.join(one_root["root"], SOURCE_ID), copy)
    result = run_one(run, tmp_path, one_root, "Cexam_[01-02]")
    assert result.returncode == 0, result.stdout[-5000:]
    ports, macs, names = farm_values(one_root["root"])
    assert sorted(names) == ["Cexam_01", "Cexam_02", "lab", "lab"]
    shutil.rmtree(copy)
