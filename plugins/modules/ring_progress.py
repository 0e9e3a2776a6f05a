#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ring_progress
short_description: Report the progress of a ring_copy source running in the background
version_added: 0.1.0
description:
  - One progress report of a M(labfarm.massclone.ring_copy) source started in the background (C(async), C(poll=0)), saying
    whether its job has ended, and per receiver the bytes written of the total, percent, rate, ETA and state, from
    the source's O(progress_file).
  - Run it on the source (C(delegate_to)) in an C(until) loop on RV(finished), as the role labfarm.massclone.disk_ring
    does. Every report is shown, also in the C(retrying) lines of the loop.
  - Reports come every O(interval) seconds (the loop's C(delay)), and in a session longer than 40 intervals every 1/40 of
    its elapsed time (the action waits the difference), so a session of hours prints a few hundred reports, not thousands.
  - An action plugin; it runs the modules C(ansible.builtin.slurp) and C(ansible.builtin.async_status) on the source.
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.attributes
  - labfarm.massclone.attributes.info_module
options:
  jid:
    description: The job id of the source's background task (its C(ansible_job_id)).
    type: str
    required: true
  progress_file:
    description: The source's M(labfarm.massclone.ring_copy) O(labfarm.massclone.ring_copy#module:progress_file).
    type: str
    required: true
  session:
    description: The session's name, for the heading of the report.
    type: str
    default: ""
  nodes:
    description: The receivers' node names in ring order, one line each. Default the nodes of the progress file, sorted.
    type: list
    elements: str
    default: []
  interval:
    description: Seconds between two reports, the C(delay) of the loop; the action waits longer in long sessions.
    type: float
    default: 5.0
seealso:
  - module: labfarm.massclone.ring_copy
  - module: ansible.builtin.async_status
"""

EXAMPLES = r"""
- name: Start the source in the background
  labfarm.massclone.ring_copy:
    mode: send
    session: exam-2026-11
    key: "{{ ring_key }}"
    chain: [10.0.0.11:7010, 10.0.0.12:7010]
    items: [{name: disk, src: /dev/sda}]
    progress_file: /var/tmp/exam-2026-11.progress.json
  async: 43200
  poll: 0
  register: ring_source_job

- name: Show the progress until the source's job ends (at most 300 reports)
  labfarm.massclone.ring_progress:
    jid: "{{ ring_source_job.ansible_job_id }}"
    progress_file: /var/tmp/exam-2026-11.progress.json
    session: exam-2026-11
    nodes: [node001, node002]
  register: ring_progress
  until: ring_progress.finished or ring_progress.attempts | default(1) >= 300
  retries: 300
  delay: 5
"""

RETURN = r"""
finished:
  description: Whether the source's job has ended (or cannot be found any more).
  returned: always
  type: bool
  sample: false
elapsed:
  description: Seconds since the source started, from its progress file; null before its first report.
  returned: always
  type: float
  sample: 12.5
msg:
  description: The report, a heading then one line per node.
  returned: always
  type: list
  elements: str
  sample:
    - session exam-2026-11, 5 s
    - "node001               456.00 MB / 667.57 MB   68.3%    97.58 MB/s  ETA 2 s      receiving"
"""
