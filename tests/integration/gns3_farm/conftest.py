# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A shared-store GNS3 farm reached over SSH only: hosts that are network namespaces with their own sshd
and address (tests/lab/sshhost.py), a storage host whose zfs-fuse pool holds the projects datasets, and
GNS3 servers (2.2.61 and 3.0.6) running inside their hosts' namespaces with the store as projects_path.

One store per GNS3 major version (two projects datasets on the one pool): GNS3 3.x rewrites every
project file it loads in its own format, which 2.2 then refuses, so a store serves one major version.
The file system is shared here, so each server's projects_path is the store's path itself (an NFS
mount of the same directory on a real farm).
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.gns3 import GNS3Server, missing_reason  # noqa: E402  pylint: disable=wrong-import-position
from lab.netns import OWNERS_DIR, can_use_netns  # noqa: E402  pylint: disable=wrong-import-position
from lab.sshhost import PREFIX, SshFarm, missing_tools  # noqa: E402  pylint: disable=wrong-import-position
from lab.zfs import session_lab  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "playbooks", "files", "sample_project")
GNS3_PORT = 3080   # each server in its own namespace: the same port everywhere
# Console ranges of each store (every server of a store uses it: each may open any clone).
STORES = {
    "2.2": {"servers": ["gns3a", "gns3b", "gns3c"], "console_range": (32000, 32999)},
    "3.0": {"servers": ["gns3d", "gns3e", "gns3f"], "console_range": (33000, 33999)},
}
UDP_RANGE = (20000, 20999)


@pytest.fixture(scope="session")
def shared_farm(tmp_path_factory):
    """{"farm", "store" (host), "pool", "stores": {version: {dataset, root, source, servers: {name: (host, GNS3Server)}}}}."""
    missing = missing_tools()
    if missing:
        lab_missing("SSH hosts need %s" % ", ".join(missing))
    reason = can_use_netns()
    if reason:
        lab_missing(reason)
    zfs = zfs_and_gns3_or_missing(STORES, "lfss")
    work = tmp_path_factory.mktemp("shared-farm")
    farm = SshFarm(work / "hosts").setup()
    forget_dead_pools(zfs)
    servers = []
    pool = None
    try:
        store = farm.add_host("store")
        # named after the farm: a later session destroys it if this one dies before its teardown
        pool = zfs.create_pool(farm.prefix + "p", store.path("zfs"), size="512M")
        stores = {}
        for version, settings in sorted(STORES.items()):
            dataset = pool.create(pool.path("gns3-%s" % version.replace(".", "")))
            dataset = pool.create(dataset + "/projects")
            root = pool.mountpoint_of(dataset)
            with open(os.path.join(SAMPLE, "lab.gns3")) as handle:
                source = json.load(handle)
            pool.create(dataset + "/" + source["project_id"])
            source_dir = os.path.join(root, source["project_id"])
            shutil.copytree(SAMPLE, source_dir, dirs_exist_ok=True)
            for index, node in enumerate(source["topology"]["nodes"]):
                node["console"] = settings["console_range"][0] + index
            with open(os.path.join(source_dir, "lab.gns3"), "w") as handle:
                json.dump(source, handle, indent=4, sort_keys=True)
            members = {}
            for name in settings["servers"]:
                host = farm.add_host(name)
                server = GNS3Server(version, host.path("gns3"), host=host.address, port=GNS3_PORT, netns=host.namespace,
                                    projects_path=root, console_range=settings["console_range"], udp_range=UDP_RANGE)
                servers.append(server)
                members[name] = (host, server)
            stores[version] = {"dataset": dataset, "root": root, "source": source, "servers": members,
                               "console_range": settings["console_range"]}
        start_all(servers)
        yield {"farm": farm, "store": store, "pool": pool, "stores": stores, "work": work}
    finally:
        stop_all(servers)
        farm.teardown()
        if pool is not None:
            destroy_pool(pool)
        zfs.stop_daemon()


def zfs_and_gns3_or_missing(versions, pool_prefix):
    """The zfs-fuse lab, its daemon running and the stale pools named ``pool_prefix``... destroyed; the test is
    skipped (or fails under LABFARM_REQUIRE_LAB) when zfs-fuse or a GNS3 version of ``versions`` is missing."""
    for version in versions:
        reason = missing_reason(version)
        if reason:
            lab_missing(reason)
    return session_lab(pool_prefix)


def _each(action, servers):
    """``action(server)`` for every server at once (starting or stopping one takes seconds); the errors, joined."""
    errors = []

    def run(server):
        try:
            action(server)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("GNS3 %s on %s:%d: %s" % (server.version, server.host, server.port, exc))
    threads = [threading.Thread(target=run, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return "; ".join(errors)


def start_all(servers):
    """Start the GNS3 servers together; RuntimeError naming each that did not start."""
    errors = _each(lambda server: server.start(), servers)
    if errors:
        raise RuntimeError(errors)


def stop_all(servers):
    """Stop the GNS3 servers together, each by its own PID."""
    _each(lambda server: server.stop(), servers)


def forget_dead_pools(zfs):
    """Destroy the pools of farms whose owner is gone (SshFarm.setup removed their owner record): a session killed
    before its teardown, or one whose teardown found zfs-fuse busy (processes in other mount namespaces can hold a
    copy of the mounts for a while)."""
    for name in zfs.pools():
        if name.startswith(PREFIX) and len(name) == len(PREFIX) + 6 and name.endswith("p") \
                and not os.path.exists(os.path.join(OWNERS_DIR, name[:-1])):
            subprocess.run(["zpool", "destroy", "-f", name], capture_output=True, check=False)


def destroy_pool(pool, timeout=60):
    """Destroy the store's pool; zfs-fuse answers 'busy' for a while after the servers stopped."""
    try:
        pool.destroy_waiting(timeout)
    except Exception as exc:  # pylint: disable=broad-except
        # not the test's failure: the next session destroys it (forget_dead_pools)
        warnings.warn("pool %s left for the next session to destroy: %s" % (pool.name, exc))


def inventory(shared_farm, version, path, names, summary_dir, servers=None, overrides=None, **extra):
    """Write an inventory of the store of ``version`` (the storage host and its servers) to ``path``."""
    farm, store = shared_farm["farm"], shared_farm["store"]
    info = shared_farm["stores"][version]
    hosts = {}
    for name, (host, server) in sorted(info["servers"].items()):
        if servers is not None and name not in servers:
            continue
        variables = dict(farm.inventory_vars(host), mass_clone_projects_root=info["root"], mass_clone_gns3_url=server.url)
        if server.major >= 3:
            variables.update(mass_clone_gns3_username=server.username, mass_clone_gns3_password=server.password)
        variables.update((overrides or {}).get(name, {}))
        hosts[name] = variables
    data = {"all": {"vars": dict({
        "mass_clone_storage_host": "store",
        "mass_clone_names": names,
        "mass_clone_source": "lab",
        "mass_clone_console_port_range": "%d-%d" % info["console_range"],
        "mass_clone_summary_dir": str(summary_dir),
        "mass_clone_owner": "0",   # numeric ids: the servers' user (root here) need not exist on the store
        "mass_clone_group": "0",
    }, **extra), "children": {
        "gns3_storage": {"hosts": {"store": dict(farm.inventory_vars(store), mass_clone_projects_root=info["root"],
                                                 mass_clone_projects_dataset=info["dataset"])}},
        "gns3_servers": {"hosts": hosts},
    }}}
    for name, variables in (overrides or {}).items():
        if name == "store":
            data["all"]["children"]["gns3_storage"]["hosts"]["store"].update(variables)
    path.write_text(json.dumps(data, indent=2))
    return path
