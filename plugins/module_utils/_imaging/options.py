# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""imaging_build's options checked and completed: every problem named in one message. Reads user input only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.cache import default_cache_dir
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.control import parse_spec
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.cpio import COMPRESSIONS
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.system import (
    DEFAULT_KERNEL, DEFAULT_MODULES, DEFAULT_PACKAGES)

_KEY_RE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?$")
_MODULE_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def _unique(values):
    result = []
    for value in values:
        if value not in result:
            result.append(value)
    return result


def check_options(params, environ=None, collection_dir=None):
    """The build's settings from the module's parameters: dict with authorized_keys, packages (defaults plus
    extra_packages), kernel, modules, prune, compression, init, cache_dir, force. Raises ValueError that names
    every bad value. ``collection_dir`` is refused as (or as a parent of) the cache directory."""
    problems = []
    keys = [key.strip() for key in params.get("authorized_keys") or [] if key and key.strip()]
    if not keys:
        problems.append("authorized_keys must hold at least one public key (the controller's)")
    for key in keys:
        if "\n" in key or not _KEY_RE.match(key):
            problems.append("authorized_keys: not an OpenSSH public key line: %r" % key[:60])
    packages = list(params.get("packages") or DEFAULT_PACKAGES) + list(params.get("extra_packages") or [])
    for spec in packages + [params.get("kernel") or DEFAULT_KERNEL]:
        try:
            parse_spec(spec)
        except ValueError as exc:
            problems.append(str(exc))
    modules = list(params.get("modules") or DEFAULT_MODULES) + list(params.get("extra_modules") or [])
    problems.extend("modules: not a kernel module name: %r" % name for name in modules if not _MODULE_RE.match(name or ""))
    compression = params.get("compression") or "gzip"
    if compression not in COMPRESSIONS:
        problems.append("compression must be one of %s, got %r" % (", ".join(COMPRESSIONS), compression))
    cache_dir = params.get("cache_dir") or default_cache_dir(environ)
    if not os.path.isabs(cache_dir):
        problems.append("cache_dir must be an absolute path, got %r" % cache_dir)
    elif collection_dir:
        inside = os.path.realpath(cache_dir) + os.sep
        if inside.startswith(os.path.realpath(collection_dir) + os.sep):
            problems.append("cache_dir %s is inside the collection (%s): builds go in a cache directory" % (cache_dir, collection_dir))
    if problems:
        raise ValueError("; ".join(problems))
    return {
        "authorized_keys": keys,
        "packages": _unique(packages),
        "kernel": params.get("kernel") or DEFAULT_KERNEL,
        "modules": _unique(name.replace("-", "_") for name in modules),
        "prune": list(params.get("prune") or []),
        "compression": compression,
        "init": params.get("init") or None,
        "cache_dir": cache_dir,
        "force": bool(params.get("force")),
    }
