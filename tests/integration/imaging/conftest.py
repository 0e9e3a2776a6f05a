# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The imaging system built by its role from Debian packages and booted under QEMU TCG (one boot for the
session), and the golden disk (tests/lab/golden.py) booted from its own disk.

Builds are cached under ${LABFARM_CACHE:-~/.cache/labfarm}/imaging and .../golden, keyed by their inputs, with
the lab's SSH key (kept in the cache too), so a second run only boots. QEMU forwards SSH from
127.0.0.1:22300-22399 (this domain's ports).
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.golden import Qemu, build_golden, lab_key  # noqa: E402  pylint: disable=wrong-import-position

from imaging_lab import BOOT_TIMEOUT, FIGURES, MAC, NODE, TOOLS, report  # noqa: E402  pylint: disable=wrong-import-position


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long integration test (QEMU TCG boots); make test runs it too")


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("imaging system and golden disk: sizes and times")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def ssh_key():
    for tool in TOOLS:
        if not shutil.which(tool):
            lab_missing("%s is missing (hack/setup.sh installs it)" % tool)
    if not os.path.exists("/usr/lib/syslinux/mbr/mbr.bin"):
        lab_missing("syslinux's mbr.bin is missing (apt-get install syslinux)")
    return lab_key()


@pytest.fixture(scope="session")
def imaging_role(ansible_env, tmp_path_factory, ssh_key):
    """run() -> (imaging_system_result, seconds, stdout) of one ansible-playbook run of the role, copying the
    kernel and initramfs into a TFTP-like directory."""
    work = tmp_path_factory.mktemp("imaging-role")
    dest = work / "tftp"
    dest.mkdir()
    playbook = work / "build.yml"
    result = work / "result.json"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "roles": [{"role": "labfarm.massclone.imaging_system", "vars": {
            "imaging_system_authorized_keys": [ssh_key.public], "imaging_system_dest": str(dest)}}],
        "post_tasks": [{"name": "keep the result", "ansible.builtin.copy": {
            "content": "{{ imaging_system_result | combine({'build': imaging_system_build}) | to_json }}",
            "dest": str(result), "mode": "0644"}, "changed_when": False}],
    }]))

    def run():
        if result.exists():
            result.unlink()
        started = time.time()
        proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)], env=ansible_env,
                              capture_output=True, text=True, timeout=900, check=False)
        seconds = time.time() - started
        assert proc.returncode == 0 and result.exists(), proc.stdout[-6000:] + proc.stderr[-3000:]
        return json.loads(result.read_text()), seconds, proc.stdout
    return run


@pytest.fixture(scope="session")
def imaging_build(imaging_role):
    """The role's first run of the session (a cold build if the cache does not hold these inputs)."""
    built, seconds, stdout = imaging_role()
    report("role run 1: %s in %.1f s (module %.1f s): kernel %d bytes, initrd %d bytes (%d unpacked), %d packages"
           % ("built" if built["build"]["changed"] else "found in the cache", seconds, built["build"]["seconds"],
              built["build"]["kernel_size"], built["build"]["initrd_size"], built["build"]["initrd_uncompressed_size"],
              len(built["build"]["packages"])))
    return built


@pytest.fixture(scope="session")
def imaging_vm(imaging_build, tmp_path_factory):
    """One machine booted into the imaging system for the session: virtio NIC with a known MAC (named by
    BOOTIF, as pxelinux's IPAPPEND 2 writes it), a blank 64 MiB virtio disk, 512 MiB of memory."""
    work = str(tmp_path_factory.mktemp("imaging-vm"))
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    vm = Qemu(work, kernel=imaging_build["kernel"], initrd=imaging_build["initrd"], disk=disk, memory=512, mac=MAC,
              append="labfarm.hostname=%s BOOTIF=01-%s labfarm.controller=10.0.2.2" % (NODE, MAC.replace(":", "-")))
    vm.start()
    try:
        vm.ready_line = vm.wait_for("labfarm-imaging: ", timeout=BOOT_TIMEOUT)
        report("imaging system boot (QEMU TCG, 512 MiB): %r after %.1f s" % (vm.ready_line, vm.seconds))
        yield vm
    finally:
        vm.stop()


@pytest.fixture(scope="session")
def golden(ssh_key):
    """The golden disk (cached), built from Debian packages by tests/lab/golden.py."""
    disk = build_golden([ssh_key.public])
    report("golden disk: %s %s in %.1f s, %d MiB, hostname %s, machine-id %s"
           % (disk["path"], "built" if disk["changed"] else "found in the cache", disk["seconds"],
              disk["size"] // (1024 * 1024), disk["hostname"], disk["machine_id"]))
    return disk
