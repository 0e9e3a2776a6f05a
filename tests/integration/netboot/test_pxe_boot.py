# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real PXE boot: QEMU (TCG, iPXE in the virtio-net option ROM) on a tap bridged in the server
namespace, dnsmasq serving netboot_config's configuration (DHCP + TFTP). The VM must get its reserved
IP and fetch its own per-MAC boot file, as dnsmasq's log shows."""

import os
import re
import shutil
import subprocess
import time

import pytest

from lab.netns import die_with_parent  # pylint: disable=import-error

VM_INDEX = 5              # the VM takes host #5's MAC
BOOT_TIMEOUT = 60.0       # TCG iPXE: ~6 s from DHCP to TFTP with the RA trick, ~20 s without


def boot_vm(lab, mac, log_path, patterns, timeout=BOOT_TIMEOUT):
    """Boot a VM with ``mac`` from the network on a fresh tap; wait until every regex of ``patterns``
    matches ``log_path`` (dnsmasq's log); stop QEMU by PID. Returns (seconds, log text, missing)."""
    tap = lab.add_tap()
    serial = lab.path("qemu-%s.serial" % tap)
    argv = lab.srv_argv([
        "qemu-system-x86_64", "-accel", "tcg", "-m", "128", "-nodefaults", "-no-user-config",
        "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
        "-device", "virtio-net-pci,netdev=n0,mac=%s" % mac,
        "-boot", "n", "-display", "none", "-vga", "none", "-no-reboot", "-serial", "file:%s" % serial])
    start = time.monotonic()
    with open(lab.path("qemu-%s.out" % tap), "wb") as out:
        vm = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                              preexec_fn=die_with_parent)
    text, missing = "", list(patterns)
    try:
        while time.monotonic() - start < timeout and vm.poll() is None:
            if os.path.exists(log_path):
                with open(log_path, errors="replace") as handle:
                    text = handle.read()
            missing = [p for p in patterns if not re.search(p, text)]
            if not missing:
                break
            time.sleep(0.25)
    finally:
        if vm.poll() is None:
            vm.terminate()
            try:
                vm.wait(5)
            except subprocess.TimeoutExpired:
                vm.kill()
                vm.wait(5)
    if vm.returncode not in (0, -15, None) and missing:
        with open(lab.path("qemu-%s.out" % tap), errors="replace") as handle:
            text += "\n--- qemu (rc=%s):\n%s" % (vm.returncode, handle.read())
    return time.monotonic() - start, text, missing


@pytest.mark.slow
def test_vm_pxe_boots_with_reserved_ip_and_own_file(netboot):
    if shutil.which("qemu-system-x86_64") is None:
        from lab import lab_missing  # pylint: disable=import-error,import-outside-toplevel
        lab_missing("qemu-system-x86_64 is not installed (Debian qemu-system-x86, ipxe-qemu)")
    lab = netboot.lab
    hosts = netboot.hosts()
    vm = hosts[VM_INDEX - 1]
    vm["boot"] = "local"     # iPXE: the per-MAC script says `exit`; pxelinux: LOCALBOOT
    netboot.configure("dnsmasq", hosts)
    log = netboot.files("dnsmasq")["log_file"]
    # iPXE waits ~13 s for an IPv6 router advertisement before DHCPv4 unless one comes (iPXE 1.21 in Debian)
    lab.add_server_address("fd99::1/64")
    netboot.lab.start_dnsmasq(netboot.dest("dnsmasq"), log_file=log,
                              extra_args=["--enable-ra", "--dhcp-range=fd99::,ra-only", "--log-dhcp"])
    mac = re.escape(vm["mac"].lower())
    dashes = re.escape(vm["mac"].lower().replace(":", "-"))
    patterns = [
        r"DHCPACK\(%s\) %s %s" % (re.escape(lab.bridge), re.escape(vm["ip"]), mac),
        r"sent \S*(pxelinux\.cfg/01-%s|ipxe/%s\.ipxe) to %s" % (dashes, dashes, re.escape(vm["ip"])),
    ]
    seconds, text, missing = boot_vm(lab, vm["mac"], log, patterns)
    assert not missing, "after %.1f s dnsmasq's log lacks %s:\n%s" % (seconds, missing, text[-5000:])
    print("PXE boot: %.1f s to DHCPACK + per-MAC file; TFTP:\n%s" % (
        seconds, "\n".join(line for line in text.splitlines() if "dnsmasq-tftp" in line or "DHCPACK" in line)))
    # no other host's file went to the VM
    sent = re.findall(r"sent (\S+) to %s" % re.escape(vm["ip"]), text)
    others = [path for path in sent for h in hosts if h is not vm and h["mac"].replace(":", "-") in path]
    assert not others, sent
