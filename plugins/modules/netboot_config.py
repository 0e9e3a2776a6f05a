#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: netboot_config
short_description: DHCP reservations and PXE boot files for many hosts, validated, for dnsmasq, isc-dhcpd or Kea
version_added: 0.1.0
description:
  - From a list of hosts (name, MAC, IP, boot profile) and their subnets, writes the configuration of one DHCP
    server (dnsmasq, isc-dhcpd or Kea 2.x) and, with O(tftp_root), the PXE files the nodes fetch over TFTP
    (C(pxelinux.cfg/default) menu, per-MAC C(pxelinux.cfg/01-aa-bb-cc-dd-ee-ff) files, C(boot.ipxe) and per-MAC
    C(ipxe/aa-bb-cc-dd-ee-ff.ipxe) scripts), in one call for the whole batch.
  - Every host and subnet is checked before anything is written, and one error lists every offender with its
    host name, value and the rule it breaks. Malformed MAC, duplicate MAC, duplicate IP, duplicate or invalid host
    name (RFC 1123 label), IP outside every subnet, inside a dynamic range, or the network, broadcast or gateway
    address; overlapping subnets, a gateway or dynamic range outside its subnet, an inverted range; unknown boot
    profile. The daemons' own config tests miss most of these.
  - Then, with O(config_test), the daemon's own test runs on the candidate configuration before it replaces the
    live one (C(dnsmasq --test -C), C(dhcpd -t -cf), C(kea-dhcp4 -t)) when the binary is installed. A failing
    test fails the task with the daemon's output and leaves the live files untouched.
  - Only files whose content changes are written (atomically), so switching a few hosts to O(profiles) C(local)
    rewrites only their per-MAC files. Per-MAC files this module wrote for hosts no longer listed are removed.
  - Does not reload the daemon; the role labfarm.massclone.netboot_server has handlers for that (SIGHUP for
    dnsmasq re-reads the hosts file, Kea C(config-reload), dhcpd restart).
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - For O(config_test), the daemon of O(backend) on the managed node - C(dnsmasq), C(dhcpd) (ISC DHCP, package
    isc-dhcp-server on Debian) or C(kea-dhcp4) (Kea 2.x) - found in C(PATH), C(/usr/sbin) or C(/sbin); without it
    the test is skipped with a warning.
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details: Validates, renders and runs the config test; returns the files and host changes, writes nothing.
  diff_mode:
    support: full
    details: Hosts added, removed and changed (name, mac, ip, boot), not a text diff of the files.
  idempotent:
    support: full
    details: Only files whose content differs are written; a second run with the same hosts writes nothing.
options:
  hosts:
    description: Every host the DHCP server knows. The whole list each time; hosts not listed are removed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Host name, an RFC 1123 label, unique (case-insensitive).
        type: str
        required: true
      mac:
        description:
          - MAC address, six hex octets separated by C(:) or C(-), or Cisco-dotted C(aabb.ccdd.eeff); written lower
            case with colons.
        type: str
        required: true
      ip:
        description: Reserved IPv4 address, inside one subnet of O(subnets) and outside its dynamic range.
        type: str
        required: true
      boot:
        description: Name of the boot profile of the host (a key of O(profiles) or C(local)). Default O(default_profile).
        type: str
  subnets:
    description: The subnets the hosts live in.
    type: list
    elements: dict
    required: true
    suboptions:
      network:
        description: IPv4 network in CIDR form, for example C(10.99.0.0/24).
        type: str
        required: true
      gateway:
        description: Default router given to the clients.
        type: str
      dns:
        description: DNS servers given to the clients.
        type: list
        elements: str
        default: []
      dynamic_range:
        description:
          - Addresses for unknown clients, as C(FIRST-LAST). Without it, clients that are not in O(hosts) get no address.
        type: str
      domain:
        description: Domain name given to the clients.
        type: str
  backend:
    description: The DHCP server.
    type: str
    choices: [dnsmasq, isc, kea]
    required: true
  dest:
    description:
      - The main configuration file the daemon reads (C(dnsmasq.conf) or a file in C(/etc/dnsmasq.d), C(dhcpd.conf),
        C(kea-dhcp4.conf)). For dnsmasq the hosts go to C(<dest>.hosts), named by C(dhcp-hostsfile=).
    type: path
    required: true
  interfaces:
    description:
      - Interfaces to serve. dnsmasq C(interface=) with C(bind-interfaces); Kea C(interfaces-config) (default C(*));
        dhcpd takes them on its command line, so for isc they are only noted in the file.
    type: list
    elements: str
    default: []
  lease_file:
    description:
      - Lease file. Default C(/var/lib/misc/dnsmasq.leases), C(/var/lib/dhcp/dhcpd.leases) (C(lease-file-name)),
        C(/var/lib/kea/kea-leases4.csv) (memfile lease database).
    type: path
  pid_file:
    description: PID file of dnsmasq (default C(/run/dnsmasq/dnsmasq.pid)) or dhcpd (C(/run/dhcpd.pid), as the Debian init script expects).
    type: path
  log_file:
    description: dnsmasq C(log-facility=) file. Default syslog.
    type: path
  control_socket:
    description: Kea control socket (unix socket path). Default C(/run/kea/kea4-ctrl-socket).
    type: path
  dns_port:
    description: dnsmasq C(port=); the default 0 makes dnsmasq DHCP (and TFTP) only.
    type: int
    default: 0
  tftp_root:
    description: Directory served over TFTP where the pxelinux and iPXE files are written. Default no PXE files.
    type: path
  tftp_server:
    description: IPv4 address of the TFTP server (next-server). Default the DHCP server itself.
    type: str
  enable_tftp:
    description: dnsmasq serves TFTP itself from O(tftp_root) (C(enable-tftp), C(tftp-root=)).
    type: bool
    default: false
  ipxe_url:
    description: Boot file name given to iPXE clients instead of C(boot.ipxe), for example an HTTP URL.
    type: str
  profiles:
    description:
      - Boot profiles by name, each a dict with C(type) (C(local), C(linux), C(ipxe_chain), C(imaging); default
        C(linux)), C(label) (menu text), C(kernel), C(initrd), C(append) (paths under O(tftp_root) or URLs) and C(url)
        (the iPXE script an C(ipxe_chain) profile chains to).
      - C(local) (boot from the local disk, C(LOCALBOOT 0) / iPXE C(exit)) is built in.
      - An C(imaging) profile (version 0.2.0) boots C(kernel) and C(initrd) (both required) with a command line
        written per host - C(append), then C(labfarm.hostname=<name> labfarm.ip=<ip>/<prefix>
        labfarm.gateway=<gateway> labfarm.dns=<dns servers> labfarm.server=<server>), gateway and DNS when its subnet
        has them - and the boot NIC as C(BOOTIF=01-<mac>)
        (pxelinux C(IPAPPEND 2); written out in the iPXE script). C(server) (required) is the IPv4 address of the
        controller the imaging system reaches. C(kernel) and C(initrd) may be C(http://) URLs for iPXE clients,
        which fetch large initrds over HTTP much faster than over TFTP (docs/netboot.md).
    type: dict
    default: {}
  boot_only:
    description:
      - Change only the per-MAC boot entries (C(pxelinux.cfg/01-<mac>), C(ipxe/<mac>.ipxe)) of the hosts listed in
        O(hosts), for example to switch one node between an C(imaging) profile and C(local). The DHCP configuration,
        the menus and the entries of every other host are left as they are, and nothing is removed.
      - Each listed host must already be in the live DHCP configuration of O(dest) with the same name, MAC and IP
        (a first call with every host writes it). Needs O(tftp_root). The daemon's config test does not run, since no
        DHCP file changes.
    type: bool
    default: false
    version_added: 0.2.0
  default_profile:
    description: Profile of hosts without O(hosts[].boot), and the default entry of the menus.
    type: str
    default: local
  config_test:
    description: Run the daemon's own config test on the candidate configuration when its binary is installed.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy (C(<file>.<YYYY-mm-dd@HH:MM:SS>~)) of each file replaced or removed.
    type: bool
    default: false
notes:
  - C(dnsmasq --test) does not read C(dhcp-hostsfile), so the config test runs on a candidate file with the hosts
    inlined as C(dhcp-host=) lines. C(kea-dhcp4 -t) refuses interfaces that do not exist where it runs, so its
    candidate lists C(*) instead of O(interfaces). The candidate is written in a private temporary directory of the
    system's temporary directory (never in the configuration directory, so check mode writes nothing there and a
    fresh host whose configuration directory does not exist yet is still tested) and removed afterwards.
  - C(pxelinux.0) and C(ldlinux.c32) are not written; they come from the Debian pxelinux and syslinux-common packages.
seealso:
  - module: labfarm.massclone.gns3_project_info
"""

EXAMPLES = r"""
- name: DHCP reservations and PXE files served by dnsmasq
  labfarm.massclone.netboot_config:
    backend: dnsmasq
    dest: /etc/dnsmasq.d/labfarm.conf
    interfaces: [eth1]
    subnets:
      - network: 10.99.0.0/24
        gateway: 10.99.0.1
        dns: [10.99.0.1]
        dynamic_range: 10.99.0.200-10.99.0.250
    hosts: "{{ nodes }}"   # [{name: node001, mac: '52:54:00:aa:bb:01', ip: 10.99.0.11, boot: ring}, ...]
    tftp_root: /srv/tftp
    enable_tftp: true
    profiles:
      ring:
        label: Imaging ring client
        kernel: ring/vmlinuz
        initrd: ring/initrd.img
        append: ip=dhcp ring.server=10.99.0.1
    default_profile: local
  register: netboot

- name: One node into the imaging system (only its per-MAC files are written; other hosts are left alone)
  labfarm.massclone.netboot_config:
    backend: dnsmasq
    dest: /etc/dnsmasq.d/labfarm.conf
    subnets: "{{ subnets }}"
    hosts: [{name: node001, mac: '52:54:00:aa:bb:01', ip: 10.99.0.11, boot: imaging}]
    boot_only: true
    tftp_root: /srv/tftp
    profiles:
      imaging:
        type: imaging
        kernel: http://10.99.0.1:8080/imaging/vmlinuz
        initrd: http://10.99.0.1:8080/imaging/initrd.img
        append: console=ttyS0,115200
        server: 10.99.0.1

- name: Back to local boot after imaging (only these hosts' per-MAC files are rewritten)
  labfarm.massclone.netboot_config:
    backend: dnsmasq
    dest: /etc/dnsmasq.d/labfarm.conf
    subnets: "{{ subnets }}"
    hosts: "{{ nodes | map('combine', {'boot': 'local'}) }}"
    tftp_root: /srv/tftp
    enable_tftp: true
    profiles: "{{ profiles }}"
"""

RETURN = r"""
files:
  description: Every file the module manages (written, unchanged, or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/dnsmasq.d/labfarm.conf, /etc/dnsmasq.d/labfarm.conf.hosts, /srv/tftp/pxelinux.cfg/default]
written:
  description: The files whose content changed (or would change), and stale per-MAC files removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/dnsmasq.d/labfarm.conf.hosts, /srv/tftp/pxelinux.cfg/01-52-54-00-aa-bb-01]
hosts:
  description: Number of hosts.
  returned: always
  type: int
  sample: 10000
changes:
  description: Names of the hosts added, removed and changed (mac, ip or boot) against the live files.
  returned: always
  type: dict
  sample: {"added": ["node003"], "removed": [], "changed": ["node001"]}
config_test:
  description: The daemon's config test, or null when it did not run (disabled, or binary absent).
  returned: always
  type: dict
  sample: {"command": [/usr/sbin/dnsmasq, --test, -C, /tmp/labfarm-netboot-test-x1y2/labfarm.conf], "rc": 0,
           "output": "dnsmasq: syntax check OK."}
  contains:
    command:
      description: The command run (on a candidate file).
      type: list
      elements: str
      sample: [/usr/sbin/dnsmasq, --test, -C, /tmp/labfarm-netboot-test-x1y2/labfarm.conf]
    rc:
      description: Its exit code.
      type: int
      sample: 0
    output:
      description: Its stdout and stderr.
      type: str
      sample: "dnsmasq: syntax check OK."
backup_files:
  description: The backup copies made.
  returned: always
  type: list
  elements: str
  sample: ["/etc/dnsmasq.d/labfarm.conf.hosts.2026-01-31@12:00:00~"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.configure import configure
from ansible_collections.labfarm.massclone.plugins.module_utils._netboot.validate import BACKENDS, NetbootError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                mac=dict(type="str", required=True),
                ip=dict(type="str", required=True),
                boot=dict(type="str"),
            )),
            subnets=dict(type="list", elements="dict", required=True, options=dict(
                network=dict(type="str", required=True),
                gateway=dict(type="str"),
                dns=dict(type="list", elements="str", default=[]),
                dynamic_range=dict(type="str"),
                domain=dict(type="str"),
            )),
            backend=dict(type="str", choices=list(BACKENDS), required=True),
            dest=dict(type="path", required=True),
            interfaces=dict(type="list", elements="str", default=[]),
            lease_file=dict(type="path"),
            pid_file=dict(type="path"),
            log_file=dict(type="path"),
            control_socket=dict(type="path"),
            dns_port=dict(type="int", default=0),
            tftp_root=dict(type="path"),
            tftp_server=dict(type="str"),
            enable_tftp=dict(type="bool", default=False),
            ipxe_url=dict(type="str"),
            profiles=dict(type="dict", default={}),
            default_profile=dict(type="str", default="local"),
            config_test=dict(type="bool", default=True),
            backup=dict(type="bool", default=False),
            boot_only=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result = configure(module, module.params, check_mode=module.check_mode)
    except NetbootError as exc:
        fail_with(module, exc)
    exit_with(module, result)


if __name__ == "__main__":
    main()
