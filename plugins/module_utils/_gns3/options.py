# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The options of gns3_server: the argument spec of the GNS3 connection (documented by the doc fragment
labfarm.massclone.gns3) and ``check_options``, which refuses values that cannot work before anything is
sent and returns the project specs (names, ids, or normalized .gns3 paths), de-duplicated in order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.client import API_VERSIONS, GNS3Error

STATES = ("present", "opened", "closed", "started", "stopped")
# Node types with nothing to boot: starting them costs the NAS nothing and stopping them cuts links.
DEFAULT_SKIP_NODE_TYPES = ("cloud", "nat", "ethernet_switch", "ethernet_hub", "frame_relay_switch", "atm_switch")


def connection_argument_spec():
    """The options that reach a GNS3 server, as plugins/doc_fragments/gns3.py documents them."""
    return dict(
        url=dict(type="str", required=True),
        api_version=dict(type="str", default="auto", choices=list(API_VERSIONS)),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        use_proxy=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


def client_settings(params):
    """The keyword arguments of GNS3Client (after its url) from the module's connection options."""
    return dict(api_version=params.get("api_version") or "auto", username=params.get("username"),
                password=params.get("password"), token=params.get("token"),
                validate_certs=params.get("validate_certs", True), timeout=params.get("timeout", 30),
                ca_path=params.get("ca_path"), client_cert=params.get("client_cert"),
                client_key=params.get("client_key"), use_proxy=params.get("use_proxy", True))


def is_project_path(spec):
    """Whether a project spec is a path (a .gns3 file on the server) rather than a name or an id."""
    return spec.startswith("/") or spec.startswith("~")


def check_options(params):
    """Refuse option values that cannot work, before anything is sent. Returns the project specs."""
    state = params.get("state")
    if state is not None and state not in STATES:
        raise GNS3Error("state must be one of %s, got %r" % (", ".join(STATES), state))
    specs, seen = [], set()
    for index, spec in enumerate(params.get("projects") or []):
        if not isinstance(spec, str) or not spec.strip():
            raise GNS3Error("projects[%d] is %r: give a project name, a project id or the absolute path of a "
                            ".gns3 file" % (index, spec))
        spec = spec.strip()
        if is_project_path(spec):
            if spec.startswith("~"):
                raise GNS3Error("projects[%d] is %r: a path is read on the GNS3 server and must be absolute (no ~)"
                                % (index, spec))
            if not spec.endswith(".gns3"):
                base = spec.rstrip("/")
                raise GNS3Error("projects[%d] is %r: a path must name the project's .gns3 file" % (index, spec),
                                hint="e.g. %s/%s.gns3" % (base, os.path.basename(base) or "project"))
            spec = os.path.normpath(spec)
        if spec not in seen:
            seen.add(spec)
            specs.append(spec)
    if state is not None and not specs:
        raise GNS3Error("state %s needs projects: list the project names, ids or .gns3 paths to act on" % state)
    rate = params.get("rate")
    if rate is not None and rate < 0:
        raise GNS3Error("rate must be >= 0 nodes per second (0 = no pacing), got %r" % rate)
    concurrency = params.get("concurrency")
    if concurrency is not None and concurrency < 1:
        raise GNS3Error("concurrency must be >= 1, got %r" % concurrency)
    for key in ("wait_timeout", "reload_timeout"):
        if params.get(key) is not None and params[key] <= 0:
            raise GNS3Error("%s must be > 0 seconds, got %r" % (key, params[key]))
    if params.get("list_timeout") is not None and params["list_timeout"] < 0:
        raise GNS3Error("list_timeout must be >= 0 seconds (0 = do not wait), got %r" % params["list_timeout"])
    if params.get("reload") and params.get("reload_wait") is False:
        if state not in (None, "present"):
            raise GNS3Error("reload_wait: false returns before the server has reloaded, so it cannot also make the "
                            "projects %s: leave state out (or present) here, and act on them in a later task with "
                            "list_timeout" % state)
        if any(is_project_path(spec) for spec in specs):
            raise GNS3Error("reload_wait: false cannot load projects by path (%s): give their names, and wait for "
                            "them in a later task with list_timeout" % ", ".join(s for s in specs if is_project_path(s)))
    if not params.get("reload") and (params.get("reload_pid") or params.get("reload_service")):
        raise GNS3Error("reload_pid and reload_service are the SIGHUP fallback of reload: set reload: true as well")
    if params.get("reload_pid") is not None and params["reload_pid"] <= 1:
        raise GNS3Error("reload_pid must be the PID of gns3server, got %r" % params["reload_pid"])
    skip = params.get("skip_node_types")
    if skip is not None and not all(isinstance(t, str) and t for t in skip):
        raise GNS3Error("skip_node_types must be a list of GNS3 node types (qemu, vpcs, cloud, ...), got %r" % (skip,))
    return specs
