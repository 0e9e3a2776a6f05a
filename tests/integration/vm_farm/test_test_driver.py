# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt_farm on libvirt's test driver: four hypervisors of different capacities (node XML files).

A test driver's state lives in the process that opened it, so the tests that need several runs
against the same hypervisors (rerun, update, absent) call the module's code in this process with
connections kept open; the others run the module through ansible-playbook.

Capacity with 256 MiB / 1 vCPU VMs and no overcommit: hva 2 (CPUs), hvb 3 (4 CPUs, one taken by
a running domain that is not the farm's), hvc 2 (CPUs), hvd 8: 15 in all.
"""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import NS
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.farm import Farm, farm_info

from lab.libvirtd import FOREIGN_VOLUME, OTHER_DOMAIN  # pylint: disable=import-error

MODULE = "labfarm.massclone.libvirt_farm"
TEMPLATE = {"memory_mb": 256, "vcpus": 1, "network": "default", "domain_type": "test"}
BACKING = "/srv/lfvm-images/base.qcow2"


def params(nodes, **extra):
    out = {"vms": "lfvm[01-08]", "template": dict(TEMPLATE), "backing_file": BACKING, "hypervisors": nodes,
           "distribution": "round_robin", "state": "running", "start_rate": 0, "concurrency": 2,
           "mac_prefix": "52:54:00", "cpu_overcommit": 1.0}
    out.update(extra)
    return out


class Conns(dict):
    """{hypervisor name: open connection}, and .nodes: the hypervisor records of those connections."""
    nodes = None


@pytest.fixture
def conns(libvirt_mod, test_nodes):
    opened = Conns((hv["name"], libvirt_mod.open(hv["uri"])) for hv in test_nodes)
    opened.nodes = test_nodes
    yield opened
    for conn in opened.values():
        conn.close()


def farm(libvirt_mod, conns, p, check=False):
    return Farm(libvirt_mod, p, check_mode=check, connections=conns).run()


def where(result):
    return dict((vm["name"], vm["hypervisor"]) for vm in result["vms"])


def domains(conns):
    """{hypervisor: {domain: state}} as libvirt sees it."""
    return dict((hv, dict((d.name(), d.state()[0]) for d in conn.listAllDomains())) for hv, conn in conns.items())


def volumes(conns):
    return dict((hv, sorted(v.name() for p in conn.listAllStoragePools() for v in p.listAllVolumes()))
                for hv, conn in conns.items())


EXPECTED = {
    "round_robin": {"hva": ["lfvm01", "lfvm05"], "hvb": ["lfvm02", "lfvm06"], "hvc": ["lfvm03", "lfvm07"],
                    "hvd": ["lfvm04", "lfvm08"]},
    "even": {"hva": ["lfvm01", "lfvm02"], "hvb": ["lfvm03", "lfvm04"], "hvc": ["lfvm05", "lfvm06"],
             "hvd": ["lfvm07", "lfvm08"]},
    "concentrated": {"hva": ["lfvm01", "lfvm02"], "hvb": ["lfvm03", "lfvm04", "lfvm05"], "hvc": ["lfvm06", "lfvm07"],
                     "hvd": ["lfvm08"]},
    # shares of capacity 2:3:2:8 of 8 VMs, largest remainder: 1, 2, 1, 4
    "weighted": {"hva": ["lfvm01"], "hvb": ["lfvm02", "lfvm03"], "hvc": ["lfvm04"],
                 "hvd": ["lfvm05", "lfvm06", "lfvm07", "lfvm08"]},
}


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_placement_per_policy_defines_and_starts_on_the_right_hypervisor(libvirt_mod, conns, policy):
    result = farm(libvirt_mod, conns, params(conns.nodes, distribution=policy))
    got = {}
    for name, hv in where(result).items():
        got.setdefault(hv, []).append(name)
    assert got == EXPECTED[policy]
    seen = domains(conns)
    for hv, names in EXPECTED[policy].items():
        for name in names:
            assert seen[hv].get(name) == libvirt_mod.VIR_DOMAIN_RUNNING, (hv, name, seen[hv])
    assert sum(len(d) for d in seen.values()) == 8 + 1          # + the other domain on hvb
    assert result["changed"] and sorted(result["created"]) == ["lfvm%02d" % i for i in range(1, 9)]
    # each VM's overlay is a volume in its hypervisor's pool, on the backing file
    vols = volumes(conns)
    for hv, names in EXPECTED[policy].items():
        assert set("%s.qcow2" % n for n in names) <= set(vols[hv])


def test_rerun_changes_nothing_and_update_redefines_only_with_update(libvirt_mod, conns):
    nodes = conns.nodes
    first = farm(libvirt_mod, conns, params(nodes))
    uuids = dict((vm["name"], vm["uuid"]) for vm in first["vms"])
    macs = dict((vm["name"], vm["mac"]) for vm in first["vms"])
    again = farm(libvirt_mod, conns, params(nodes))
    assert not again["changed"]
    assert set(vm["action"] for vm in again["vms"]) == {"unchanged"}
    assert dict((vm["name"], vm["mac"]) for vm in again["vms"]) == macs
    assert where(again) == where(first)

    bigger = params(nodes, template=dict(TEMPLATE, memory_mb=300))
    differs = farm(libvirt_mod, conns, bigger, check=False)
    assert not differs["changed"] and sorted(differs["differs"]) == sorted(uuids)
    entry = differs["diff"]["after"]["vms"]["lfvm01"]
    assert entry["differs"] == {"memory_mb": {"now": 256, "wanted": 300}}
    conn = conns[first["vms"][0]["hypervisor"]]
    assert conn.lookupByName("lfvm01").maxMemory() == 256 * 1024      # not changed without update

    updated = farm(libvirt_mod, conns, dict(bigger, update=True))
    assert updated["changed"] and sorted(updated["updated"]) == sorted(uuids)
    assert conn.lookupByName("lfvm01").maxMemory() == 300 * 1024
    assert conn.lookupByName("lfvm01").UUIDString() == uuids["lfvm01"]     # same domain, redefined
    assert conn.lookupByName("lfvm01").state()[0] == libvirt_mod.VIR_DOMAIN_RUNNING
    assert not farm(libvirt_mod, conns, dict(bigger, update=True))["changed"]


def test_absent_removes_what_the_farm_made_and_nothing_else(libvirt_mod, conns):
    nodes = conns.nodes
    farm(libvirt_mod, conns, params(nodes, state="paused"))
    assert all(state == libvirt_mod.VIR_DOMAIN_PAUSED for hv, doms in domains(conns).items()
               for name, state in doms.items() if name != OTHER_DOMAIN)
    check = farm(libvirt_mod, conns, params(nodes, state="absent"), check=True)
    assert check["changed"] and len(check["removed"]) == 8
    assert sum(len(d) for d in domains(conns).values()) == 9           # check mode removed nothing
    gone = farm(libvirt_mod, conns, params(nodes, state="absent"))
    assert gone["changed"] and len(gone["removed"]) == 8
    assert domains(conns) == {"hva": {}, "hvb": {OTHER_DOMAIN: libvirt_mod.VIR_DOMAIN_RUNNING}, "hvc": {}, "hvd": {}}
    assert volumes(conns) == {"hva": [], "hvb": [FOREIGN_VOLUME], "hvc": [], "hvd": []}
    assert not farm(libvirt_mod, conns, params(nodes, state="absent"))["changed"]


def test_not_enough_capacity_fails_before_anything_is_created(libvirt_mod, conns):
    nodes = conns.nodes
    with pytest.raises(FarmError) as err:
        farm(libvirt_mod, conns, params(nodes, vms="lfvm[01-16]", distribution="even"))
    assert "16 items asked, 15 fit on 4 hosts" in err.value.msg and "nothing was created" in err.value.msg
    assert domains(conns)["hva"] == {} and volumes(conns)["hvd"] == []
    # with overcommit 4 they fit
    assert len(farm(libvirt_mod, conns, params(nodes, vms="lfvm[01-16]", cpu_overcommit=4))["created"]) == 16


def test_missing_vms_go_where_there_is_room_and_existing_ones_stay(libvirt_mod, conns):
    nodes = conns.nodes
    first = farm(libvirt_mod, conns, params(nodes, vms="lfvm[01-04]", distribution="concentrated"))
    assert set(where(first).values()) == {"hva", "hvb"}
    more = farm(libvirt_mod, conns, params(nodes, vms="lfvm[01-10]", distribution="concentrated"))
    assert dict((n, h) for n, h in where(more).items() if n <= "lfvm04") == where(first)
    assert sorted(more["created"]) == ["lfvm%02d" % i for i in range(5, 11)]
    counts = dict((p["hypervisor"], p["vms"]) for p in more["placement"])
    assert counts == {"hva": 2, "hvb": 3, "hvc": 2, "hvd": 3}


def test_a_domain_the_farm_did_not_make_is_refused_before_any_change(libvirt_mod, conns):
    nodes = conns.nodes
    with pytest.raises(FarmError) as err:
        farm(libvirt_mod, conns, params(nodes, vms=["lfvm01", OTHER_DOMAIN], state="absent"))
    assert OTHER_DOMAIN in err.value.msg and "not made by libvirt_farm" in err.value.msg
    assert OTHER_DOMAIN in domains(conns)["hvb"]


def test_a_failed_definition_rolls_back_what_the_call_created(libvirt_mod, conns):
    nodes = conns.nodes
    farm(libvirt_mod, conns, params(nodes, vms="lfvm[01-02]"))
    before = domains(conns), volumes(conns)
    # lfvm03's domain name is fine, but a second disk on vda makes libvirt refuse every new domain
    bad = params(nodes, vms="lfvm[01-05]",
                 template=dict(TEMPLATE, extra_xml="<devices><disk type='file' device='disk'><source file='/x'/>"
                               "<target dev='vda' bus='virtio'/></disk></devices>"), update=False)
    with pytest.raises(FarmError) as err:
        farm(libvirt_mod, conns, bad)
    assert "lfvm03" in err.value.msg or "lfvm0" in err.value.msg
    assert (domains(conns), volumes(conns)) == before


def test_check_mode_changes_nothing_and_reports_the_plan(libvirt_mod, conns):
    nodes = conns.nodes
    result = farm(libvirt_mod, conns, params(nodes, distribution="even"), check=True)
    assert result["changed"] and len(result["created"]) == 8
    assert where(result)["lfvm08"] == "hvd"
    assert sum(len(d) for d in domains(conns).values()) == 1
    assert volumes(conns)["hva"] == []


def test_domain_xml_carries_the_farm_metadata_and_mac(libvirt_mod, conns):
    nodes = conns.nodes
    result = farm(libvirt_mod, conns, params(nodes, vms="lfvm01", mac_prefix="52:54:00:97"))
    vm = result["vms"][0]
    assert vm["mac"].startswith("52:54:00:97:")
    xml = conns[vm["hypervisor"]].lookupByName("lfvm01").XMLDesc(0)
    assert NS in xml and vm["mac"] in xml and vm["overlay"] in xml
    # the same name gives the same MAC on another farm run from scratch
    farm(libvirt_mod, conns, params(nodes, vms="lfvm01", state="absent"))
    assert farm(libvirt_mod, conns, params(nodes, vms="lfvm01", mac_prefix="52:54:00:97"))["vms"][0]["mac"] == vm["mac"]


def test_info_reports_capacity_and_how_many_fit(libvirt_mod, conns):
    nodes = conns.nodes
    info = farm_info(libvirt_mod, {"hypervisors": nodes, "template": {"memory_mb": 256, "vcpus": 1}}, connections=conns)
    per = dict((h["name"], h) for h in info["hypervisors"])
    assert info["max_vms"] == 15
    assert [per[n]["max_vms"] for n in ("hva", "hvb", "hvc", "hvd")] == [2, 3, 2, 8]
    assert per["hvb"]["used_memory_mb"] == 256 and per["hvb"]["active_domains"] == 1
    over = farm_info(libvirt_mod, {"hypervisors": nodes, "template": {"memory_mb": 256, "vcpus": 1},
                                   "cpu_overcommit": 4, "reserve_memory_mb": 512}, connections=conns)
    assert [h["max_vms"] for h in over["hypervisors"]] == [6, 13, 2, 30]


# -- through ansible-playbook (one run each: the test driver's state ends with the module's process) --

def test_module_places_checks_and_diffs_through_ansible(run_tasks, test_nodes):
    args = params(test_nodes, distribution="concentrated", state="present")
    results = run_tasks(MODULE, [args], check=True, diff=True)
    check = results[0]
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] and check["created"] == ["lfvm%02d" % i for i in range(1, 9)]
    assert [p["vms"] for p in check["placement"]] == [2, 3, 2, 1]
    assert check["diff"]["after"]["vms"]["lfvm08"]["hypervisor"] == "hvd"
    real = run_tasks(MODULE, [args])[0]
    assert real["changed"] and all(vm["state"] == "shutoff" and vm["uuid"] for vm in real["vms"])


def test_module_errors_name_the_value_and_the_fix_without_traceback(run_tasks, test_nodes):
    cases = [
        (params(test_nodes, vms="lfvm[01-16]"), ["16 items asked, 15 fit", "Add hosts or capacity"]),
        (params(test_nodes, template=dict(TEMPLATE, boot=["floppy"])), ["template.boot", "floppy", "[network, hd]"]),
        (params(test_nodes, template=dict(TEMPLATE, bridge="br0")), ["network 'default' and bridge 'br0'", "keep one"]),
        (params(test_nodes, mac_prefix="01:00:5e"), ["multicast", "52:54:00"]),
        (params(test_nodes, vms="lfvm[01-"), ["vms:", "lfvm[001-050]"]),
        (params(test_nodes, backing_file="base.qcow2"), ["backing_file 'base.qcow2'", "absolute"]),
        (params([dict(test_nodes[0], uri="test:///nonexistent/node.xml")]), ["cannot connect", "test:///nonexistent"]),
        (params([dict(test_nodes[0], pool_dir="pool")]), ["pool_dir 'pool'", "absolute"]),
    ]
    results = run_tasks(MODULE, [args for args, dummy in cases])
    for (args, needles), result in zip(cases, results):
        assert result.get("failed"), (args, result)
        assert "Traceback" not in result["msg"] and "Traceback" not in str(result.get("exception", "")), result
        for needle in needles:
            assert needle in result["msg"], (needle, result["msg"])


def test_info_module_through_ansible(run_tasks, test_nodes):
    result = run_tasks("labfarm.massclone.libvirt_farm_info",
                       [{"hypervisors": test_nodes, "template": {"memory_mb": 256, "vcpus": 1}}])[0]
    assert not result.get("failed"), result.get("msg")
    assert result["max_vms"] == 15 and not result["changed"]
    assert [h["cpus"] for h in result["hypervisors"]] == [2, 4, 2, 8]


def test_an_assignment_split_over_calls_gives_the_same_vms_as_one_call(libvirt_mod, conns):
    """The role's way: placement once, then one call per hypervisor with the assignment."""
    nodes = conns.nodes
    one = farm(libvirt_mod, conns, params(nodes, first_ip="10.97.0.11"), check=True)
    assignment = where(one)
    split = []
    for node in nodes:
        result = farm(libvirt_mod, conns, params([node], first_ip="10.97.0.11", assignment=assignment))
        assert all(vm["hypervisor"] == node["name"] for vm in result["vms"])
        split += result["vms"]

    def key(vm):
        return (vm["name"], vm["hypervisor"], vm["mac"], vm["ip"])
    assert sorted(map(key, split)) == sorted(map(key, one["vms"]))
    assert sum(len(d) for d in domains(conns).values()) == 9


def test_a_differing_domain_is_not_redefined_but_gets_the_run_state(libvirt_mod, conns):
    nodes = conns.nodes
    farm(libvirt_mod, conns, params(nodes, vms="lfvm01", state="present"))
    hv = conns[where(farm(libvirt_mod, conns, params(nodes, vms="lfvm01", state="present")))["lfvm01"]]
    assert hv.lookupByName("lfvm01").state()[0] == libvirt_mod.VIR_DOMAIN_SHUTOFF
    result = farm(libvirt_mod, conns, params(nodes, vms="lfvm01", template=dict(TEMPLATE, vcpus=2)))
    assert result["differs"] == ["lfvm01"] and result["started"] == ["lfvm01"] and result["changed"]
    dom = hv.lookupByName("lfvm01")
    assert dom.state()[0] == libvirt_mod.VIR_DOMAIN_RUNNING and dom.info()[3] == 1


def test_start_rate_paces_the_starts(libvirt_mod, conns):
    """5 starts at 10 per second take at least 0.4 s between the first and the last (a lower bound only)."""
    import time  # pylint: disable=import-outside-toplevel
    nodes = conns.nodes
    farm(libvirt_mod, conns, params(nodes, vms="lfvm[1-5]", state="present"))
    begin = time.monotonic()
    result = farm(libvirt_mod, conns, params(nodes, vms="lfvm[1-5]", start_rate=10, concurrency=2))
    assert sorted(result["started"]) == ["lfvm%d" % i for i in range(1, 6)]
    assert time.monotonic() - begin >= 0.4
