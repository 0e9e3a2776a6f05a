# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The figures of docs/netboot.md's "TFTP or HTTP": time from power-on until the kernel starts (both files
loaded) and until the initramfs' /init runs, for an imaging entry whose initrd is fetched by iPXE over TFTP
(dnsmasq) or over HTTP (Python's http.server), on the power tests' lab (not collected by pytest):

    PYTHONPATH=.venv/collections .venv/bin/python tests/integration/power/measure_transfer.py [MEMORY_MIB [PAD_MIB]]

One QEMU TCG machine at a time, started through libvirt; dnsmasq sends an IPv6 router advertisement so
that iPXE does not wait ~13 s for one.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

import libvirt  # pylint: disable=import-error

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
SPEC = importlib.util.spec_from_file_location("power_conftest", os.path.join(HERE, "conftest.py"))
lab_of = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(lab_of)

# pylint: disable=wrong-import-position,import-error
from lab.libvirtd import PrivateLibvirtd  # noqa: E402
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.files import apply_plan  # noqa: E402
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.plan import plan  # noqa: E402


def boot(lab, index, kernel, initrd, memory, log):
    """Write the entry, boot a fresh domain from the network; return {kernel: s, init: s} since power-on."""
    mac = "52:54:00:70:7a:%02x" % (index + 1)
    profiles = {"imaging": {"type": "imaging", "kernel": kernel, "initrd": initrd, "append": "console=ttyS0",
                            "server": lab.net.server_ip}}
    work = lab.workdir
    conf = os.path.join(work, "etc", "dnsmasq.conf")
    apply_plan(plan([{"name": "m%d" % index, "mac": mac, "ip": lab.net.ip(20 + index), "boot": "imaging"}],
                    [{"network": lab.net.network, "gateway": lab.net.server_ip}], "dnsmasq", conf,
                    interfaces=[lab.net.bridge], profiles=profiles, tftp_root=lab.tftp_root,
                    tftp_server=lab.net.server_ip, enable_tftp=True, lease_file=work + "/leases",
                    pid_file=work + "/dnsmasq.pid", log_file=log))
    daemon = lab.net.start_dnsmasq(conf, log_file=log, extra_args=["--enable-ra", "--dhcp-range=fd99::,ra-only"])
    name = "lfpx-m%d" % index
    serial = lab.domain(name, mac, memory=memory)
    conn = libvirt.open(lab.libvirtd.uri)
    try:
        conn.defineXML(lab.domain_xml(name).replace("<boot dev='hd'/>", "<boot dev='network'/>"))
        dom = conn.lookupByName(name)
        start = time.monotonic()
        dom.create()
        seen = {}
        while time.monotonic() - start < 300 and "init" not in seen:
            text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
            if "Linux version" in text:
                seen.setdefault("kernel", round(time.monotonic() - start, 1))
            if lab_of.MARKER in text:
                seen["init"] = round(time.monotonic() - start, 1)
            time.sleep(0.2)
        dom.destroy()
    finally:
        conn.close()
        daemon.stop()
    return seen


def main(memory=256, pad_mib=48):
    workdir = tempfile.mkdtemp(prefix="lfpx-m-")
    os.chmod(workdir, 0o755)
    lab = lab_of.PowerLab(workdir)
    http = None
    try:
        lab.net.setup()
        lab.net.add_server_address("fd99::1/64")
        images = os.path.join(lab.tftp_root, "imaging")
        os.makedirs(images)
        shutil.copy(lab_of.debian_kernel(), os.path.join(images, "vmlinuz"))
        lab_of.busybox_initrd(os.path.join(images, "small.img"))
        lab_of.busybox_initrd(os.path.join(images, "big.img"), padding=pad_mib << 20)
        lab.libvirtd = PrivateLibvirtd(os.path.join(workdir, "libvirt"), netns=lab.net.srv_ns).start()
        http = subprocess.Popen(lab.net.srv_argv([sys.executable, "-m", "http.server", "-b", lab.net.server_ip,
                                                  "-d", lab.tftp_root, "8080"]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = "http://%s:8080/imaging/" % lab.net.server_ip
        runs = [("TFTP", "imaging/vmlinuz", "imaging/small.img"), ("TFTP", "imaging/vmlinuz", "imaging/big.img"),
                ("HTTP", url + "vmlinuz", url + "big.img")]
        print("kernel %.1f MB, %d MiB RAM" % (os.path.getsize(os.path.join(images, "vmlinuz")) / 1e6, memory))
        for index, (over, kernel, initrd) in enumerate(runs):
            size = os.path.getsize(os.path.join(images, os.path.basename(initrd))) / 1e6
            seen = boot(lab, index, kernel, initrd, memory, os.path.join(workdir, "dnsmasq.log"))
            print("initrd %5.1f MB over %s: kernel starts %s s, /init runs %s s" % (
                size, over, seen.get("kernel"), seen.get("init")), flush=True)
    finally:
        if http:
            http.terminate()
            http.wait()
        lab.teardown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(*[int(arg) for arg in sys.argv[1:3]])
