# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM farm's pure logic: option checks, MACs, addresses, domain XML and how a rerun compares it."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.capacity import capacity
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.domain import (
    differences,
    ips_for,
    mac_for,
    read_domain,
    render_xml,
    wanted_spec,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.errors import FarmError
from ansible_collections.labfarm.massclone.plugins.module_utils._libvirt.options import (
    check_hypervisors,
    check_mac_prefix,
    check_params,
    check_template,
    expand_vms,
    info_params,
)

HV = [{"name": "hv1", "uri": "qemu:///system", "pool_dir": "/var/lib/farm"}]


def spec(**template):
    tpl = check_template(dict({"network": "default"}, **template))
    return wanted_spec(tpl, "lfvm01", "52:54:00:01:02:03", "/var/lib/farm/lfvm01.qcow2", "/img/base.qcow2", "qcow2", "qemu")


def test_macs_are_deterministic_unicast_and_skip_taken_ones():
    octets = check_mac_prefix("52:54:00")
    one = mac_for(octets, "lfvm01", set())
    assert one == mac_for(octets, "lfvm01", set()) and one.startswith("52:54:00:") and len(one) == 17
    assert mac_for(octets, "lfvm02", set()) != one
    other = mac_for(octets, "lfvm01", {one})
    assert other != one and other.startswith("52:54:00:")
    assert mac_for(check_mac_prefix("02-aa-bb-cc-dd"), "x", set()).startswith("02:aa:bb:cc:dd:")


def test_a_thousand_names_get_a_thousand_macs():
    octets = check_mac_prefix("52:54:00:97")
    taken = set()
    for i in range(1000):
        taken.add(mac_for(octets, "lfvm%04d" % i, taken))
    assert len(taken) == 1000


@pytest.mark.parametrize("prefix, needle", [("01:00:5e", "multicast"), ("52:54", None), ("zz:00", "hex octets"),
                                            ("52:54:00:11:22:33", "1 to 5"), ("5:4:0", "hex octets")])
def test_mac_prefix_checks(prefix, needle):
    if needle is None:
        assert check_mac_prefix(prefix) == [0x52, 0x54]
        return
    with pytest.raises(FarmError, match=needle):
        check_mac_prefix(prefix)


def test_ips_follow_the_vm_order():
    assert ips_for("10.97.0.250", ["a", "b", "c", "d", "e", "f", "g"])["g"] == "10.97.1.0"
    assert ips_for(None, ["a"]) == {"a": None}


def test_vms_ranges_and_lists():
    assert expand_vms("lfvm[01-03],-lfvm02") == ["lfvm01", "lfvm03"]
    assert expand_vms(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(FarmError, match=r"'a/b' is not a usable domain name"):
        expand_vms(["a/b"])
    with pytest.raises(FarmError, match=r"vms\[0\] is 7"):
        expand_vms([7])


@pytest.mark.parametrize("template, needle", [
    ({"memory_mb": 0}, "template.memory_mb must be a whole number >= 1, got 0"),
    ({"vcpus": "two"}, "template.vcpus must be a whole number"),
    ({"network": "default", "bridge": "br0"}, "keep one"),
    ({"boot": ["usb"]}, "template.boot"),
    ({"domain_type": "xen"}, "template.domain_type is 'xen'"),
    ({"extra_xml": "<devices><serial>"}, "not well-formed"),
    ({"memroy_mb": 4}, "unknown key"),
])
def test_template_errors_name_the_key_and_fix(template, needle):
    with pytest.raises(FarmError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        check_template(template)


def test_hypervisor_errors():
    with pytest.raises(FarmError, match="used twice"):
        check_hypervisors(HV * 2)
    with pytest.raises(FarmError, match="not a libvirt URI"):
        check_hypervisors([dict(HV[0], uri="hv1")])
    with pytest.raises(FarmError, match="non-empty list"):
        check_hypervisors([])


def test_params_refuse_bad_values_before_anything():
    base = {"vms": "lfvm[1-2]", "hypervisors": HV, "backing_file": "/img/base.qcow2", "state": "running",
            "start_rate": 0, "concurrency": 1, "cpu_overcommit": 1.0}
    assert check_params(base)[0] == ["lfvm1", "lfvm2"]
    for change, needle in [({"state": "on"}, "state 'on'"), ({"backing_file": None}, "backing_file None"),
                           ({"start_rate": -1}, "start_rate"), ({"concurrency": 0}, "concurrency"),
                           ({"first_ip": "10.97.0.300"}, "first_ip '10.97.0.300'"),
                           ({"distribution": "random"}, "distribution 'random'"),
                           ({"backing_file": "/var/lib/farm/lfvm1.qcow2"}, "also the overlay path")]:
        with pytest.raises(FarmError, match=needle.replace("(", r"\(")):
            check_params(dict(base, **change))
    assert check_params(dict(base, state="absent", backing_file=None))[0] == ["lfvm1", "lfvm2"]


def test_info_params_keep_only_what_a_vm_needs_of_the_template():
    params = {"vms": None, "template": {"memory_mb": 64, "vcpus": 1, "nic_model": "bogus", "extra_xml": "<x"}}
    assert info_params(params) == {"vms": None, "template": {"memory_mb": 64, "vcpus": 1}}
    assert params["template"]["nic_model"] == "bogus"     # the module's own params are left alone
    assert info_params({"template": None}) == {"template": {}}


def test_rendered_xml_reads_back_with_no_differences():
    want = spec(memory_mb=64, boot=["network", "hd"], extra_xml="<devices><serial type='pty'/></devices><description>x</description>")
    xml = render_xml("lfvm01", want)
    root = ET.fromstring(xml)
    assert [b.get("dev") for b in root.findall("os/boot")] == ["network", "hd"]
    assert root.find("devices/serial").get("type") == "pty" and root.findtext("description") == "x"
    assert root.find("devices/interface/source").get("network") == "default"
    recorded, created, live = read_domain(xml)
    assert created is True and live["mac"] == "52:54:00:01:02:03" and live["memory_mb"] == 64
    assert differences(want, recorded, live) == []


def test_differences_see_the_template_and_edits_made_outside():
    want = spec()
    recorded, dummy, live = read_domain(render_xml("lfvm01", want))
    assert differences(spec(memory_mb=1024), recorded, live) == ["memory_mb"]
    assert differences(spec(bridge="br0", network=None), recorded, live) == ["network", "bridge"]
    edited = dict(live, vcpus=4)                     # someone ran virsh setvcpus --config
    assert differences(want, recorded, edited) == ["vcpus"]
    assert set(differences(want, None, live)) >= {"memory_mb", "mac"}    # no metadata: nothing matches


def test_capacity_counts_running_others_and_every_batch_domain():
    class FakeHv:  # the record only: Hypervisor's fields after scan()
        name, memory_mb, cpus = "hv1", 4096, 4
        record = {"max_vms": 5}
        domains = {"other-on": {"active": True, "memory_mb": 512, "vcpus": 1},
                   "other-off": {"active": False, "memory_mb": 2048, "vcpus": 2},
                   "lfvm01": {"active": False, "memory_mb": 256, "vcpus": 1}}
    host = capacity(FakeHv(), {"lfvm01", "lfvm02"}, None, reserve_mb=1024)
    assert host == {"name": "hv1", "memory_mb": 3072, "vcpus": 4, "used_memory_mb": 768, "used_vcpus": 2, "max_items": 4}
