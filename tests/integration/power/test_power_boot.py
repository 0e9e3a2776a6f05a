# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A machine powered and told to boot from the network through its BMC, as the imaging loop does it.

One ansible-playbook run (boot_imaging.yml): the BMC preflight, the netboot_server role's dnsmasq (DHCP + TFTP
in the lab's namespace) with the node's imaging entry, community.general.ipmi_boot (network) and ipmi_power
(on, reset, off) against VirtualBMC in front of a libvirt TCG domain; the domain's serial log must show the
entry's kernel and initrd booted twice with the command line netboot_config wrote. Then the entry is switched
to local (check mode and diff, the switch, a rerun that changes nothing). Also: a BMC that refuses the
credentials and one that does not answer stop the preflight with a message naming each node.
"""

import json
import os
import re
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, "boot_imaging.yml")
MEMORY_MIB = 96           # the smallest that boots Debian's kernel and this initramfs here; 64 MiB does not


def lab_vars(lab, node, results):
    net = lab.net
    return {
        "lab": {"netns": net.srv_ns, "bridge": net.bridge, "server": net.server_ip, "dir": lab.workdir + "/etc",
                "state_dir": lab.workdir + "/state", "tftp_root": lab.tftp_root, "kernel": "imaging/vmlinuz",
                "initrd": "imaging/initrd.img", "results": results,
                "subnets": [{"network": net.network, "gateway": net.server_ip, "dns": []}]},
        "node": node,
        "marker": "LFPX-IMAGING-UP",
    }


def playbook(run, tmp_path, variables, path=PLAYBOOK):
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    start = time.monotonic()
    proc = run("ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@%s" % vars_file, path)
    return proc, time.monotonic() - start


@pytest.mark.slow
def test_bmc_boots_the_imaging_entry_then_local(power_lab, run, tmp_path):
    lab = power_lab
    name = "lfpx-n1" + lab.run_id
    mac = "52:54:00:70:78:%02x" % (int(lab.run_id[:2], 16) or 1)
    serial = lab.domain(name, mac, memory=MEMORY_MIB)
    port = lab.bmcs.add(name, lab.ports[0], lab.libvirtd.uri, username="admin", password="s3cret")
    node = {"name": "node01", "mac": mac, "ip": lab.net.ip(11), "bmc": "127.0.0.1", "bmc_port": port,
            "bmc_user": "admin", "bmc_password": "s3cret"}
    variables = dict(lab_vars(lab, node, str(tmp_path / "results.json")), serial_log=serial)
    proc, seconds = playbook(run, tmp_path, variables)
    text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    assert proc.returncode == 0, "%s\n%s\n--- serial:\n%s" % (proc.stdout[-8000:], proc.stderr[-3000:], text[-3000:])
    print("playbook (preflight, role, ipmi_boot, on, boot, reset, boot, local, off): %.1f s" % seconds)

    # ipmi_boot changed the domain's boot device; the boots ran the entry's kernel, initrd and command line
    assert "<boot dev='network'/>" in lab.domain_xml(name)
    boots = re.findall(r"LFPX-IMAGING-UP (\S+) cmdline=(.*)", text)
    assert len(boots) >= 2 and boots[0][0] != boots[1][0], text[-3000:]     # two boots (two boot ids): on, reset
    words = "labfarm.hostname=node01 labfarm.ip=%s/24 labfarm.gateway=%s labfarm.server=%s BOOTIF=01-%s" % (
        node["ip"], lab.net.server_ip, lab.net.server_ip, mac.replace(":", "-"))
    for dummy, cmdline in boots:
        assert cmdline.strip().endswith("console=ttyS0,115200 panic=5 " + words), cmdline
    assert "Linux version" in text     # Debian's kernel printed its banner on ttyS0

    # the entry went back to local: check mode and diff first, then the switch, then nothing to do
    results = json.loads((tmp_path / "results.json").read_text())
    entry = os.path.join(lab.tftp_root, "pxelinux.cfg", "01-" + mac.replace(":", "-"))
    ipxe = os.path.join(lab.tftp_root, "ipxe", mac.replace(":", "-") + ".ipxe")
    assert results["local_check"]["changed"] and results["local_check"]["diff"] == {
        "before": {"node01": {"boot": "imaging"}}, "after": {"node01": {"boot": "local"}}}
    assert results["local_entry"]["changed"] and sorted(results["local_entry"]["written"]) == sorted([entry, ipxe])
    assert results["local_again"]["changed"] is False
    assert "LOCALBOOT 0" in open(entry).read() and open(ipxe).read().endswith("exit\n")
    assert "imaging" in open(os.path.join(lab.tftp_root, "pxelinux.cfg", "default")).read()   # the menu is untouched


PREFLIGHT = """---
- name: BMC preflight
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check every BMC
      ansible.builtin.include_role:
        name: labfarm.massclone.netboot_server
        tasks_from: bmc_check
      vars:
        netboot_server_bmc_nodes: "{{ nodes }}"
"""


def test_bmc_preflight_names_each_node_whose_bmc_refuses_or_is_silent(power_lab, run, tmp_path):
    lab = power_lab
    name = "lfpx-n2" + lab.run_id
    lab.domain(name, "52:54:00:70:79:01")
    port = lab.bmcs.add(name, lab.ports[1], lab.libvirtd.uri, username="admin", password="right")
    silent = lab.ports[2]          # nothing listens there
    nodes = [{"name": "good", "bmc": "127.0.0.1", "bmc_port": port, "bmc_user": "admin", "bmc_password": "right"},
             {"name": "badpw", "bmc": "127.0.0.1", "bmc_port": port, "bmc_user": "admin", "bmc_password": "wrong"},
             {"name": "gone", "bmc": "127.0.0.1", "bmc_port": silent, "bmc_user": "admin", "bmc_password": "right"},
             {"name": "nobmc", "bmc_user": "admin", "bmc_password": "right"}]
    path = tmp_path / "preflight.yml"
    path.write_text(PREFLIGHT)
    proc, seconds = playbook(run, tmp_path, {"nodes": nodes}, path=str(path))
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "3 of 4 BMC(s) cannot be used" in out, out[-4000:]
    assert "node badpw: its BMC 127.0.0.1:%d refuses the credentials of user 'admin' (Incorrect password provided)" % port in out
    assert "node gone: its BMC 127.0.0.1:%d does not answer IPMI over LAN" % silent in out
    assert "node nobmc: no bmc " in out
    assert "node good" not in out.split("cannot be used")[1]
    assert "right" not in out and "wrong" not in out      # no password in the job output
    print("preflight of 4 nodes (one silent BMC): %.1f s" % seconds)
