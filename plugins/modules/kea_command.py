#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kea_command
short_description: Send one command to a Kea daemon over its unix control socket
version_added: 0.1.0
description:
  - Connects to the C(control-socket) of a Kea daemon (C(kea-dhcp4), C(kea-dhcp6)), sends one command such as
    C(config-reload) or C(config-get) and returns Kea's answer.
  - Fails with Kea's own text when the answer's result code is not 0. For C(config-reload) that means Kea refused
    the configuration file and keeps serving its previous configuration.
  - Waits up to O(timeout) seconds for the socket to appear and answer, so it can follow the start of the daemon.
  - Needs nothing but Python on the managed host (no socat, no Control Agent).
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - A Kea 2.x daemon (C(kea-dhcp4) or C(kea-dhcp6)) on the managed node with a unix C(control-socket) in its
    configuration; the module itself needs only Python.
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Commands in O(read_only_commands) are sent in check mode; any other command is not sent and the task
        reports changed.
      - Check mode cannot tell whether Kea would accept a changing command such as C(config-reload); run
        C(config-test) with the new configuration as O(arguments) for that.
  diff_mode:
    support: none
    details: Kea's answer is returned, not a diff.
  idempotent:
    support: partial
    details:
      - Commands in O(read_only_commands) change nothing and report C(changed=false).
      - Any other command is sent again on every run and reports C(changed=true) when Kea accepts it; whether it
        changes anything (C(config-reload) of an unchanged file does not) is up to Kea, which does not say.
options:
  socket:
    description: Path of the daemon's unix control socket (its C(control-socket.socket-name)).
    type: path
    required: true
  command:
    description: The command, for example C(config-reload), C(config-test), C(config-get), C(status-get).
    type: str
    required: true
  arguments:
    description: The command's C(arguments) object, when it takes one.
    type: dict
  timeout:
    description: Seconds to wait for the socket to accept the connection and for the answer.
    type: float
    default: 10
  read_only_commands:
    description: Commands that change nothing; they report changed=false and are also sent in check mode.
    type: list
    elements: str
    default: [config-get, config-test, status-get, version-get, list-commands, build-report, statistic-get,
              statistic-get-all, lease4-get, lease4-get-all, lease6-get, lease6-get-all]
seealso:
  - name: Kea management API
    description: The commands and their answers.
    link: https://kea.readthedocs.io/en/latest/arm/ctrl-channel.html
  - module: labfarm.massclone.netboot_config
"""

EXAMPLES = r"""
- name: Make kea-dhcp4 read its configuration file again
  labfarm.massclone.kea_command:
    socket: /var/lib/labfarm-netboot/kea.sock
    command: config-reload

- name: Ask Kea for the configuration it runs
  labfarm.massclone.kea_command:
    socket: /run/kea/kea4-ctrl-socket
    command: config-get
  register: kea_config
"""

RETURN = r"""
result:
  description: Kea's result code (0 success, 1 error, 2 unsupported command, 3 empty). Absent in check mode when
    the command was not sent.
  returned: when the command was sent
  type: int
  sample: 0
text:
  description: Kea's text.
  returned: when the command was sent and Kea gave one
  type: str
  sample: Configuration successful.
arguments:
  description: Kea's C(arguments) in the answer.
  returned: when the command was sent and Kea gave some
  type: raw
  sample: {}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.kea import (
    READ_ONLY, KeaError, answer_fields, send_command)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            command=dict(type="str", required=True),
            arguments=dict(type="dict"),
            timeout=dict(type="float", default=10),
            read_only_commands=dict(type="list", elements="str", default=READ_ONLY),
        ),
        supports_check_mode=True,
    )
    params = module.params
    changes = params["command"] not in params["read_only_commands"]
    if module.check_mode and changes:
        exit_with(module, dict(changed=True))
    try:
        answer = send_command(params["socket"], params["command"], params["arguments"], params["timeout"])
        result = answer_fields(answer, params["command"])
    except KeaError as exc:
        fail_with(module, exc, changed=False)
    exit_with(module, dict(result, changed=changes))


if __name__ == "__main__":
    main()
