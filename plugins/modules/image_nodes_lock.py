#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_nodes_lock
short_description: Take or release the per-node locks of an imaging run
version_added: 0.2.0
description:
  - Parallel imaging runs (ORBIT's parallel imaging) may image disjoint groups of machines at once, never the same
    machine. Each run holds a lock file per node in O(lock_dir) on the controller, recording the run's id, the PID
    of its C(ansible-playbook) process and the time.
  - O(state=present) takes every node's lock or none, and fails naming each node another live run holds and that
    run. A lock whose process no longer exists is stale and taken over. O(state=absent) removes the locks the run
    holds.
  - Used by the role labfarm.massclone.image_nodes (run on the controller, C(delegate_to=localhost)).
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the conflicts and what would be taken; writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Taking locks the same run already holds, or releasing none, reports no change.
options:
  nodes:
    description: The node names.
    type: list
    elements: str
    required: true
  run:
    description: The run's id (any text unique to the run).
    type: str
    required: true
  lock_dir:
    description: A directory on the controller that every run shares (made when missing).
    type: path
    required: true
  state:
    description: V(present) takes the locks, V(absent) releases those of O(run).
    type: str
    choices: [present, absent]
    default: present
  pid:
    description: The PID that holds the locks while it lives. Default the C(ansible-playbook) process this module runs under.
    type: int
"""

EXAMPLES = r"""
- name: Take the nodes' locks for this run
  labfarm.massclone.image_nodes_lock:
    nodes: "{{ ansible_play_hosts }}"
    run: "{{ image_nodes_run_id }}"
    lock_dir: ~/.cache/labfarm/image_nodes/locks
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
taken:
  description: The nodes whose locks were taken (or, with O(state=absent), released) now.
  returned: always
  type: list
  elements: str
  sample: [node001, node002]
conflicts:
  description: Per node held by another live run, that run's record (run, pid, since, nodes).
  returned: always
  type: dict
  sample: {node003: {run: 20261130T163000-4242, pid: 4242, since: "2026-11-30T16:30:00+0000", nodes: [node003, node004]}}
pid:
  description: The PID holding the locks.
  returned: always
  type: int
  sample: 4242
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with
from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import runlock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type="list", elements="str", required=True),
            run=dict(type="str", required=True),
            lock_dir=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            pid=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    pid = params["pid"] or runlock.playbook_pid()
    try:
        if params["state"] == "absent":
            taken = [] if module.check_mode else runlock.release(params["lock_dir"], params["nodes"], params["run"])
            exit_with(module, {"changed": bool(taken), "taken": taken, "conflicts": {}, "pid": pid})
        taken, conflicts = runlock.acquire(params["lock_dir"], params["nodes"], params["run"], pid, check=module.check_mode)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot use the lock directory %s: %s" % (params["lock_dir"], exc))
    if conflicts:
        module.fail_json(msg="; ".join("node %s is being imaged by %s" % (node, runlock.describe(holder))
                                       for node, holder in sorted(conflicts.items())),
                         taken=[], conflicts=conflicts, pid=pid)
    exit_with(module, {"changed": bool(taken), "taken": taken, "conflicts": {}, "pid": pid})


if __name__ == "__main__":
    main()
