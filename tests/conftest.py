# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the checkout importable as ansible_collections.labfarm.massclone for plain pytest.

`ansible-test units` sets this up itself; plain `pytest tests/...` (what `make test`
runs) finds the collection through the collections path `make` prepares, or a
symlink made here in a temporary directory. Integration tests hand the same path
to the Ansible commands they run (fixture `collections_path`).
"""

import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_dir():
    parts = ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        return os.sep.join(parts[:-3])
    prepared = os.path.join(ROOT, ".venv", "collections")
    if os.path.isdir(os.path.join(prepared, "ansible_collections", "labfarm", "massclone", "plugins")):
        return prepared
    tmp = tempfile.mkdtemp(prefix="labfarm-coll-")
    os.makedirs(os.path.join(tmp, "ansible_collections", "labfarm"))
    os.symlink(ROOT, os.path.join(tmp, "ansible_collections", "labfarm", "massclone"))
    return tmp


COLLECTIONS_PATH = _collections_dir()

try:
    import ansible_collections.labfarm.massclone.plugins  # noqa: F401 pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, COLLECTIONS_PATH)


@pytest.fixture(scope="session")
def collections_path():
    """A collections path in which ansible_collections/labfarm/massclone is this checkout."""
    return COLLECTIONS_PATH
