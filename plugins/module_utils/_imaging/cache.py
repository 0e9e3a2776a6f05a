# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Where builds are kept and what names them: the cache directory (never inside the collection) and the key,
a hash of every input of a build, so a build is made again exactly when one of them changes. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

# Bumped when the builder's output for the same inputs changes (layout, init, archive writer).
BUILDER_VERSION = 1


def cache_root(environ=None, home=None):
    """${LABFARM_CACHE:-~/.cache/labfarm}: the lab's cache directory."""
    environ = os.environ if environ is None else environ
    root = environ.get("LABFARM_CACHE") or os.path.join(home or os.path.expanduser("~"), ".cache", "labfarm")
    return os.path.abspath(root)


def default_cache_dir(environ=None, home=None):
    """Where imaging_build keeps its builds when not told: <cache root>/imaging."""
    return os.path.join(cache_root(environ, home), "imaging")


def build_key(packages, kernel, authorized_keys, init, options):
    """The hex SHA256 of the inputs: every package (name, version, architecture, SHA256 of its .deb), the
    kernel package, the authorized keys, the init script and the options that shape the image (modules,
    prune patterns, compression), with the builder's version. Order of packages does not matter."""
    document = {
        "builder": BUILDER_VERSION,
        "packages": sorted(package.key() for package in packages),
        "kernel": kernel.key(),
        "authorized_keys": [key.strip() for key in authorized_keys],
        "init": hashlib.sha256(init.encode("utf-8")).hexdigest(),
        "options": options,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
