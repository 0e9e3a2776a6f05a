#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gns3_server
short_description: Reload a GNS3 server, load, open and close projects, start and stop their nodes gradually
version_added: 0.1.0
author:
  - labfarm.massclone contributors (!UNKNOWN)
description:
  - Talks to the controller API of a GNS3 server, 2.2 (C(/v2)) or 3.x (C(/v3)), over HTTP(S).
  - Makes the server re-read its projects directory (O(reload)) so that new clones appear, then brings
    a batch of projects to a state in one call - known, opened, closed, with nodes started or stopped.
  - Nodes are started (or stopped) gradually, at most O(rate) per second across the whole call and at most
    O(concurrency) at once, so that hundreds of clones booting from a central NAS do not flood it. Each node is
    timed, and a node that fails does not stop the others - the module fails at the end, listing each failed
    node with its project and GNS3's own message, and still returns the data of every node.
  - Idempotent - a project already opened or nodes already started are left alone and reported as unchanged.
  - Errors name the value at fault and how to fix it. Passwords and tokens never appear in messages.
requirements:
  - A GNS3 server 2.2 or 3.x whose controller API (C(/v2) or C(/v3)) the managed node reaches at O(url); nothing but
    Python's standard library on the managed node.
  - For the SIGHUP fallback of O(reload), the task runs on the GNS3 host, and O(reload_service) needs systemd
    (C(systemctl)) there.
options:
  reload:
    description:
      - Make the server re-read its C(projects_path) (C(POST /reload)), so that project directories copied or cloned
        there since it started appear. Projects that are gone from disk are dropped by GNS3.
      - When the API reload fails and O(reload_pid) or O(reload_service) is set, SIGHUP is sent to gns3server instead
        (this needs the task to run on the GNS3 host, for example with C(delegate_to)).
      - Then waits, up to O(reload_timeout) seconds, until the server answers again and lists every project of
        O(projects) given by name or id.
      - Reported as changed only when the reload made new projects appear.
    type: bool
    default: false
  reload_pid:
    description: PID of gns3server, to send SIGHUP to when the API reload fails.
    type: int
  reload_service:
    description: Systemd unit of gns3server, signalled with C(systemctl kill -s HUP) when the API reload fails.
    type: str
  reload_timeout:
    description: Seconds to wait after a reload until the server lists the projects asked for.
    type: int
    default: 60
  reload_wait:
    description:
      - With O(reload), whether to wait until the server lists every project of O(projects) (and then act on them).
      - V(false) sends the reload and returns at once, so the play can do other work while a GNS3 2.2 server
        reloads in the background; a later task waits for the projects with O(list_timeout). O(state) must then be
        left out or V(present), O(projects) are not resolved (and cannot be paths), and the task is never reported
        as changed - what the reload makes appear is seen by the task that waits.
    type: bool
    default: true
    version_added: 0.2.0
  list_timeout:
    description:
      - Without O(reload), how many seconds to wait until the server lists every project of O(projects) given by
        name or id, before anything is done to them - for a reload an earlier task sent with O(reload_wait=false).
      - V(0) does not wait; a project the server does not list fails the task at once.
    type: int
    default: 0
    version_added: 0.2.0
  projects:
    description:
      - The projects to act on - names, project ids, or absolute paths of C(.gns3) files on the GNS3 server.
      - A path the server does not know yet is loaded with C(POST /projects/load); GNS3 opens a project it loads.
        GNS3 3.x loads only paths under its C(projects_path).
      - Every name and id must be known to the server (after O(reload)); the module checks them all before changing
        anything.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) - the projects are known to the server (loaded when given by path).
      - V(opened) - the projects are opened.
      - V(closed) - the projects are closed (GNS3 stops their nodes).
      - V(started) - the projects are opened and their nodes started, gradually.
      - V(stopped) - the nodes of the opened projects are stopped, gradually; closed projects have none running.
      - Omitted - only O(reload) and report the projects and their nodes.
    type: str
    choices: [present, opened, closed, started, stopped]
  rate:
    description:
      - The most nodes started (or stopped) per second, across all projects of the call. Two consecutive
        requests are at least C(1/rate) seconds apart, so N nodes take at least (N-1)/rate seconds.
      - V(0) sends the requests without pacing (still at most O(concurrency) at once).
    type: float
    default: 2.0
  concurrency:
    description:
      - The most nodes in flight at once - a request sent and, with O(wait), the node not yet reporting its target status.
    type: int
    default: 4
  wait:
    description:
      - Poll each node until it reports V(started) (or V(stopped)), up to O(wait_timeout) seconds per node.
      - V(false) - a node is done when GNS3 answers its request.
    type: bool
    default: true
  wait_timeout:
    description: Seconds one node may take to report its target status before it counts as failed.
    type: int
    default: 300
  skip_node_types:
    description:
      - Node types never started nor stopped by this module - nodes that have nothing to boot.
      - Their nodes are reported with action V(skipped).
    type: list
    elements: str
    default: [cloud, nat, ethernet_switch, ethernet_hub, frame_relay_switch, atm_switch]
extends_documentation_fragment:
  - labfarm.massclone.gns3
  - labfarm.massclone.attributes
attributes:
  action_group:
    membership:
      - labfarm.massclone.massclone
      - labfarm.massclone.gns3
  check_mode:
    support: full
    details:
      - Reports what would be loaded, opened, closed, started or stopped, and sends nothing that changes the server.
  diff_mode:
    support: full
    details:
      - Shows, per project, its status and how many of its nodes are started, before and after.
  idempotent:
    support: full
    details:
      - A project already in its state and nodes already started (or stopped) are left alone and reported unchanged.
      - O(reload) is sent on every run, and reported as changed only when it made new projects appear.
notes:
  - >-
    Needs network access from the host the task runs on to the GNS3 server; it runs well on the controller
    (C(delegate_to: localhost)), except for the SIGHUP fallback of O(reload), which must run on the GNS3 host.
  - GNS3 2.2 answers C(POST /reload) at once and reloads in the background; the module waits until the projects
    asked for are listed, or until the project list holds still.
  - GNS3 2.2 and 3.x start uBridge for every qemu or VPCS node they start; without it they answer
    C(409 uBridge is not available) (the node may still be left running - the module reports its status).
seealso:
  - name: GNS3 controller API (3.x)
    description: The REST API reference of GNS3 3.x.
    link: https://apiv3.gns3.net/
"""

EXAMPLES = r"""
- name: Make the GNS3 server see the new clones, then open them and start their nodes, 2 per second
  labfarm.massclone.gns3_server:
    url: http://gns3.lab:3080
    username: admin
    password: "{{ gns3_admin_password }}"
    reload: true
    projects: "{{ 'Cexam_[01-40]' | labfarm.massclone.noderange }}"
    state: started
    rate: 2
    concurrency: 8
  delegate_to: localhost
  register: gns3

- name: Show the nodes that took longest to start
  ansible.builtin.debug:
    msg: "{{ gns3.projects | map(attribute='nodes') | flatten | sort(attribute='seconds', reverse=true) | first }}"

- name: Load a project by its .gns3 path (GNS3 3.x - it must lie under projects_path) and leave it known
  labfarm.massclone.gns3_server:
    url: http://gns3.lab:3080
    token: "{{ gns3_token }}"
    projects:
      - /opt/gns3/projects/Cexam_01/Cexam_01.gns3
    state: present

- name: Reach a GNS3 server behind an HTTPS reverse proxy that asks for a client certificate, never through a proxy
  labfarm.massclone.gns3_server:
    url: https://gns3.lab.example.org
    username: admin
    password: "{{ gns3_admin_password }}"
    ca_path: /etc/labfarm/lab-ca.pem
    client_cert: /etc/labfarm/ansible.pem
    client_key: /etc/labfarm/ansible.key
    use_proxy: false
    projects: "{{ exam_projects }}"
    state: opened
  delegate_to: localhost

- name: Reload through SIGHUP when the API reload is not available (runs on the GNS3 host)
  labfarm.massclone.gns3_server:
    url: http://127.0.0.1:3080
    reload: true
    reload_service: gns3server

- name: Ask the server to reload, and go on while it does
  labfarm.massclone.gns3_server:
    url: http://gns3.lab:3080
    reload: true
    reload_wait: false
  delegate_to: localhost

# ... other tasks, while a GNS3 2.2 server reads its projects again ...

- name: Wait until the server lists the new clones (at most 2 minutes)
  labfarm.massclone.gns3_server:
    url: http://gns3.lab:3080
    projects: "{{ 'Cexam_[01-40]' | labfarm.massclone.noderange }}"
    state: present
    list_timeout: 120
  delegate_to: localhost

- name: Stop every node of the exam, 5 per second, then close the projects
  labfarm.massclone.gns3_server:
    url: http://gns3.lab:3080
    username: admin
    password: "{{ gns3_admin_password }}"
    projects: "{{ exam_projects }}"
    state: "{{ item }}"
    rate: 5
  loop: [stopped, closed]
"""

RETURN = r"""
server:
  description: The server talked to.
  returned: always
  type: dict
  contains:
    version:
      description: GNS3's version.
      type: str
      sample: 3.0.6
    api:
      description: The API used.
      type: str
      sample: v3
    url:
      description: The base URL, without credentials.
      type: str
      sample: http://gns3.lab:3080
reloaded:
  description: Whether the server was made to reload its projects.
  returned: always
  type: bool
  sample: true
reload_method:
  description: How the reload was done - V(api) (C(POST /reload)) or V(sighup); null without O(reload).
  returned: always
  type: str
  sample: api
reload_waited:
  description: Whether the module waited for the reload (O(reload_wait)).
  returned: when the reload was sent (not in check mode)
  type: bool
  sample: true
  version_added: 0.2.0
projects_found:
  description: Names of the projects that appeared with the reload.
  returned: when the server was reloaded
  type: list
  elements: str
  sample: [Cexam_01, Cexam_02]
projects:
  description: One entry per project of O(projects), in order.
  returned: always
  type: list
  elements: dict
  contains:
    spec:
      description: The entry of O(projects) this is about.
      type: str
      sample: Cexam_01
    name:
      description: Project name.
      type: str
      sample: Cexam_01
    project_id:
      description: Project id (null in check mode for a project not loaded yet).
      type: str
      sample: 7b2a0c56-5a0e-4b5f-9c1e-0d6a3f1e9a11
    path:
      description: Path of the project's C(.gns3) file on the server.
      type: str
      sample: /opt/gns3/projects/Cexam_01/Cexam_01.gns3
    status_before:
      description: V(opened), V(closed), or V(absent) when the server did not know the project.
      type: str
      sample: closed
    status:
      description: The project's status after the call (what it would be, in check mode).
      type: str
      sample: opened
    changed:
      description: Whether the project was loaded, opened, closed, or had nodes started or stopped.
      type: bool
      sample: true
    loaded:
      description: Whether the project was loaded by path in this call.
      type: bool
      sample: false
    error:
      description: GNS3's message when the project could not be loaded, opened or closed; else null.
      type: str
      sample: null
    nodes:
      description: The project's nodes, listed when the project is opened.
      type: list
      elements: dict
      contains:
        name:
          description: Node name.
          type: str
          sample: PC1
        node_id:
          description: Node id.
          type: str
          sample: 35f74890-1ef0-56b5-817f-fe01a0447002
        node_type:
          description: GNS3 node type.
          type: str
          sample: qemu
        status_before:
          description: The node's status when listed.
          type: str
          sample: stopped
        status:
          description: The node's status after the call (V(started), V(stopped), V(suspended)).
          type: str
          sample: started
        action:
          description: >-
            V(started), V(stopped), V(skipped) (type in O(skip_node_types)), V(unchanged) (already there) or V(failed).
            In check mode, what would be done.
          type: str
          sample: started
        at:
          description: When the request was sent, seconds after the first node's request; null when none was sent.
          type: float
          sample: 1.5
        seconds:
          description: Seconds from the request to the node reporting its target status (or to the failure).
          type: float
          sample: 0.42
        error:
          description: GNS3's message when the node failed; else null.
          type: str
          sample: "VPCS executable version must be >= 0.6.1 but not a 0.8"
        console:
          description: The node's console port, as GNS3 reports it (null for a node without console).
          type: int
          sample: 5000
          version_added: 0.2.0
        console_type:
          description: The node's console type, as GNS3 reports it.
          type: str
          sample: telnet
          version_added: 0.2.0
        console_host:
          description: The address GNS3 reports for the node's console (its compute's host).
          type: str
          sample: 10.0.0.21
          version_added: 0.2.0
elapsed:
  description: Seconds the whole call took.
  returned: always
  type: float
  sample: 21.4
warnings:
  description: What the module did differently than asked (SIGHUP fallback, check mode reload).
  returned: when there are some
  type: list
  elements: str
  sample: ["POST /reload failed (HTTP Error 404: Not Found); sent SIGHUP to gns3server instead"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.job import run_server_job
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.options import (
    DEFAULT_SKIP_NODE_TYPES,
    STATES,
    connection_argument_spec,
)
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.reload_signal import hup_sender


def argument_spec():
    return dict(
        connection_argument_spec(),
        reload=dict(type="bool", default=False),
        reload_pid=dict(type="int"),
        reload_service=dict(type="str"),
        reload_timeout=dict(type="int", default=60),
        reload_wait=dict(type="bool", default=True),
        list_timeout=dict(type="int", default=0),
        projects=dict(type="list", elements="str", default=[]),
        state=dict(type="str", choices=list(STATES)),
        rate=dict(type="float", default=2.0),
        concurrency=dict(type="int", default=4),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        skip_node_types=dict(type="list", elements="str", default=list(DEFAULT_SKIP_NODE_TYPES)),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run_server_job(module.params, check_mode=module.check_mode, hup=hup_sender(module.run_command))
    except ResultError as error:
        fail_with(module, error)
    else:
        exit_with(module, result)


if __name__ == "__main__":
    main()
