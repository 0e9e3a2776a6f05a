# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM farm's lab: libvirt's test driver (node XML files describing hypervisors of different
capacities) and a real libvirtd with QEMU/TCG in a network namespace of its own (tests/lab/libvirtd.py).

Names: VMs start with ``lfvm``, namespaces with ``lfvm``, addresses in 10.97.0.0/16.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from lab import lab_missing  # noqa: E402  pylint: disable=wrong-import-position
from lab.libvirtd import HYPERVISORS, node_xml  # noqa: E402  pylint: disable=wrong-import-position


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long integration test (a real libvirtd and QEMU); make integration runs it too")


@pytest.fixture
def libvirt_mod():
    try:
        import libvirt  # pylint: disable=import-outside-toplevel
    except ImportError:
        lab_missing("libvirt-python is not installed (requirements-dev.txt, built against libvirt-dev)")
    libvirt.registerErrorHandler(lambda *args: None, None)
    return libvirt


@pytest.fixture
def test_nodes(tmp_path):
    """Hypervisor records (name, uri test:///abs/node.xml, pool_dir) for the four test nodes."""
    records = []
    for name, (memory, cpus) in HYPERVISORS.items():
        pool = str(tmp_path / ("pool-" + name))
        path = tmp_path / ("%s.xml" % name)
        path.write_text(node_xml(memory, cpus, pool, other=(name == "hvb")))
        records.append({"name": name, "uri": "test://%s" % path, "pool_dir": pool})
    return records
