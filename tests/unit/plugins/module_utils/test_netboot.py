# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netboot validation and renderers: every validation rule (and that one error lists every
offender), each backend's output read back, per-MAC PXE files, switching hosts to local boot,
idempotence and the host-level diff. Tests marked `daemon` run the real daemon's config test on
the rendered files and are skipped when its binary is absent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.daemon import config_test_command
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.files import apply_plan, write_candidates
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.plan import plan
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.render import (
    parse_live_hosts, render_kea, render_pxe)
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.validate import BACKENDS, NetbootError, validate

SUBNETS = [{"network": "10.99.0.0/24", "gateway": "10.99.0.1", "dns": ["10.99.0.1"],
            "dynamic_range": "10.99.0.200-10.99.0.250", "domain": "lab.example"},
           {"network": "10.98.0.0/24", "gateway": "10.98.0.1"}]
PROFILES = {"ring": {"type": "linux", "label": "Imaging ring", "kernel": "ring/vmlinuz", "initrd": "ring/initrd.img",
                     "append": "ip=dhcp ring=1"},
            "chain": {"type": "ipxe_chain", "url": "http://10.99.0.1/x.ipxe"}}


def host(index, **kwargs):
    item = {"name": "node%03d" % index, "mac": "52:54:00:aa:bb:%02x" % index, "ip": "10.99.0.%d" % (10 + index)}
    item.update(kwargs)
    return item


HOSTS = [host(1), host(2, boot="ring"), host(3, boot="chain"), host(4, ip="10.98.0.4")]


def daemon(name):
    for directory in ("/usr/sbin", "/sbin", "/usr/bin"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    return shutil.which(name)


def error_of(hosts, subnets=None, profiles=None, default_profile="local"):
    with pytest.raises(NetbootError) as info:
        validate(hosts, SUBNETS if subnets is None else subnets, profiles, default_profile)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Validation rules

@pytest.mark.parametrize("mac", ["52:54:00:aa:bb", "52:54:00:aa:bb:zz", "5254.00aa", "52:54-00:aa:bb:01", "", None])
def test_malformed_mac(mac):
    message = error_of([host(1, mac=mac)])
    assert "node001" in message and "malformed" in message and repr(mac) in message


def test_mac_is_normalized():
    hosts = validate([host(1, mac="52-54-00-AA-BB-01")], SUBNETS)[0]
    assert hosts[0].mac == "52:54:00:aa:bb:01"


@pytest.mark.parametrize("mac", ["5254.00AA.bb01", " 52:54:00:aa:bb:01 "])
def test_mac_rule_is_the_collections_one(mac):
    """The one MAC rule (_common.mac): Cisco-dotted and surrounding blanks are accepted, written with colons."""
    hosts = validate([host(1, mac=mac)], SUBNETS)[0]
    assert hosts[0].mac == "52:54:00:aa:bb:01"


def test_malformed_mac_message_names_every_accepted_form():
    message = error_of([host(1, mac="zz")])
    assert "':' or '-'" in message and "aabb.ccdd.eeff" in message


def test_duplicate_mac_across_spellings():
    message = error_of([host(1), host(2, mac="52-54-00-AA-BB-01")])
    assert "node002" in message and "duplicate of host 'node001'" in message and "52:54:00:aa:bb:01" in message


def test_duplicate_ip():
    message = error_of([host(1), host(2, ip="10.99.0.11")])
    assert "node002" in message and "ip 10.99.0.11 is a duplicate of host 'node001'" in message


@pytest.mark.parametrize("name", ["-bad", "bad-", "has_underscore", "dot.ted", "x" * 64, "", None, "sp ace"])
def test_invalid_name(name):
    message = error_of([host(1, name=name)])
    assert "not a valid host name" in message and repr(name) in message


def test_duplicate_name_case_insensitive():
    message = error_of([host(1), host(2, name="NODE001")])
    assert "'NODE001' is a duplicate of hosts[0]" in message


@pytest.mark.parametrize("ip, rule", [
    ("10.97.0.5", "outside every subnet"),
    ("10.99.0.0", "network address"),
    ("10.99.0.255", "broadcast address"),
    ("10.99.0.200", "inside the dynamic range"),
    ("10.99.0.250", "inside the dynamic range"),
    ("10.99.0.1", "gateway"),
    ("10.99.0.300", "not an IPv4 address"),
])
def test_ip_rules(ip, rule):
    message = error_of([host(1, ip=ip)])
    assert "node001" in message and ip in message and rule in message


def test_unknown_boot_profile():
    message = error_of([host(1, boot="nope")], profiles=PROFILES)
    assert "boot 'nope' is not a profile" in message and "ring" in message


def test_every_offender_is_listed_at_once():
    hosts = [host(1, mac="zz"), host(2, ip="10.99.0.11"), host(3), host(4, mac="52:54:00:aa:bb:03"),
             host(5, name="bad_name"), host(6, ip="10.1.1.1"), host(7, ip="10.99.0.210"), host(8, boot="x")]
    message = error_of(hosts)
    assert message.startswith("7 problem(s) in hosts")
    for expected in ("node001", "node002", "node004", "bad_name", "node006", "node007", "node008"):
        assert expected in message
    assert "node003" not in message.replace("host 'node003'", "")


@pytest.mark.parametrize("subnets, expected", [
    ([{"network": "10.99.0.0/24"}, {"network": "10.99.0.128/25"}], "overlaps"),
    ([{"network": "10.99.0.1/24"}], "no host bits set"),
    ([{"network": "10.99.0.0/24", "gateway": "10.98.0.1"}], "gateway 10.98.0.1 is outside"),
    ([{"network": "10.99.0.0/24", "dynamic_range": "10.99.0.250-10.99.1.10"}], "outside the subnet"),
    ([{"network": "10.99.0.0/24", "dynamic_range": "10.99.0.250-10.99.0.200"}], "inverted"),
    ([{"network": "10.99.0.0/24", "dynamic_range": "10.99.0.250"}], "not FIRST-LAST"),
    ([{"network": "10.99.0.0/24", "dns": ["nope"]}], "dns server 'nope'"),
    ([], "subnets is empty"),
])
def test_bad_subnets(subnets, expected):
    assert expected in error_of([], subnets=subnets)


def test_all_subnet_problems_listed():
    message = error_of([], subnets=[{"network": "10.99.0.0/24", "gateway": "10.1.1.1",
                                     "dynamic_range": "10.99.0.9-10.99.0.1"}, {"network": "bad"}])
    assert message.startswith("3 problem(s) in subnets")


@pytest.mark.parametrize("profiles, default, expected", [
    ({"x": {"type": "linux"}}, "local", "needs a kernel"),
    ({"x": {"type": "ipxe_chain"}}, "local", "needs a url"),
    ({"x": {"type": "floppy"}}, "local", "type 'floppy'"),
    ({}, "nope", "default_profile 'nope'"),
])
def test_bad_profiles(profiles, default, expected):
    assert expected in error_of([], profiles=profiles, default_profile=default)


def test_default_profile_applies():
    hosts = validate([host(1)], SUBNETS, PROFILES, "ring")[0]
    assert hosts[0].boot == "ring"


# ---------------------------------------------------------------------------------------------
# Renderers, read back

def planned(tmp_path, backend, hosts=None, **kwargs):
    kwargs.setdefault("profiles", PROFILES)
    kwargs.setdefault("tftp_root", str(tmp_path / "tftp"))
    kwargs.setdefault("tftp_server", "10.99.0.1")
    return plan(HOSTS if hosts is None else hosts, SUBNETS, backend, str(tmp_path / ("%s.conf" % backend)), **kwargs)


def test_kea_json_loads(tmp_path):
    the_plan = planned(tmp_path, "kea", interfaces=["t_vs"], lease_file="/x/leases.csv", control_socket="/x/sock")
    data = json.loads(the_plan.writes[the_plan.main_path].decode())["Dhcp4"]
    assert data["interfaces-config"] == {"interfaces": ["t_vs"], "dhcp-socket-type": "raw"}
    assert data["lease-database"]["type"] == "memfile" and data["lease-database"]["name"] == "/x/leases.csv"
    assert data["control-socket"] == {"socket-type": "unix", "socket-name": "/x/sock"}
    first, second = data["subnet4"]
    assert first["pools"] == [{"pool": "10.99.0.200 - 10.99.0.250"}] and second["pools"] == []
    assert [r["hostname"] for r in first["reservations"]] == ["node001", "node002", "node003"]
    assert second["reservations"] == [{"hw-address": "52:54:00:aa:bb:04", "ip-address": "10.98.0.4",
                                       "hostname": "node004"}]
    classes = dict((c["name"], c) for c in data["client-classes"])
    assert classes["ipxe"]["boot-file-name"] == "boot.ipxe" and classes["pxe"]["boot-file-name"] == "pxelinux.0"
    assert classes["pxe"]["next-server"] == "10.99.0.1"
    assert {"name": "routers", "data": "10.99.0.1"} in first["option-data"]


def test_dnsmasq_main_and_hosts_file(tmp_path):
    the_plan = planned(tmp_path, "dnsmasq", interfaces=["t_vs"], enable_tftp=True, lease_file="/x/l",
                       pid_file="/x/p", log_file="/x/log")
    dest = the_plan.main_path
    main = the_plan.writes[dest].decode().splitlines()
    for line in ("port=0", "interface=t_vs", "bind-interfaces", "dhcp-leasefile=/x/l", "pid-file=/x/p",
                 "log-facility=/x/log", "dhcp-hostsfile=%s.hosts" % dest, "dhcp-match=set:ipxe,175",
                 "dhcp-boot=tag:!ipxe,pxelinux.0,,10.99.0.1", "dhcp-boot=tag:ipxe,boot.ipxe,,10.99.0.1",
                 "enable-tftp", "tftp-root=%s" % (tmp_path / "tftp"),
                 "dhcp-range=set:net0,10.99.0.200,10.99.0.250,255.255.255.0,43200s",
                 "dhcp-range=set:net1,10.98.0.0,static,255.255.255.0,43200s"):
        assert line in main
    hosts = [line.split(",") for line in the_plan.writes[dest + ".hosts"].decode().splitlines()
             if not line.startswith("#")]
    assert hosts[1] == ["52:54:00:aa:bb:02", "10.99.0.12", "node002"] and len(hosts) == 4
    assert "dhcp-host=52:54:00:aa:bb:01,10.99.0.11,node001" in the_plan.candidates["main"]


def test_isc_blocks(tmp_path):
    the_plan = planned(tmp_path, "isc", lease_file="/x/leases")
    text = the_plan.writes[the_plan.main_path].decode()
    assert "subnet 10.99.0.0 netmask 255.255.255.0 {" in text and "range 10.99.0.200 10.99.0.250;" in text
    assert 'if exists user-class and option user-class = "iPXE"' in text and "next-server 10.99.0.1;" in text
    assert 'lease-file-name "/x/leases";' in text
    assert parse_live_hosts("isc", text, None)["52:54:00:aa:bb:04"] == {
        "name": "node004", "mac": "52:54:00:aa:bb:04", "ip": "10.98.0.4"}
    assert "range" not in text.split("subnet 10.98.0.0")[1].split("}")[0]


def test_no_pxe_options_without_pxe(tmp_path):
    the_plan = plan(HOSTS, SUBNETS, "dnsmasq", str(tmp_path / "d.conf"), profiles=PROFILES)
    assert "dhcp-boot" not in the_plan.writes[the_plan.main_path].decode()
    assert all(not path.startswith(str(tmp_path / "tftp")) for path in the_plan.files)


def test_pxe_files(tmp_path):
    the_plan = planned(tmp_path, "dnsmasq")
    root = str(tmp_path / "tftp")
    files = dict((os.path.relpath(path, root), data.decode()) for path, data in the_plan.writes.items()
                 if path.startswith(root))
    assert sorted(files) == sorted(
        ["boot.ipxe", "pxelinux.cfg/default"]
        + ["pxelinux.cfg/01-52-54-00-aa-bb-%02x" % i for i in range(1, 5)]
        + ["ipxe/52-54-00-aa-bb-%02x.ipxe" % i for i in range(1, 5)])
    assert "LOCALBOOT 0" in files["pxelinux.cfg/01-52-54-00-aa-bb-01"]
    ring = files["pxelinux.cfg/01-52-54-00-aa-bb-02"]
    assert "DEFAULT ring" in ring and "KERNEL ring/vmlinuz" in ring and "APPEND ip=dhcp ring=1" in ring
    assert files["ipxe/52-54-00-aa-bb-01.ipxe"].startswith("#!ipxe\n") and \
        files["ipxe/52-54-00-aa-bb-01.ipxe"].endswith("exit\n")
    assert "kernel /ring/vmlinuz ip=dhcp ring=1\ninitrd /ring/initrd.img\nboot\n" in files["ipxe/52-54-00-aa-bb-02.ipxe"]
    assert files["ipxe/52-54-00-aa-bb-03.ipxe"].endswith("chain http://10.99.0.1/x.ipxe\n")
    menu = files["pxelinux.cfg/default"]
    assert "DEFAULT local" in menu and "LABEL ring" in menu and "LABEL chain" in menu
    assert "chain --autofree ipxe/${mac:hexhyp}.ipxe" in files["boot.ipxe"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_idempotent(tmp_path, backend):
    first = planned(tmp_path, backend)
    assert first.changed and first.changes["added"] == [h["name"] for h in HOSTS]
    apply_plan(first)
    second = planned(tmp_path, backend)
    assert not second.changed and second.writes == {} and second.removals == []
    assert second.changes == {"added": [], "removed": [], "changed": []}


@pytest.mark.parametrize("backend", BACKENDS)
def test_switch_to_local_rewrites_only_chosen(tmp_path, backend):
    hosts = [host(i, boot="ring") for i in range(1, 40)]
    apply_plan(planned(tmp_path, backend, hosts))
    root = tmp_path / "tftp"
    before = dict((path, os.stat(str(path)).st_mtime_ns) for path in root.rglob("*") if path.is_file())
    for path in before:
        os.utime(str(path), ns=(1, 1))
    hosts[4]["boot"] = hosts[9]["boot"] = "local"
    the_plan = planned(tmp_path, backend, hosts)
    assert sorted(the_plan.writes) == sorted(str(root / name) for name in (
        "pxelinux.cfg/01-52-54-00-aa-bb-05", "pxelinux.cfg/01-52-54-00-aa-bb-0a",
        "ipxe/52-54-00-aa-bb-05.ipxe", "ipxe/52-54-00-aa-bb-0a.ipxe"))
    assert the_plan.changes == {"added": [], "removed": [], "changed": ["node005", "node010"]}
    assert the_plan.diff["before"]["node005"] == {"boot": "ring"} and the_plan.diff["after"]["node005"] == {"boot": "local"}
    apply_plan(the_plan)
    touched = [path for path in before if os.stat(str(path)).st_mtime_ns != 1]
    assert sorted(str(path) for path in touched) == sorted(the_plan.writes)
    assert "LOCALBOOT 0" in (root / "pxelinux.cfg" / "01-52-54-00-aa-bb-05").read_text()


def test_diff_added_removed_changed_and_stale_files(tmp_path):
    apply_plan(planned(tmp_path, "kea"))
    hosts = [host(1, ip="10.99.0.99"), host(2, boot="ring"), host(4, ip="10.98.0.4"), host(5)]
    the_plan = planned(tmp_path, "kea", hosts)
    assert the_plan.changes == {"added": ["node005"], "removed": ["node003"], "changed": ["node001"]}
    assert the_plan.diff["before"]["node001"] == {"ip": "10.99.0.11"}
    assert the_plan.diff["after"]["node005"]["mac"] == "52:54:00:aa:bb:05"
    assert the_plan.diff["before"]["node003"]["name"] == "node003"
    removed = sorted(os.path.basename(path) for path in the_plan.removals)
    assert removed == ["01-52-54-00-aa-bb-03", "52-54-00-aa-bb-03.ipxe"]
    apply_plan(the_plan)
    assert not (tmp_path / "tftp" / "pxelinux.cfg" / "01-52-54-00-aa-bb-03").exists()
    assert not planned(tmp_path, "kea", hosts).changed


def test_foreign_pxe_files_are_kept(tmp_path):
    foreign = tmp_path / "tftp" / "pxelinux.cfg" / "01-52-54-00-00-00-99"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("DEFAULT x\n")
    apply_plan(planned(tmp_path, "isc"))
    assert foreign.exists() and planned(tmp_path, "isc").removals == []


def test_backup_and_bulk_write(tmp_path):
    hosts = [host(i) for i in range(1, 60)]
    apply_plan(planned(tmp_path, "dnsmasq", hosts))
    hosts[0]["ip"] = "10.99.0.150"
    backups = apply_plan(planned(tmp_path, "dnsmasq", hosts), backup=True, timestamp="T")
    dest = str(tmp_path / "dnsmasq.conf")
    root = tmp_path / "tftp"
    assert sorted(backups) == sorted([dest + ".hosts.T~", str(root / "pxelinux.cfg" / "01-52-54-00-aa-bb-01.T~"),
                                      str(root / "ipxe" / "52-54-00-aa-bb-01.ipxe.T~")])
    assert "10.99.0.11,node001" in open(dest + ".hosts.T~").read()
    # backups are not taken for stale per-MAC files on the next run
    assert not planned(tmp_path, "dnsmasq", hosts).changed
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_dest_must_be_absolute():
    with pytest.raises(NetbootError, match="absolute"):
        plan(HOSTS, SUBNETS, "kea", "relative.conf")


def test_ten_thousand_hosts_render_and_validate_fast():
    import time
    hosts = [{"name": "n%05d" % i, "mac": "52:54:00:00:%02x:%02x" % (i >> 8, i & 255),
              "ip": "10.100.%d.%d" % (i >> 8, i & 255), "boot": "ring" if i % 2 else None} for i in range(1, 10001)]
    subnets = [{"network": "10.100.0.0/16", "gateway": "10.100.255.254", "dynamic_range": "10.100.200.0-10.100.200.255"}]
    start = time.perf_counter()
    parsed, subnet_list, profiles = validate(hosts, subnets, PROFILES)
    render_kea(parsed, subnet_list, pxe=True)
    render_pxe(parsed, profiles, "local")
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------------------------------------
# The real daemons' config tests on the rendered files (skipped when the binary is absent)

@pytest.mark.parametrize("backend, binary", [("dnsmasq", "dnsmasq"), ("isc", "dhcpd"), ("kea", "kea-dhcp4")])
def test_daemon_accepts_rendered_config(tmp_path, backend, binary):
    path = daemon(binary)
    if not path:
        pytest.skip("%s is not installed" % binary)
    the_plan = planned(tmp_path, backend, enable_tftp=backend == "dnsmasq", lease_file=str(tmp_path / "leases"),
                       pid_file=str(tmp_path / "pid"), control_socket=str(tmp_path / "sock"))
    tempdir, candidate = write_candidates(the_plan, backend)
    try:
        assert not candidate.startswith(str(tmp_path))      # never beside the live files (issue 13)
        proc = subprocess.run(config_test_command(backend, path, candidate), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
    finally:
        shutil.rmtree(tempdir)
    assert proc.returncode == 0, proc.stdout.decode()


# ---------------------------------------------------------------------------------------------
# The imaging profile and boot_only (issue 14: boot entries)

IMAGING = {"imaging": {"type": "imaging", "kernel": "imaging/vmlinuz", "initrd": "imaging/initrd.img",
                       "append": "console=ttyS0,115200 quiet", "server": "10.99.0.1"}}


def pxe_text(tmp_path, name):
    return (tmp_path / "tftp" / name).read_text()


def test_imaging_entry_carries_the_node_and_the_controller(tmp_path):
    hosts = [host(1, boot="imaging"), host(4, ip="10.98.0.4", boot="imaging"), host(2)]
    the_plan = planned(tmp_path, "dnsmasq", hosts, profiles=IMAGING)
    apply_plan(the_plan)
    words = "console=ttyS0,115200 quiet labfarm.hostname=node001 labfarm.ip=10.99.0.11/24 labfarm.gateway=10.99.0.1 " \
            "labfarm.dns=10.99.0.1 labfarm.server=10.99.0.1"
    pxe = pxe_text(tmp_path, "pxelinux.cfg/01-52-54-00-aa-bb-01")
    assert "DEFAULT imaging\nPROMPT 0\nLABEL imaging\n" in pxe
    assert "  KERNEL imaging/vmlinuz\n  INITRD imaging/initrd.img\n  APPEND %s\n  IPAPPEND 2\n" % words in pxe
    ipxe = pxe_text(tmp_path, "ipxe/52-54-00-aa-bb-01.ipxe")
    assert ipxe.endswith("kernel /imaging/vmlinuz %s BOOTIF=01-52-54-00-aa-bb-01\ninitrd /imaging/initrd.img\n"
                         "boot\n" % words)
    other = pxe_text(tmp_path, "pxelinux.cfg/01-52-54-00-aa-bb-04")
    assert "labfarm.hostname=node004 labfarm.ip=10.98.0.4/24 labfarm.gateway=10.98.0.1 labfarm.server=" in other
    assert "LOCALBOOT 0" in pxe_text(tmp_path, "pxelinux.cfg/01-52-54-00-aa-bb-02")
    # the menus hold the entry without a node: the controller, and BOOTIF from the NIC
    assert "labfarm.server=10.99.0.1\n  IPAPPEND 2\n" in pxe_text(tmp_path, "pxelinux.cfg/default")
    assert "BOOTIF=01-${netX/mac:hexhyp}\n" in pxe_text(tmp_path, "boot.ipxe")
    assert not planned(tmp_path, "dnsmasq", hosts, profiles=IMAGING).changed


def test_imaging_entry_over_http_urls(tmp_path):
    profiles = {"imaging": dict(IMAGING["imaging"], kernel="http://10.99.0.1:8080/k", initrd="http://10.99.0.1:8080/i")}
    apply_plan(planned(tmp_path, "kea", [host(1, boot="imaging")], profiles=profiles))
    ipxe = pxe_text(tmp_path, "ipxe/52-54-00-aa-bb-01.ipxe")
    assert "kernel http://10.99.0.1:8080/k console=" in ipxe and "\ninitrd http://10.99.0.1:8080/i\nboot\n" in ipxe


@pytest.mark.parametrize("profile, expected", [
    ({"type": "imaging", "initrd": "i", "server": "10.99.0.1"}, "'imaging': type imaging needs a kernel"),
    ({"type": "imaging", "kernel": "k", "server": "10.99.0.1"}, "'imaging': type imaging needs a initrd"),
    ({"type": "imaging", "kernel": "k", "initrd": "i"}, "server None is not an IPv4 address"),
    ({"type": "imaging", "kernel": "k", "initrd": "i", "server": "ctl.example"}, "server 'ctl.example' is not an IPv4"),
    ({"type": "imaging", "kernel": "k x", "initrd": "i", "server": "10.99.0.1"}, "kernel 'k x' holds a space"),
    ({"type": "imaging", "kernel": "k", "initrd": "i", "server": "10.99.0.1", "append": "a\nb"}, "holds a line break"),
])
def test_bad_imaging_profiles(profile, expected):
    assert expected in error_of([host(1)], profiles={"imaging": profile})


@pytest.mark.parametrize("backend", BACKENDS)
def test_boot_only_switches_one_host_and_touches_nothing_else(tmp_path, backend):
    hosts = [host(i) for i in range(1, 6)]
    apply_plan(planned(tmp_path, backend, hosts, profiles=IMAGING))
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    for path in files:
        os.utime(str(path), ns=(1, 1))
    the_plan = planned(tmp_path, backend, [host(3, boot="imaging")], profiles=IMAGING, boot_only=True)
    root = tmp_path / "tftp"
    assert sorted(the_plan.writes) == [str(root / "ipxe/52-54-00-aa-bb-03.ipxe"),
                                       str(root / "pxelinux.cfg/01-52-54-00-aa-bb-03")]
    assert the_plan.removals == [] and the_plan.dhcp_files == []
    assert the_plan.changes == {"added": [], "removed": [], "changed": ["node003"]}
    assert the_plan.diff == {"before": {"node003": {"boot": "local"}}, "after": {"node003": {"boot": "imaging"}}}
    apply_plan(the_plan)
    assert sorted(str(p) for p in files if os.stat(str(p)).st_mtime_ns != 1) == sorted(the_plan.writes)
    assert "labfarm.hostname=node003" in pxe_text(tmp_path, "pxelinux.cfg/01-52-54-00-aa-bb-03")
    again = planned(tmp_path, backend, [host(3, boot="imaging")], profiles=IMAGING, boot_only=True)
    assert not again.changed and again.changes == {"added": [], "removed": [], "changed": []}
    back = planned(tmp_path, backend, [host(3, boot="local")], profiles=IMAGING, boot_only=True)
    assert back.diff["after"] == {"node003": {"boot": "local"}} and len(back.writes) == 2
    # the whole list afterwards still knows every host: nothing was removed
    assert planned(tmp_path, backend, hosts[:2] + [host(3, boot="imaging")] + hosts[3:], profiles=IMAGING).changed is False


def test_boot_only_refuses_a_host_the_dhcp_server_does_not_serve_as_given(tmp_path):
    apply_plan(planned(tmp_path, "isc", [host(1), host(2)], profiles=IMAGING))
    with pytest.raises(NetbootError) as info:
        planned(tmp_path, "isc", [host(7, boot="imaging"), host(2, ip="10.99.0.55", boot="imaging")], profiles=IMAGING,
                boot_only=True)
    message = str(info.value)
    assert "host 'node007': mac 52:54:00:aa:bb:07 is not in the live DHCP configuration" in message
    assert "host 'node002': the live DHCP configuration %s has mac 52:54:00:aa:bb:02 as host 'node002' with ip " \
           "10.99.0.12, not 10.99.0.55" % (tmp_path / "isc.conf") in message
    with pytest.raises(NetbootError) as info:
        planned(tmp_path, "isc", [host(1)], profiles=IMAGING, boot_only=True, tftp_root=None)
    assert "give tftp_root" in str(info.value)
