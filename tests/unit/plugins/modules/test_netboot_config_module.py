# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The netboot_config module's glue: check mode and diff, changed=false on a rerun, validation
errors leave files alone, and the real daemon's config test on the candidate (skipped when the
daemon is not installed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest


from ansible_collections.labfarm.massclone.plugins.modules import netboot_config

SUBNETS = [{"network": "10.99.0.0/24", "gateway": "10.99.0.1", "dynamic_range": "10.99.0.200-10.99.0.250"}]
HOSTS = [{"name": "node%03d" % i, "mac": "52:54:00:aa:bb:%02x" % i, "ip": "10.99.0.%d" % (10 + i)} for i in range(1, 4)]


def installed(name):
    return any(os.path.exists(os.path.join(d, name)) for d in ("/usr/sbin", "/sbin", "/usr/bin"))


def args_for(tmp_path, backend="dnsmasq", **extra):
    args = {"backend": backend, "dest": str(tmp_path / "dhcp.conf"), "hosts": HOSTS, "subnets": SUBNETS,
            "tftp_root": str(tmp_path / "tftp"), "tftp_server": "10.99.0.1", "lease_file": str(tmp_path / "leases"),
            "pid_file": str(tmp_path / "pid"), "control_socket": str(tmp_path / "sock")}
    args.update(extra)
    return args


def test_check_mode_diff_then_apply_then_unchanged(tmp_path, run_module):
    result = run_module(netboot_config, dict(args_for(tmp_path), _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] and result["hosts"] == 3 and not os.path.exists(str(tmp_path / "dhcp.conf"))
    assert result["changes"] == {"added": ["node001", "node002", "node003"], "removed": [], "changed": []}
    assert result["diff"]["after"]["node001"] == {"name": "node001", "mac": "52:54:00:aa:bb:01", "ip": "10.99.0.11",
                                                  "boot": "local"}
    assert str(tmp_path / "dhcp.conf.hosts") in result["files"]
    result = run_module(netboot_config, args_for(tmp_path))
    assert result["changed"] and os.path.exists(str(tmp_path / "dhcp.conf.hosts"))
    if installed("dnsmasq"):
        assert result["config_test"]["rc"] == 0 and "--test" in result["config_test"]["command"]
    result = run_module(netboot_config, args_for(tmp_path))
    assert result["changed"] is False and result["config_test"] is None and result["written"] == []


def test_validation_error_lists_all_and_writes_nothing(tmp_path, run_module):
    hosts = HOSTS + [{"name": "dup", "mac": HOSTS[0]["mac"], "ip": "10.99.0.12"}]
    result = run_module(netboot_config, args_for(tmp_path, hosts=hosts))
    assert result["failed"] and "duplicate of host 'node001'" in result["msg"]
    assert "ip 10.99.0.12 is a duplicate of host 'node002'" in result["msg"]
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.skipif(not installed("dhcpd"), reason="dhcpd is not installed")
def test_failing_daemon_test_leaves_live_files(tmp_path, run_module):
    result = run_module(netboot_config, args_for(tmp_path, backend="isc"))
    assert result["changed"] and result["config_test"]["rc"] == 0
    live = (tmp_path / "dhcp.conf").read_bytes()
    # a quote in the boot file name gets past validation, not past dhcpd -t
    result = run_module(netboot_config, args_for(tmp_path, backend="isc", ipxe_url='http://x/"boot.ipxe'))
    assert result["failed"] and "dhcpd config test failed" in result["msg"] and result["config_test"]["rc"] != 0
    assert (tmp_path / "dhcp.conf").read_bytes() == live
    assert [name for name in os.listdir(str(tmp_path)) if name.startswith(".")] == []


@pytest.mark.skipif(not installed("kea-dhcp4"), reason="kea-dhcp4 is not installed")
def test_kea_backup(tmp_path, run_module):
    result = run_module(netboot_config, args_for(tmp_path, backend="kea", interfaces=["t_absent_here"]))
    assert result["config_test"]["rc"] == 0, result["config_test"]["output"]
    assert '"t_absent_here"' in (tmp_path / "dhcp.conf").read_text()
    hosts = [dict(HOSTS[0], ip="10.99.0.99")] + HOSTS[1:]
    args = args_for(tmp_path, backend="kea", hosts=hosts, backup=True, _ansible_diff=True, interfaces=["t_absent_here"])
    result = run_module(netboot_config, args)
    assert result["changed"] and result["changes"]["changed"] == ["node001"]
    assert result["diff"] == {"before": {"node001": {"ip": "10.99.0.11"}}, "after": {"node001": {"ip": "10.99.0.99"}}}
    assert any(path.startswith(str(tmp_path / "dhcp.conf.")) for path in result["backup_files"])
    assert result["config_test"]["rc"] == 0


class _Watch(object):
    """What the config dir held while the daemon's config test ran (the module's run_command)."""

    def __init__(self, directory):
        self.directory = directory
        self.seen = []

    def __call__(self, original):
        def run_command(module, args, *rest, **kwargs):
            self.seen.append(sorted(os.listdir(self.directory)) if os.path.isdir(self.directory) else None)
            return original(module, args, *rest, **kwargs)
        return run_command


@pytest.mark.skipif(not installed("dnsmasq"), reason="dnsmasq is not installed")
def test_config_test_writes_nothing_in_the_config_dir(tmp_path, run_module, monkeypatch):
    # issue 13: the candidate went to a .netboot-test-* dir inside the config dir, even in check mode
    from ansible.module_utils.basic import AnsibleModule
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "other.conf").write_text("# another tool's file\n")
    watch = _Watch(str(etc))
    monkeypatch.setattr(AnsibleModule, "run_command", watch(AnsibleModule.run_command))
    args = args_for(tmp_path, dest=str(etc / "dhcp.conf"), _ansible_check_mode=True)
    result = run_module(netboot_config, args)
    assert result["changed"] and result["config_test"]["rc"] == 0, result
    candidate = result["config_test"]["command"][-1]
    assert not candidate.startswith(str(etc) + os.sep), candidate
    assert not os.path.exists(os.path.dirname(candidate))      # removed afterwards
    assert watch.seen == [["other.conf"]]                        # nothing of ours while dnsmasq --test ran
    assert os.listdir(str(etc)) == ["other.conf"]


@pytest.mark.skipif(not installed("dnsmasq"), reason="dnsmasq is not installed")
def test_check_mode_on_a_fresh_host_validates_and_creates_no_config_dir(tmp_path, run_module):
    etc = tmp_path / "etc" / "dnsmasq.d"
    result = run_module(netboot_config, args_for(tmp_path, dest=str(etc / "dhcp.conf"), _ansible_check_mode=True))
    assert result["changed"] and result["config_test"]["rc"] == 0, result
    assert not os.path.exists(str(tmp_path / "etc"))
    # and the test still catches what dnsmasq refuses
    result = run_module(netboot_config, args_for(tmp_path, dest=str(etc / "dhcp.conf"), _ansible_check_mode=True,
                                                 dns_port=70000))
    assert result["failed"] and "dnsmasq config test failed" in result["msg"], result
    assert not os.path.exists(str(tmp_path / "etc"))


def test_boot_only_check_diff_then_switch_then_unchanged(tmp_path, run_module):
    profiles = {"imaging": {"type": "imaging", "kernel": "i/vmlinuz", "initrd": "i/initrd.img", "server": "10.99.0.1"}}
    assert run_module(netboot_config, args_for(tmp_path, profiles=profiles))["changed"]
    one = [dict(HOSTS[1], boot="imaging")]
    args = args_for(tmp_path, hosts=one, profiles=profiles, boot_only=True)
    result = run_module(netboot_config, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] and result["config_test"] is None and len(result["written"]) == 2
    assert result["diff"] == {"before": {"node002": {"boot": "local"}}, "after": {"node002": {"boot": "imaging"}}}
    entry = tmp_path / "tftp" / "pxelinux.cfg" / "01-52-54-00-aa-bb-02"
    assert "LOCALBOOT 0" in entry.read_text()
    assert run_module(netboot_config, args)["changed"]
    assert "labfarm.hostname=node002 labfarm.ip=10.99.0.12/24" in entry.read_text()
    assert run_module(netboot_config, args)["changed"] is False
    assert "LOCALBOOT 0" in (tmp_path / "tftp" / "pxelinux.cfg" / "01-52-54-00-aa-bb-01").read_text()
