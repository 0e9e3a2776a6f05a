# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The DHCP daemon's own config test, run on the candidate configuration before it replaces the live one
(dnsmasq --test, dhcpd -t, kea-dhcp4 -t)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil

from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.files import write_candidates

BINARIES = {"dnsmasq": "dnsmasq", "isc": "dhcpd", "kea": "kea-dhcp4"}


def config_test_command(backend, binary, path):
    """The command that tests the configuration file ``path`` with the backend's ``binary``."""
    if backend == "dnsmasq":
        return [binary, "--test", "-C", path]
    if backend == "isc":
        return [binary, "-4", "-t", "-cf", path]
    return [binary, "-t", path]


def run_config_test(module, the_plan, backend):
    """Run the daemon's test on the plan's candidate, written in a private temporary directory outside the
    configuration directory and removed afterwards, through the module's command runner. Returns
    ({command, rc, output}, None), or (None, a warning) when the daemon is not installed here."""
    binary = module.get_bin_path(BINARIES[backend], opt_dirs=["/usr/sbin", "/sbin"])
    if binary is None:
        return None, "%s is not installed here: the daemon's own config test was skipped" % BINARIES[backend]
    tempdir, path = write_candidates(the_plan, backend)
    try:
        command = config_test_command(backend, binary, path)
        rc, out, err = module.run_command(command)
    finally:
        shutil.rmtree(tempdir, ignore_errors=True)
    return {"command": command, "rc": rc, "output": (out + err).strip()}, None
