# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One netboot_config call: plan (plan.py), the daemon's config test on the candidate (daemon.py) when a
DHCP file changes, then the files written (files.py) unless in check mode; and the module's result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.daemon import BINARIES, run_config_test
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.files import apply_plan
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.plan import plan
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.validate import NetbootError


class NetbootResultError(ResultError, NetbootError):
    """A failed config test or write: the message, and the result so far (files, changes, config_test)."""


def plan_of(params):
    """The Plan of netboot_config's parameters (``module.params``)."""
    return plan(
        params["hosts"], params["subnets"], params["backend"], params["dest"], interfaces=params["interfaces"],
        profiles=params["profiles"], default_profile=params["default_profile"], tftp_root=params["tftp_root"],
        tftp_server=params["tftp_server"], enable_tftp=params["enable_tftp"], ipxe_url=params["ipxe_url"],
        dns_port=params["dns_port"], lease_file=params["lease_file"], pid_file=params["pid_file"],
        log_file=params["log_file"], control_socket=params["control_socket"], boot_only=params.get("boot_only", False))


def plan_result(the_plan):
    """The module's result of a plan, before the config test and the writes."""
    return dict(changed=the_plan.changed, files=the_plan.files,
                written=sorted(the_plan.writes) + the_plan.removals, hosts=the_plan.hosts,
                changes=the_plan.changes, config_test=None, backup_files=[], diff=the_plan.diff, warnings=[])


def configure(module, params, check_mode=False):
    """netboot_config's result for ``params``. ``module`` runs the daemon's config test (get_bin_path,
    run_command). Raises NetbootError for refused input, NetbootResultError (with the result so far) when
    the config test fails or a file cannot be written."""
    the_plan = plan_of(params)
    result = plan_result(the_plan)
    if params["config_test"] and any(path in the_plan.writes for path in the_plan.dhcp_files):
        test, warning = run_config_test(module, the_plan, params["backend"])
        result.update(config_test=test, warnings=[warning] if warning else [])
        if test and test["rc"] != 0:
            raise NetbootResultError("the %s config test failed on the new configuration; the live files are "
                                     "untouched: %s" % (BINARIES[params["backend"]], test["output"]), **result)
    if check_mode or not the_plan.changed:
        return result
    try:
        result["backup_files"] = apply_plan(the_plan, backup=params["backup"])
    except (IOError, OSError) as exc:
        raise NetbootResultError("writing the netboot files failed: %s. Files are replaced one by one "
                                 "atomically; fix the cause and rerun to converge" % exc, **result)
    return result
