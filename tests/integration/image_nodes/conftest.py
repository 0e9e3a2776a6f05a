# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The farm of the image_nodes tests (tests/lab/imaging_farm.py): QEMU/TCG domains with blank disks, each behind its
own VirtualBMC, on the bridge of a network namespace, and the golden disk (tests/lab/golden.py). Names of this
domain: namespaces lfin<5 hex>..., subnet 10.235.<n>.0/24, domains lfin-*, BMC ports 16250-16269."""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# pylint: disable=wrong-import-position,import-error
from lab import lab_missing  # noqa: E402
from lab.golden import build_golden, lab_key  # noqa: E402
from lab.imaging_farm import ImagingFarm  # noqa: E402
from lab.libvirtd import missing as libvirtd_missing  # noqa: E402
from lab.netns import can_use_netns, missing_tools  # noqa: E402
from lab.vbmc import missing as vbmc_missing  # noqa: E402

PORTS = range(16250, 16270)
TOOLS = ["ip", "dnsmasq", "qemu-system-x86_64", "apt-get", "ssh", "ssh-keygen", "sfdisk", "mkfs.ext4", "mkfs.vfat",
         "mcopy", "syslinux", "debugfs"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long integration test (machines that boot); make test runs it too")


@pytest.fixture(scope="module")
def farm():
    for reason in (vbmc_missing(), libvirtd_missing(), can_use_netns()):
        if reason:
            lab_missing(reason)
    missing = missing_tools(TOOLS)
    if missing:
        lab_missing("missing %s" % ", ".join(missing))
    workdir = tempfile.mkdtemp(prefix="lfin-")      # not under pytest's 0700 tree: dnsmasq reads it as nobody
    lab = ImagingFarm(workdir, prefix="lfin", subnet="10.235", ports=PORTS)
    try:
        lab.setup()
        yield lab
    finally:
        lab.teardown()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def golden_disk():
    key = lab_key()
    return key, build_golden([key.public])


@pytest.fixture(scope="module")
def golden_b(golden_disk):
    """A second golden disk: the same layout, another root (its /etc/labfarm-golden says golden-b)."""
    return build_golden([golden_disk[0].public], hostname="golden-b")
