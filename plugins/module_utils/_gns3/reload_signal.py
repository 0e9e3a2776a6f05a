# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""SIGHUP to gns3server, the fallback of gns3_server's reload when ``POST /reload`` fails: through
the kernel (a PID) or systemd (a unit). It must run on the GNS3 host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.client import GNS3Error


def hup_sender(run_command):
    """``hup(pid=None, service=None)`` for ServerJob: os.kill for a PID, else ``systemctl kill -s HUP``
    through ``run_command(argv) -> (rc, out, err)`` (AnsibleModule.run_command)."""
    def hup(pid=None, service=None):
        if pid:
            try:
                os.kill(pid, signal.SIGHUP)
            except OSError as exc:
                raise GNS3Error("cannot send SIGHUP to gns3server PID %d (reload_pid): %s" % (pid, exc.strerror or exc),
                                hint="give the PID of the running gns3server, on the host the task runs on")
            return
        rc, out, err = run_command(["systemctl", "kill", "-s", "HUP", service])
        if rc != 0:
            raise GNS3Error("systemctl kill -s HUP %s (reload_service) failed (rc=%d): %s"
                            % (service, rc, (err or out).strip()),
                            hint="give the systemd unit of gns3server on the host the task runs on")
    return hup
