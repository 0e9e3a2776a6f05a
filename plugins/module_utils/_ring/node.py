# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One ring node as the ring_copy module runs it: its parameters checked all at once, what check mode
returns, the Receiver or Sender they describe, and the module's result of its run (changed, the
failed nodes). Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import check_targets, source_errors, source_sizes
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import session_option_errors
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.receiver import Receiver
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.sender import Sender


def check_params(params):
    """Every parameter error at once, naming the value and the fix, before anything listens."""
    errors = session_option_errors(params)
    if params["mode"] == "send":
        errors += source_errors(params["items"])
    elif not errors:
        try:
            check_targets(dict((i["name"], i["dest"]) for i in params["items"]), params["force"])
        except RingError as exc:
            errors.append(str(exc))
    return errors


def check_mode_result(params):
    """What check mode returns: what would be copied (sizes of the source's regular files)."""
    if params["mode"] == "send":
        sizes = source_sizes(params["items"])
        return dict(changed=True, ok_nodes=[], failed_nodes=[], nodes=[], digests={}, bytes=sum(v or 0 for v in sizes.values()),
                    seconds=0.0, error=None, bypassed={}, log=[], sizes=sizes)
    return dict(changed=True, node=params["node_name"] or params["listen"], error=None, bypassed={}, log=[],
                rejected=[], items=dict((i["name"], {"dest": i["dest"]}) for i in params["items"]))


def node_for(params):
    """The Receiver or Sender these parameters describe (listening from now on)."""
    if params["mode"] == "receive":
        return Receiver(params["session"], params["key"], params["listen"],
                        dict((i["name"], i["dest"]) for i in params["items"]), chain=params["chain"],
                        timeout=params["timeout"], wait_timeout=params["wait_timeout"], force=params["force"],
                        state_dir=params["state_dir"], direct=params["direct"],
                        replay_buffer=params["replay_buffer"] << 20, name=params["node_name"],
                        progress_file=params["progress_file"])
    return Sender(params["session"], params["key"],
                  [dict(name=i["name"], src=i["src"], format=i["format"],
                        filesystem_aware=params["filesystem_aware"] if i.get("filesystem_aware") is None else i["filesystem_aware"])
                   for i in params["items"]],
                  params["chain"], listen=params["listen"], timeout=params["timeout"],
                  compress=params["compress"], checksum=params["checksum"], chunk=params["chunk_size"],
                  sparse=params["sparse"], filesystem_aware=params["filesystem_aware"], name=params["node_name"] or "source",
                  progress_file=params["progress_file"], rate_limit=params["rate_limit"])


def node_result(params, result):
    """The module's result of a node's run: ``changed`` when any item was written; a ResultError carrying
    it when the receiver failed, or when receivers failed on the source (unless ``allow_failures`` and
    some receiver succeeded)."""
    if params["mode"] == "receive":
        result["changed"] = any(item.get("bytes_written") for item in result["items"].values())
        if not result["ok"]:
            raise ResultError("ring_copy: %s failed: %s" % (result["node"], result["error"]), **result)
        return result
    result["changed"] = any(any(item.get("bytes_written") for item in entry.get("items", {}).values())
                            for entry in result["nodes"])
    result["error"] = None
    if result["failed_nodes"] and (not params["allow_failures"] or not result["ok_nodes"]):
        result["error"] = "%d of %d nodes failed: %s" % (len(result["failed_nodes"]), len(result["nodes"]), ", ".join(
            "%s (%s)" % (e["node"], e.get("error")) for e in result["nodes"] if not e["ok"]))
        raise ResultError("ring_copy: " + result["error"], **result)
    return result


def run_node(params, check_mode=False):
    """What ring_copy returns for ``params`` (its module.params): the check mode result, or the node's run.
    Raises RingError when the parameters are refused or the node could not run, ResultError (carrying the
    result) when nodes failed."""
    errors = check_params(params)
    if errors:
        raise RingError("ring_copy: " + "; ".join(errors))
    if check_mode:
        return check_mode_result(params)
    try:
        result = node_for(params).run()
    except RingError as exc:
        raise RingError("ring_copy: %s" % exc)
    return node_result(params, result)
