# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/mass_clone.yml with every input a survey string (extra vars from a JSON of strings, as AWX passes
them), check mode first: the role normalises its inputs once, check mode changes nothing on a fresh farm, and
the run publishes the clone set and, with mass_clone_nodes_network, each clone node's address (labfarm_nodes)."""

import os
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TESTS)

# the AWX test's farm: a zfs-fuse pool whose projects dataset holds the sample project (no GNS3 server)
from integration.awx.test_runner_jobs import gns3_server, zfs_lab  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import


def mass_clone_vars(server):
    return {
        "mass_clone_names": "Csv_[01-03]", "mass_clone_source": "lab", "mass_clone_state": "present",
        "mass_clone_projects_root": server["root"], "mass_clone_projects_dataset": server["dataset"],
        "mass_clone_servers": "gns3-a", "mass_clone_storage_host": "", "mass_clone_redistribute": "false",
        "mass_clone_source_dataset": "", "mass_clone_snapshot_name": "clonesource",
        "mass_clone_zfs_properties": '{"quota": "1G"}', "mass_clone_owner": "", "mass_clone_group": "",
        "mass_clone_console_port_range": "7000-7100", "mass_clone_vnc_port_range": "5900-10000",
        "mass_clone_mac_prefix": "02:4c:48", "mass_clone_used_console_ports": "7000, 7001",
        "mass_clone_used_macs": "02:4c:48:00:00:01\n02:4c:48:00:00:02", "mass_clone_snapshots": "drop",
        "mass_clone_lock_timeout": "60", "mass_clone_placement_policy": "even", "mass_clone_clone_needs": "{}",
        "mass_clone_computes": "[]", "mass_clone_compute_placement": "",
        "mass_clone_gns3_url": "", "mass_clone_gns3_api_version": "auto", "mass_clone_gns3_validate_certs": "yes",
        "mass_clone_gns3_ca_path": "", "mass_clone_gns3_client_cert": "", "mass_clone_gns3_client_key": "",
        "mass_clone_gns3_use_proxy": "off", "mass_clone_reload": "no", "mass_clone_start": "false",
        "mass_clone_start_rate": "2", "mass_clone_start_concurrency": "4", "mass_clone_summary_dir": "",
        "mass_clone_nodes_network": "10.40.0.21/24",
    }


def test_mass_clone_every_input_a_survey_string_check_mode_first(run_job, gns3_server):  # noqa: F811  pylint: disable=redefined-outer-name
    server = gns3_server
    inventory = "gns3_servers:\n  hosts:\n    gns3-a:\n      ansible_connection: local\n" \
                "      ansible_python_interpreter: %s\n" % sys.executable
    before = server["pool"].datasets()
    proc, stats = run_job("mass_clone.yml", inventory, mass_clone_vars(server), check=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert server["pool"].datasets() == before, "check mode made datasets"
    assert server["pool"].zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", server["dataset"]).split() == []
    planned = stats["labfarm_nodes"]
    assert [c["name"] for c in stats["labfarm_mass_clone"]["clones"]] == ["Csv_01", "Csv_02", "Csv_03"]

    proc, stats = run_job("mass_clone.yml", inventory, mass_clone_vars(server))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    clones = stats["labfarm_mass_clone"]["clones"]
    assert [c["name"] for c in clones] == ["Csv_01", "Csv_02", "Csv_03"]
    consoles = [node["console"] for c in clones for node in c["nodes"] if node["console"] is not None]
    assert consoles and all(7002 <= port <= 7100 for port in consoles), consoles
    macs = [node["mac_address"] for c in clones for node in c["nodes"] if node["mac_address"]]
    assert len(macs) == 3 and not set(macs) & {"02:4c:48:00:00:01", "02:4c:48:00:00:02"}, macs
    assert stats["labfarm_nodes"] == [{"name": "Csv-%02d-R1" % i, "mac": mac, "ip": "10.40.0.%d" % (20 + i)}
                                      for i, mac in enumerate(macs, 1)]
    assert [(n["name"], n["ip"]) for n in planned] == [(n["name"], n["ip"]) for n in stats["labfarm_nodes"]]
    quota = server["pool"].zfs("get", "-H", "-o", "value", "quota", server["dataset"] + "/" + clones[0]["project_id"])
    assert quota.split() == ["1G"]
