# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netboot_config against the real daemons: dnsmasq, isc-dhcpd and Kea serving its configuration in a
server namespace, busybox udhcpc and curl (TFTP) in a client namespace (tests/lab/netns.py)."""

import os
import time

import pytest

from lab.netns import PXELINUX, LDLINUX, minimal_config  # pylint: disable=import-error

BACKENDS = ("dnsmasq", "isc", "kea")
NHOSTS = 20               # as tests/integration/netboot/conftest.py
DYNAMIC = (200, 220)      # dynamic range 10.99.n.200-10.99.n.220, as conftest.py

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def _in_dynamic(lab, ip):
    if ip is None or not ip.startswith("10.99.%d." % lab.n):
        return False
    return DYNAMIC[0] <= int(ip.rsplit(".", 1)[1]) <= DYNAMIC[1]


def test_lab_minimal_config(netns_lab, backend):
    """The lab itself, without the module: a hand-written minimal config serves a reservation."""
    lab = netns_lab
    hosts = [("m%02d" % i, "52:54:00:4d:00:%02x" % i, lab.ip(40 + i)) for i in range(1, 4)]
    conf, files = minimal_config(lab, backend, hosts, dynamic_range=(lab.ip(DYNAMIC[0]), lab.ip(DYNAMIC[1])))
    if backend == "dnsmasq":
        daemon = lab.start_dnsmasq(conf, log_file=files["log_file"])
    elif backend == "isc":
        daemon = lab.start_dhcpd(conf, lease_file=files["lease_file"], pid_file=files["pid_file"])
    else:
        daemon = lab.start_kea(conf, control_socket=files["control_socket"], log_path=files["log_file"])
    try:
        assert lab.dhcp_client(hosts[1][1]) == hosts[1][2], daemon.output()
        assert _in_dynamic(lab, lab.dhcp_client("52:54:00:4d:ff:01")), daemon.output()
    finally:
        daemon.stop()


def test_reservations_dynamic_and_reload(netboot, backend):
    """Host #N gets exactly its reserved IP; an unknown MAC a dynamic one; after one reservation
    changes and the daemon reloads, the new IP."""
    lab = netboot.lab
    hosts = netboot.hosts()
    first = netboot.configure(backend, hosts)
    assert first["changed"] is True
    # `hosts` is documented as the number of hosts (type int)
    assert first["hosts"] == len(hosts), first["hosts"]
    assert sorted(first["changes"]["added"]) == sorted(h["name"] for h in hosts), first["changes"]
    assert os.path.exists(netboot.dest(backend)), first["files"]
    again = netboot.configure(backend, hosts)
    assert again["changed"] is False, again

    daemon, dummy = netboot.start(backend)
    for index in (7, 1, NHOSTS):
        host = hosts[index - 1]
        ip, info = lab.dhcp_client(host["mac"], details=True)
        assert ip == host["ip"], "host #%d %s: got %s, want %s\n%s\n%s" % (
            index, host["mac"], ip, host["ip"], info["output"], daemon.output())
    unknown, info = lab.dhcp_client("52:54:00:4e:ff:01", details=True)
    print("%s: unknown MAC got %s in %.2f s" % (backend, unknown, info["seconds"]))
    assert _in_dynamic(lab, unknown), "unknown MAC got %r, want an address in the dynamic range\n%s" % (
        unknown, daemon.output())

    moved = dict(hosts[6], ip=lab.ip(150))
    changed_hosts = hosts[:6] + [moved] + hosts[7:]
    second = netboot.configure(backend, changed_hosts)
    assert second["changed"] is True
    assert second["changes"]["changed"] == ["node07"], second["changes"]
    assert not second["changes"]["added"] and not second["changes"]["removed"], second["changes"]
    start = time.monotonic()
    daemon.reload()
    reload_seconds = time.monotonic() - start
    ip, info = lab.dhcp_client(moved["mac"], details=True)
    print("%s: reload %.2f s, then host #7 got %s in %.2f s" % (backend, reload_seconds, ip, info["seconds"]))
    assert ip == moved["ip"], "after %s reload: host #7 got %s, want %s\n%s" % (
        backend, ip, moved["ip"], daemon.output())
    assert lab.dhcp_client(hosts[7]["mac"]) == hosts[7]["ip"]


def test_unknown_mac_without_dynamic_range(netboot, backend):
    """No dynamic_range: reserved hosts still get their IP, an unknown MAC gets nothing."""
    lab = netboot.lab
    hosts = netboot.hosts()
    netboot.configure(backend, hosts, dynamic=False)
    daemon, dummy = netboot.start(backend)
    assert lab.dhcp_client(hosts[2]["mac"]) == hosts[2]["ip"], daemon.output()
    ip = lab.dhcp_client("52:54:00:4e:ff:02", tries=2)
    assert ip is None, "unknown MAC got %s with no dynamic range\n%s" % (ip, daemon.output())


def _bad_inputs(netboot):
    """(rule, hosts, strings the error must name)."""
    lab = netboot.lab
    good = netboot.hosts()

    def with_host(index, **changes):
        hosts = [dict(h) for h in good]
        hosts[index].update(changes)
        return hosts
    return [
        ("duplicate MAC", with_host(4, mac=good[2]["mac"]), [good[2]["mac"], "node05"]),
        ("duplicate IP", with_host(4, ip=good[2]["ip"]), [good[2]["ip"], "node05"]),
        ("IP outside subnet", with_host(4, ip="10.98.%d.5" % lab.n), ["10.98.%d.5" % lab.n, "node05"]),
        ("IP in dynamic range", with_host(4, ip=lab.ip(DYNAMIC[0] + 3)), [lab.ip(DYNAMIC[0] + 3), "node05"]),
        ("malformed MAC", with_host(4, mac="52:54:00:zz:42:05"), ["52:54:00:zz:42:05", "node05"]),
        ("network address", with_host(4, ip=lab.ip(0)), [lab.ip(0), "node05"]),
        ("broadcast address", with_host(4, ip=lab.ip(255)), [lab.ip(255), "node05"]),
        ("duplicate host name", with_host(4, name="node03"), ["node03"]),
    ]


def test_bad_input_leaves_live_files(netboot, backend):
    """Every bad input fails with an error naming the offender and leaves the live files byte-identical."""
    hosts = netboot.hosts()
    netboot.configure(backend, hosts)
    before = netboot.live_files(backend)
    assert netboot.dest(backend) in before
    cases = _bad_inputs(netboot)
    results = netboot.call([netboot.args(backend, bad) for dummy, bad, dummy2 in cases])
    problems = []
    for (rule, dummy, names), result in zip(cases, results):
        msg = str(result.get("msg", ""))
        if not result.get("failed"):
            problems.append("%s: module did not fail: %s" % (rule, {k: result.get(k) for k in ("changed", "changes")}))
            continue
        for name in names:
            if name.lower() not in msg.lower():
                problems.append("%s: error does not name %r: %s" % (rule, name, msg[:500]))
    after = netboot.live_files(backend)
    if after != before:
        differ = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        problems.append("live files changed: %s" % differ)
    assert not problems, "\n".join(problems)


def test_tftp_pxe_files_and_local_boot(netboot, backend):
    """pxelinux.0 and the node's per-MAC file over TFTP from the client namespace; the file holds the
    profile asked for, and the local-boot entry after `boot: local`."""
    lab = netboot.lab
    hosts = netboot.hosts()
    hosts[4]["boot"] = "install"
    netboot.configure(backend, hosts)
    daemon, tftpd = netboot.start(backend)
    host = hosts[4]
    permac = "pxelinux.cfg/01-" + host["mac"].replace(":", "-")
    assert os.path.exists(os.path.join(netboot.tftp_root, permac)), sorted(os.listdir(netboot.tftp_root))
    ip, info = lab.dhcp_client(host["mac"], details=True)
    assert ip == host["ip"], info["output"]

    with open(PXELINUX, "rb") as handle:
        assert lab.tftp_get("pxelinux.0") == handle.read()
    with open(LDLINUX, "rb") as handle:
        assert lab.tftp_get("ldlinux.c32") == handle.read()
    text = (lab.tftp_get(permac) or b"").decode()
    assert "debian/linux" in text and "debian/initrd.gz" in text, "per-MAC file:\n%s" % text
    assert "LOCALBOOT" not in text.upper()
    other = "pxelinux.cfg/01-" + hosts[5]["mac"].replace(":", "-")
    other_before = lab.tftp_get(other)
    assert b"ring/vmlinuz" in (other_before or b""), other_before
    assert b"ring/vmlinuz" in (lab.tftp_get("pxelinux.cfg/default") or b"")

    hosts[4]["boot"] = "local"
    result = netboot.configure(backend, hosts)
    assert result["changed"] is True
    text = (lab.tftp_get(permac) or b"").decode()
    assert "LOCALBOOT" in text.upper() and "debian/linux" not in text, "per-MAC file after boot: local:\n%s" % text
    assert lab.tftp_get(other) == other_before, "another node's per-MAC file changed"
    # the DHCP answer points a PXE ROM at pxelinux.0 and iPXE at boot.ipxe, on the TFTP server
    for client, boot_file in (("pxe", "pxelinux.0"), ("ipxe", "boot.ipxe")):
        ip, info = lab.dhcp_client(host["mac"], details=True, client=client)
        print("%s: %s client: siaddr=%s file=%s" % (backend, client, info.get("siaddr"), info.get("boot_file")))
        assert ip == host["ip"], info
        assert info.get("boot_file") == boot_file and info.get("siaddr") == lab.server_ip, (client, info)
