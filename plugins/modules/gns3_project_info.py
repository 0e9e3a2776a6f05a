#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gns3_project_info
short_description: List GNS3 projects on disk with their nodes, console ports and adapter MACs
version_added: 0.1.0
description:
  - Reads the projects under a GNS3 server's C(projects_path) from their C(.gns3) files, without a running server.
  - Selects projects by name with a noderange expression (C(Cexam_[01-40])) or a list of names, or with a regular
    expression, and returns each with its nodes, console and aux ports and the MAC of each adapter as GNS3
    computes it. The result feeds DHCP reservations (M(labfarm.massclone.netboot_config)) and inventories.
  - Also returns every console port and MAC address used under the root, to reserve them when resetting clones
    that go to another server of the farm (O(labfarm.massclone.gns3_project_reset#module:used_console_ports),
    O(labfarm.massclone.gns3_project_reset#module:used_macs)).
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.attributes
  - labfarm.massclone.attributes.info_module
options:
  projects_root:
    description: Directory whose subdirectories are GNS3 projects (the server's C(projects_path)).
    type: path
    required: true
  names:
    description:
      - Project names to return, as a list or one noderange expression. Names that match no project are listed
        in RV(missing). An empty list selects nothing.
    type: raw
  regex:
    description: Return projects whose name matches this regular expression (Python C(re.search)).
    type: str
notes:
  - VPCS MAC addresses are chosen by GNS3 when a node starts and are not in the project file; those adapters
    are reported without a MAC.
  - A project file that cannot be read is reported in RV(unreadable) with a warning, not silently skipped.
  - Each directory directly under O(projects_root) that holds a C(.gns3) file is a project, as GNS3's own scan
    of its projects path sees it; files whose name starts with a dot (such as macOS C(._lab.gns3)) are not
    project files. M(labfarm.massclone.gns3_project_reset) scans the root the same way.
seealso:
  - module: labfarm.massclone.gns3_project_reset
"""

EXAMPLES = r"""
- name: The exam clones on this server
  labfarm.massclone.gns3_project_info:
    projects_root: /opt/gns3/projects
    names: Cexam_[01-40]
  register: exam

- name: One DHCP reservation per qemu adapter
  ansible.builtin.set_fact:
    reservations: "{{ exam.projects | map(attribute='nodes') | flatten | map(attribute='adapters') | flatten }}"

- name: What this server already uses, to reserve on another server of the farm
  labfarm.massclone.gns3_project_info:
    projects_root: /opt/gns3/projects
    regex: ^Cexam_
  register: used
"""

RETURN = r"""
projects:
  description: The selected projects, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Project directory.
      type: str
      sample: /opt/gns3/projects/Cexam_01
    file:
      description: The C(.gns3) file.
      type: str
      sample: /opt/gns3/projects/Cexam_01/lab.gns3
    project_id:
      description: Project id.
      type: str
      sample: 51a37eaa-9798-5f96-89dd-971851c1a33d
    name:
      description: Project name.
      type: str
      sample: Cexam_01
    revision:
      description: File revision (9 for GNS3 2.2, 10 for 3.x).
      type: int
      sample: 10
    reset_from:
      description: The source project_id when M(labfarm.massclone.gns3_project_reset) made this project, else null.
      type: str
      sample: 7aab081c-090d-45bf-b3c2-d81f2145175e
    nodes:
      description: The project's nodes, in the order of the project file.
      type: list
      elements: dict
      contains:
        name:
          description: Node name.
          type: str
          sample: R1
        node_type:
          description: GNS3 node type (vpcs, qemu, docker, dynamips, iou...).
          type: str
          sample: qemu
        node_id:
          description: Node id.
          type: str
          sample: 35f74890-1ef0-56b5-817f-fe01a0447002
        compute_id:
          description: The compute the node runs on (unchanged).
          type: str
          sample: local
        console_type:
          description: The node's console type (telnet, vnc, spice, none...).
          type: str
          sample: telnet
        console:
          description: Console port, null when the node has no console.
          type: int
          sample: 9997
        aux:
          description: Aux console port, null when the node has none.
          type: int
          sample: null
        mac_address:
          description: Base MAC of the node, null when the file holds none (VPCS).
          type: str
          sample: "02:4c:46:00:00:09"
        adapters:
          description:
            - The MAC address of each adapter (base + adapter number, or the custom adapter's own); empty for nodes
              whose MACs are not in the project file (VPCS).
          type: list
          elements: dict
          sample: [{"adapter_number": 0, "mac_address": "02:4c:46:00:00:09"}, {"adapter_number": 1, "mac_address": "02:4c:46:00:00:0a"}]
          contains:
            adapter_number:
              description: The adapter's number on the node.
              type: int
              sample: 0
            mac_address:
              description: The adapter's MAC address.
              type: str
              sample: "02:4c:46:00:00:09"
    summary:
      description:
        - The project's console ports and adapter MACs folded into ranges, for one-line reports, and how many of its
          nodes each compute runs (C(computes), added in 0.2.0).
      type: dict
      sample: {"consoles": "9997-10000", "macs": "02:4c:46:00:00:01-02:4c:46:00:00:0a", "computes": {"local": 5}}
missing:
  description: Names asked for in O(names) that no project has.
  returned: always
  type: list
  elements: str
  sample: [Cexam_02]
unreadable:
  description: Project files under the root that could not be read, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/opt/gns3/projects/broken/broken.gns3", "error": "/opt/gns3/projects/broken/broken.gns3 is not valid JSON (...)"}]
  contains:
    path:
      description: The project file.
      type: str
      sample: /opt/gns3/projects/broken/broken.gns3
    error:
      description: Why it could not be read, and what to do.
      type: str
      sample: >-
        /opt/gns3/projects/broken/broken.gns3 is not valid JSON (Expecting value: line 1 column 1 (char 0)): restore it
        from a snapshot or a backup (GNS3 keeps <name>.gns3.backup)
used_console_ports:
  description: Every console and aux port used by any project under the root, sorted.
  returned: always
  type: list
  elements: int
  sample: [9997, 9998, 9999, 10000]
used_console_ports_by_compute:
  description:
    - The same ports per compute_id (GNS3 reserves a node's consoles on the compute that runs it), for a controller
      with remote computes, where a port need only be unique per compute.
  returned: always
  type: dict
  version_added: 0.2.0
  sample: {"local": [9997, 9998], "5e1c4b47-2a57-4ae8-9f2b-0000000000c1": [9999, 10000]}
used_macs:
  description:
    - Every MAC address used by any project under the root, sorted. Each dynamips router counts for its whole
      block of 256 addresses, since its interfaces derive their MACs from its base.
  returned: always
  type: list
  elements: str
  sample: ["02:4c:46:00:00:01", "02:4c:46:00:00:02"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.farm import read_farm
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.info import farm_info
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.project_options import info_names, info_regex


def main():
    module = AnsibleModule(
        argument_spec=dict(
            projects_root=dict(type="path", required=True),
            names=dict(type="raw"),
            regex=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        names = info_names(params["names"])
        pattern = info_regex(params["regex"])
        result = farm_info(read_farm(params["projects_root"]), names, pattern)
    except Gns3ProjectError as error:
        fail_with(module, error)
    else:
        exit_with(module, result)


if __name__ == "__main__":
    main()
