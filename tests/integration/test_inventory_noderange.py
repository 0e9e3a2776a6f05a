# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The noderange inventory plugin through the real ansible-inventory."""

import json
import os
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(tmp_path, text, name="lab.noderange.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _plain(obj):
    # ansible-core 2.19 prints strings an inventory plugin makes as {"__ansible_unsafe": value}
    if len(obj) == 1 and "__ansible_unsafe" in obj:
        return obj["__ansible_unsafe"]
    return obj


def inventory(run, path):
    proc = run("ansible-inventory", "-i", path, "--list")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout, object_hook=_plain)


def hosts_of(data, group):
    return data.get(group, {}).get("hosts", [])


def test_the_demo_source_places_500_clones_on_4_servers(run):
    data = inventory(run, os.path.join(ROOT, "playbooks", "inventory", "exam.noderange.yml"))
    clones = hosts_of(data, "exam")
    assert clones == ["Cexam_%03d" % i for i in range(1, 501)]
    hostvars = data["_meta"]["hostvars"]
    per_server = {}
    for name in clones:
        per_server.setdefault(hostvars[name]["gns3_host"], []).append(name)
    # weighted by capacity: the two big servers take twice the small ones' share
    assert {k: len(v) for k, v in per_server.items()} == {"gns3-1": 170, "gns3-2": 170, "gns3-3": 85, "gns3-4": 75}
    assert hosts_of(data, "gns3_servers") == ["gns3-1", "gns3-2", "gns3-3", "gns3-4"]
    summary = hostvars["gns3-4"]["placement_exam"]
    assert summary["items"] == 75 and summary["memory_mb"] == 75 * 1024
    assert summary["free_memory_mb"] == 131072 - 16384 - 75 * 1024
    assert hostvars["Cexam_001"]["ip_address"] == "10.40.0.10"
    assert hostvars["Cexam_500"]["ip_address"] == "10.40.1.253"
    assert hostvars["Cexam_500"]["mac_address"] == "02:42:0a:00:01:f3"
    assert hostvars["Cexam_007"]["clone_number"] == "007" and hostvars["Cexam_007"]["clone_index"] == 7
    # the spare subset keeps the variables of the group that defined its hosts
    assert hosts_of(data, "exam_spare") == ["Cexam_%03d" % i for i in range(491, 501)]
    assert hostvars["Cexam_491"]["clone_index"] == 491
    # keyed_groups over the placement variable
    assert len(hosts_of(data, "on_gns3_3")) == 85


def test_groups_vars_children_and_references(run, tmp_path):
    path = write(tmp_path, """
        plugin: labfarm.massclone.noderange
        ranges:
          rack1:
            range: rack1-node[01-04]
            vars: {rack: 1}
          rack2:
            range: rack2-node[01-04]
            index_start: 0
            number_var: node_no
          compute:
            range: rack1,rack2,-rack2-node04
            children: [rack1]
          odd:
            range: (/.*node0[13])@compute
            index_var: odd_index
            number_var: ''
          xcat:
            range: n01-n03,n10+1
          short: "p[1-2]"
        """)
    data = inventory(run, path)
    hv = data["_meta"]["hostvars"]
    assert hosts_of(data, "compute") == ["rack1-node01", "rack1-node02", "rack1-node03", "rack1-node04",
                                         "rack2-node01", "rack2-node02", "rack2-node03"]
    assert data["compute"]["children"] == ["rack1"]
    assert data["rack1"]["hosts"][0] == "rack1-node01"
    assert hv["rack2-node01"]["clone_index"] == 0 and hv["rack2-node04"]["node_no"] == "3"
    assert hosts_of(data, "odd") == ["rack1-node01", "rack1-node03", "rack2-node01", "rack2-node03"]
    assert hv["rack2-node03"]["odd_index"] == 4
    assert hv["rack2-node03"]["clone_index"] == 2     # from rack2, which defined the host
    assert hosts_of(data, "xcat") == ["n01", "n02", "n03", "n10", "n11"]
    assert hosts_of(data, "short") == ["p1", "p2"] and hv["p2"]["clone_index"] == 2
    proc = run("ansible-inventory", "-i", path, "--host", "rack1-node02")
    assert json.loads(proc.stdout, object_hook=_plain)["rack"] == 1


def test_syntax_users_bring_from_other_tools(run, tmp_path):
    # issue 11, defect 6: xCAT group ranges, Ansible's omitted start, xCAT's file and regex rules
    listing = tmp_path / "spares.txt"
    listing.write_text("spare1\n^/nonexistent/more.txt\nspare2\n")
    path = write(tmp_path, """
        plugin: labfarm.massclone.noderange
        ranges:
          rack1: {range: "r1n[1-2]"}
          rack2: {range: "r2n1"}
          rack3: {range: "r3n[1-2]"}
          racks: {range: "rack1-rack3", index_var: '', number_var: ''}
          ansible: {range: "host[:2]"}
          spares: {range: "^%s"}
          first: {range: "/r.n1", index_var: '', number_var: ''}
        """ % listing)
    data = inventory(run, path)
    assert hosts_of(data, "racks") == ["r1n1", "r1n2", "r2n1", "r3n1", "r3n2"]
    assert hosts_of(data, "ansible") == ["host0", "host1", "host2"]
    assert hosts_of(data, "spares") == ["spare1", "spare2"]
    assert hosts_of(data, "first") == ["r1n1", "r2n1", "r3n1"]


def test_constructable_compose_groups_keyed_groups(run, tmp_path):
    path = write(tmp_path, """
        plugin: labfarm.massclone.noderange
        ranges:
          vms:
            range: vm[1-6]
            vars: {flavor: tiny}
            ip: {subnet: 192.0.2.0/24, start: 192.0.2.100, var: ansible_host}
            placement: {hosts: "hv[1-2]", policy: even, var: hypervisor}
        compose:
          ssh_target: ansible_host ~ ':22'
          flavor_upper: flavor | upper
        groups:
          first_half: clone_index <= 3
        keyed_groups:
          - key: hypervisor
            prefix: "on"
            separator: "_"
        """)
    data = inventory(run, path)
    hv = data["_meta"]["hostvars"]
    assert hv["vm1"]["ssh_target"] == "192.0.2.100:22"
    assert hv["vm6"]["ansible_host"] == "192.0.2.105"
    assert hv["vm2"]["flavor_upper"] == "TINY"
    assert hosts_of(data, "first_half") == ["vm1", "vm2", "vm3"]
    assert hosts_of(data, "on_hv1") == ["vm1", "vm2", "vm3"]
    assert hosts_of(data, "on_hv2") == ["vm4", "vm5", "vm6"]


def test_strict_compose_error_names_the_problem(run, tmp_path):
    path = write(tmp_path, """
        plugin: labfarm.massclone.noderange
        strict: true
        ranges:
          vms: {range: "vm[1-2]"}
        compose:
          broken: no_such_variable + 1
        """)
    proc = run("ansible-inventory", "-i", path, "--list")
    assert proc.returncode != 0
    assert "no_such_variable" in proc.stderr


@pytest.mark.parametrize("body, where, words", [
    ("exam: {range: 'C[05-130]'}", "ranges.exam.range", ["zero-padded differently", "position 2"]),
    ("exam: {rnage: 'C[1-5]'}", "ranges.exam.rnage", ["unknown key"]),
    ("exam: {vars: {a: 1}}", "ranges.exam.range", ["is required"]),
    ("exam: {range: 'C[1-300]', ip: {subnet: 10.0.0.0/24}}", "ranges.exam.ip.offset",
     ["300 hosts", "10.0.0.1 to 10.0.0.254"]),
    ("exam: {range: 'C[1-3]', ip: {subnet: 10.0.0.0/33}}", "ranges.exam.ip.subnet", ["10.0.0.0/33"]),
    ("exam: {range: 'C[1-3]', ip: {subnet: 10.0.0.0/24, start: 10.0.0.253}}", "ranges.exam.ip.start",
     ["3 hosts from 10.0.0.253"]),
    ("exam: {range: 'n[A]'}", "ranges.exam.range", ["position 2", "letters inside brackets", "[a:c]"]),
    ("exam: {range: 'n[x-y]'}", "ranges.exam.range", ["position 2", "letters inside brackets", "[a:c]"]),
    ("exam: {range: 'C[1-3]', mac: {prefix: '01:00:5e'}}", "ranges.exam.mac.prefix",
     ["not a locally administered unicast prefix"]),
    ("exam: {range: 'C[1-3]', mac: {prefix: 'zz'}}", "ranges.exam.mac.prefix", ["not a MAC prefix"]),
    ("exam: {range: 'C[1-300]', mac: {prefix: '02:00:00:00:00'}}", "ranges.exam.mac.offset", ["300 hosts"]),
    ("exam: {range: 'C[1-40]', placement: {hosts: 'g[1-2]', capacity: {memory_mb: 4096}, item: {memory_mb: 1024}}}",
     "ranges.exam.placement", ["40 items asked, 8 fit on 2 hosts", "missing"]),
    ("exam: {range: 'C[1-4]', placement: {hosts: 'g[1-2]', policy: spread}}", "ranges.exam.placement",
     ["spread"]),
    ("exam: {range: 'C[1-4]', children: [nope]}", "ranges.exam.children", ["'nope'"]),
    ("exam: {range: 'C[1-4]', index_start: x}", "ranges.exam.index_start", ["whole number"]),
    ("exam: {range: 'node[1-100000000]'}", "ranges.exam.range", ["more than the limit"]),
    ("exam: {range: 'C[1-3]', index_var: 5}", "ranges.exam.index_var", ["5 is not a valid variable name", "use ''"]),
    ("exam: {range: 'C[1-3]', mac: {prefix: '02:00', var: 'mac-address'}}", "ranges.exam.mac.var",
     ["'mac-address' is not a valid variable name"]),
    ("exam: {range: 'C[1-3]', mac: {prefix: '02:00', offset: -1}}", "ranges.exam.mac.offset", ["must be 0 or more"]),
    ("exam: {range: 'C[1-3]', ip: '10.0.0.0/24'}", "ranges.exam.ip", ["must be a mapping, got str"]),
    ("exam: {range: 5}", "ranges.exam.range", ["expected a string, got int"]),
    ("all_nodes: {range: 'rack1,rack2'}\n  rack1: {range: 'n[1-2]'}", "ranges.all_nodes.range",
     ["'rack1' is a group of this file, defined below all_nodes", "move rack1 above all_nodes"]),
])
def test_errors_name_file_group_and_key(run, tmp_path, body, where, words):
    path = write(tmp_path, "plugin: labfarm.massclone.noderange\nranges:\n  " + body + "\n")
    proc = run("ansible-inventory", "-i", path, "--list")
    assert proc.returncode != 0
    err = " ".join(proc.stderr.split())
    assert "%s: %s:" % (path, where) in err, err
    for word in words:
        assert word in err, err
    assert "Traceback" not in proc.stderr


def test_files_with_other_names_are_not_read(run, tmp_path):
    path = write(tmp_path, "plugin: labfarm.massclone.noderange\nranges:\n  a: {range: 'n[1-2]'}\n", name="lab.yml")
    proc = run("ansible-inventory", "-i", path, "--list")
    assert proc.returncode != 0   # no plugin accepts it (and unparsed inventories are fatal here)


def test_same_as_an_ini_range(run, tmp_path):
    ini = tmp_path / "hosts.ini"
    ini.write_text("[nodes]\nhost[0001:2000]\n")
    src = write(tmp_path, "plugin: labfarm.massclone.noderange\nranges:\n  nodes:\n    range: host[0001-2000]\n"
                "    index_var: ''\n    number_var: ''\n")
    assert inventory(run, str(ini))["nodes"] == inventory(run, src)["nodes"]
