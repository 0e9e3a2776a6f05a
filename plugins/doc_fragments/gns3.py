# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options that reach a GNS3 server's controller API (2.2 or 3.x); their argument spec is
    plugins/module_utils/_gns3/options.py connection_argument_spec()."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the GNS3 server, V(http://HOST:3080) (or V(https://...)).
      - A URL that ends in V(/v2) or V(/v3) pins that API version.
    type: str
    required: true
  api_version:
    description:
      - The API to speak - V(v2) for GNS3 2.2, V(v3) for GNS3 3.x.
      - V(auto) asks C(/v3/version), then C(/v2/version).
    type: str
    choices: [auto, v2, v3]
    default: auto
  username:
    description:
      - GNS3 3.x - the user to log in as (C(POST /v3/access/users/authenticate)). GNS3 3.x creates the user
        V(admin) with password V(admin) unless C([Controller] default_admin_username/default_admin_password) say otherwise.
      - GNS3 2.2 - the user of HTTP basic authentication, when the server has C(auth = true).
    type: str
  password:
    description: Password of O(username).
    type: str
  token:
    description:
      - GNS3 3.x - an access token to use instead of O(username) and O(password).
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate (V(https://) URLs) against the system's CAs, or O(ca_path).
      - V(false) accepts any certificate; prefer O(ca_path) for a server with a certificate of its own CA.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to verify the server's certificate against, instead of the system's.
      - Read on the host the task runs on.
    type: path
    version_added: 0.2.0
  client_cert:
    description:
      - A PEM file with the client certificate to show a server (or a reverse proxy in front of it) that asks for one.
      - It may hold the private key too; else give O(client_key).
    type: path
    version_added: 0.2.0
  client_key:
    description: A PEM file with the private key of O(client_cert), without a passphrase.
    type: path
    version_added: 0.2.0
  use_proxy:
    description:
      - Reach the server through the proxy that the environment of the task names (C(http_proxy), C(https_proxy)),
        except for the hosts in C(no_proxy).
      - V(false) always connects directly.
    type: bool
    default: true
    version_added: 0.2.0
  timeout:
    description: Seconds to wait for the answer to one HTTP request.
    type: int
    default: 30
notes:
  - HTTP goes through ansible-core's C(ansible.module_utils.urls) - proxies, TLS and redirects behave as in
    M(ansible.builtin.uri). C(~/.netrc) is not read.
"""
