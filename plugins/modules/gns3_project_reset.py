#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gns3_project_reset
short_description: Reset many copies of a GNS3 project so each loads beside the others and its source
version_added: 0.1.0
description:
  - Takes directories that hold copies of a GNS3 project (ZFS clones made by M(labfarm.massclone.zfs_clone),
    or plain copies) and gives each one what GNS3 needs to load it on the same servers as its source and as
    every other copy, in one call for the whole batch.
  - Changes the project_id and name, every node_id (renaming C(project-files/<type>/<node_id>/) directories and
    updating link endpoints), every link_id and drawing_id, console ports (and aux ports; VNC and SPICE consoles
    from O(vnc_port_range); nodes whose console_type is C(none) are left alone), the MAC address of every node
    that stores one (qemu and docker C(properties.mac_address), C(custom_adapters[].mac_address), dynamips
    C(mac_addr) in its dotted form), dynamips_id and IOU application_id. Old snapshots are dropped by default.
  - Never changes template_id. Changes compute_id only when O(computes) are given, and then only for the nodes
    that O(compute_placement.from) selects, so nodes on remote computes stay there. Keys it does not know are
    kept as they are. Reads revision 9 (GNS3 2.2) and revision 10 (GNS3 3.x) files.
  - With O(computes) (a controller with remote computes, GNS3's own farm), the nodes of each clone are placed on
    those computes, per clone or per node, by a placement policy over their capacities; each project file then
    lists the computes its nodes use in its C(computes) list (id, host, port, protocol, name, as GNS3 writes it),
    and console ports are unique per compute only, so a farm of computes holds more consoles than one range.
  - Console ports are unique across every project under O(projects_root) and O(used_console_ports) (per compute
    when O(computes) are given), and are
    taken from the top of the range downwards, because GNS3 gives VPCS and qemu telnet consoles a hidden
    internal port, the lowest free one of the range, when a project opens.
  - A node with n adapters gets a block of n consecutive MAC addresses (GNS3 gives adapter n the base MAC + n);
    no address of a block is used anywhere under O(projects_root) or in O(used_macs). A dynamips router gets an
    aligned block of 256.
  - Ids are derived with UUIDv5 from the source's ids and the new name, and the module leaves a small record
    (C(.labfarm-reset.json)) in each project directory, so rerunning the same call gives the same ids, ports
    and MACs and reports no change.
  - Every project and input is checked, and every value chosen, before anything is written; a bad project file
    or an exhausted range fails the whole batch with nothing written. Files are replaced atomically and keep
    their ownership unless O(owner) or O(group) are given.
author:
  - labfarm.massclone contributors (!UNKNOWN)
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Plans the whole batch and returns the ids, ports and MACs it would write, writing nothing.
  diff_mode:
    support: full
    details:
      - Per project, old and new project_id and name, console ports and MACs, folded into ranges.
  idempotent:
    support: full
    details:
      - Ids are derived from the source's ids and the clone's name, and a project it reset keeps its ports and MACs while they
        are still free, so rerunning the same call writes nothing and reports no change.
options:
  projects:
    description:
      - The project directories to reset, with the name each must get.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Directory of the project (or its C(.gns3) file).
          - Required, except with O(clone.source), where it defaults to O(projects_root)/<project_id>, the
            directory GNS3 itself would give that project.
        type: path
      name:
        description: The project name GNS3 shows. Must be unique on the server.
        type: str
        required: true
      project_id:
        description:
          - The new project UUID. By default derived from the source's project_id and O(projects[].name) (UUIDv5),
            so the same clone always gets the same id.
        type: str
      dataset:
        description:
          - With O(clone), the ZFS dataset to clone the snapshot into, the one mounted at O(projects[].path) (for
            example C(tank/gns3/projects/<project_id>) under a projects dataset mounted at O(projects_root)).
            Required with O(clone), ignored without it. With O(clone.source), defaults to
            O(clone.projects_dataset)/<project_id>.
        type: str
        version_added: 0.2.0
  clone:
    description:
      - Make the projects first, in the same call, as ZFS clones of one snapshot of the source project - what
        M(labfarm.massclone.zfs_clone) then this module do in two tasks, in one module start.
      - Under the farm lock and the host's zfs lock (the one M(labfarm.massclone.zfs_clone) takes), the whole batch
        is planned with each missing project planned as the copy of O(plan_from) it will be, so an exhausted range,
        a bad project under O(projects_root) or a bad input is refused before any dataset is made; then the
        missing datasets are cloned (a clone that fails mid-batch rolls the batch back); then the clones' own files
        are planned again and written. If that last step fails, the datasets (and the snapshot) this call made are
        destroyed and the error says so, so a failed call leaves the farm as it was.
      - A dataset that already exists as a clone of the snapshot is kept, so a rerun makes nothing and reports no change.
      - Run it on the host that has both the pool and the projects directory (a standalone GNS3 server, or the
        storage host of a shared store). Requires O(plan_from), or O(clone.source).
      - With O(clone.source), the call also finds the source project by its name and derives the rest, so the
        caller gives only the clones' names - what a M(labfarm.massclone.gns3_project_info) task does first
        otherwise, in the same module start.
    type: dict
    version_added: 0.2.0
    suboptions:
      snapshot:
        description:
          - The snapshot to clone, as C(pool/dataset@name), normally of the source project's dataset.
          - Required, except with O(clone.source), where it defaults to O(clone.source_dataset)@O(clone.snapshot_name).
        type: str
      source:
        description:
          - The name of the source project, as GNS3 shows it, under O(projects_root). The one project of that name
            is the source; when several have it (another run's clones not reset yet are byte copies of it), the
            one in the directory named after its project_id. None, or several such, is refused before anything runs.
          - Then O(plan_from) defaults to the source's directory, and each project of O(projects) needs only its
            name - its project_id, path and dataset default to the derived id, O(projects_root)/<id> and
            O(clone.projects_dataset)/<id>. RV(source) returns what was found.
        type: str
        version_added: 0.2.0
      projects_dataset:
        description:
          - With O(clone.source), the ZFS dataset mounted at O(projects_root), for example C(tank/gns3/projects).
            Required with O(clone.source), unused without it.
        type: str
        version_added: 0.2.0
      source_dataset:
        description:
          - With O(clone.source), the dataset of the source project, when it is not
            O(clone.projects_dataset)/<the source's project_id>.
        type: str
        version_added: 0.2.0
      snapshot_name:
        description:
          - With O(clone.source) and no O(clone.snapshot), the name of the snapshot of the source's dataset to clone
            (taken with O(clone.create_snapshot)).
        type: str
        default: clonesource
        version_added: 0.2.0
      create_snapshot:
        description: Take the snapshot (recursively) when it does not exist yet; an existing one is reused as it is.
        type: bool
        default: false
      recursive:
        description: Clone the snapshot's child datasets too, each under its clone.
        type: bool
        default: false
      properties:
        description: ZFS properties to set on each clone (C(zfs clone -o)).
        type: dict
        default: {}
  projects_root:
    description:
      - The GNS3 server's C(projects_path). Every project under it counts when choosing free ports, MACs and
        ids, and no clone may take the name or project_id of one of them.
    type: path
    required: true
  console_port_range:
    description: Range for telnet consoles and aux ports, as C(FIRST-LAST). Must match the server's console range.
    type: str
    default: 5000-10000
  vnc_port_range:
    description: Range for VNC and SPICE consoles, as C(FIRST-LAST).
    type: str
    default: 5900-10000
  mac_prefix:
    description:
      - One to five octets under which MAC addresses are allocated. Must be unicast and locally administered.
    type: str
    default: "02:4c:46"
  used_console_ports:
    description: Ports taken elsewhere on the farm (other servers, other services) that no clone may use.
    type: list
    elements: int
    default: []
  used_macs:
    description: MAC addresses taken elsewhere on the farm that no adapter may use.
    type: list
    elements: str
    default: []
  snapshots:
    description:
      - What to do with the GNS3 snapshots copied from the source. Restoring one would bring back the source's
        ids, so they are dropped by default.
    type: str
    choices: [drop, keep]
    default: drop
  owner:
    description: User (name or uid) to own every file of the projects, for example C(gns3). Default keeps ownership.
    type: str
  group:
    description: Group (name or gid) to own every file of the projects. Default keeps ownership.
    type: str
  lock_timeout:
    description:
      - How many seconds to wait for another reset working on the same O(projects_root) (another job, or another
        server that mounts the same directory) before failing with nothing written. The error names the host and
        process that hold the lock and since when. V(0) does not wait.
      - A run that writes holds the lock C(.labfarm-farm.lock) in O(projects_root) from reading the farm to its
        last write, so two runs never hand out the same port, MAC or id; the second one waits, then plans with
        what the first one wrote.
    type: int
    version_added: 0.2.0
    default: 300
  plan_from:
    description:
      - In check mode, a path of O(projects) that does not exist yet is planned as the copy of this project (its
        directory or C(.gns3) file) that it will be, for example the ZFS clone of the source that
        M(labfarm.massclone.zfs_clone) is about to make. The whole batch (names, ids, ports, MACs) is then decided,
        and an exhausted range or a bad project under O(projects_root) refused, before any copy is made.
      - With O(clone), the same plan is made before the datasets are (and then required, unless O(clone.source)
        gives it).
      - Otherwise ignored outside check mode, where every path must exist.
    type: path
    version_added: 0.2.0
  return_nodes:
    description:
      - Whether each project of RV(projects) lists its nodes (RV(projects[].nodes)). V(false) leaves them out, for a
        caller that needs only the verdict and the summaries - such as a check-mode plan of a large batch, whose
        nodes Ansible would otherwise carry through the play (0.7 MB for 100 clones of a 32-node project).
    type: bool
    default: true
    version_added: 0.2.0
  computes:
    description:
      - The computes of the GNS3 controller that loads these projects, to place the clones' nodes on.
      - When given, the nodes that O(compute_placement.from) selects get the compute chosen by
        O(compute_placement), every other node keeps its compute_id, and each project's C(computes) list holds
        every listed compute its nodes use.
      - Console (and aux, VNC) ports are then unique per compute, since GNS3 reserves them on the compute that
        runs the node, and each compute can have its own range. MAC addresses, dynamips_id and IOU
        application_id stay unique across O(projects_root).
      - Refused before anything is written, naming the value and the fix - a node type no listed compute runs, a
        node on a compute neither listed here nor in its project's C(computes) list, a compute without capacity
        (or console ports) for its share.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      id:
        description:
          - The compute_id the controller knows the compute by (C(GET /v2/computes) or C(/v3/computes)).
            V(local) (the controller's own compute) and V(vm) (the GNS3 VM) may be listed without a host; they are
            never written in a project's C(computes) list.
        type: str
        required: true
      host:
        description: The address the controller reaches the compute at. Required but for V(local) and V(vm).
        type: str
      port:
        description: The compute's API port.
        type: int
        default: 3080
      protocol:
        description: How the controller reaches the compute.
        type: str
        choices: [http, https]
        default: http
      name:
        description: The compute's name on the controller (names must be unique). Defaults to O(computes[].id).
        type: str
      capacity:
        description:
          - How many nodes this compute may hold across the projects under O(projects_root), this batch included.
            Nodes other projects already have there count. Unlimited when not given.
          - Whatever its capacity, a compute is given no more console and aux ports than its console range has free.
        type: int
      weight:
        description: The compute's share for the V(weighted) policy (default - its capacity).
        type: float
      node_types:
        description:
          - The node types this compute runs (V(vpcs), V(qemu), V(docker), V(iou), V(dynamips)...). By default every
            type of its GNS3 version (the project file's revision), as a Linux compute reports them.
        type: list
        elements: str
      console_port_range:
        description: This compute's console range (its C(console_start_port_range)-C(console_end_port_range)).
          Defaults to O(console_port_range). Computes on one host must have disjoint ranges.
        type: str
      vnc_port_range:
        description: This compute's range for VNC and SPICE consoles. Defaults to O(vnc_port_range).
        type: str
  compute_placement:
    description: How the nodes are placed on O(computes). Ignored without O(computes).
    type: dict
    version_added: 0.2.0
    suboptions:
      per:
        description:
          - V(clone) puts every placed node of a clone on one compute (links stay inside a compute); V(node) places
            each node on its own, spreading a clone's nodes (links between computes become UDP tunnels).
        type: str
        choices: [clone, node]
        default: clone
      policy:
        description:
          - V(even) gives each compute the same share (contiguous blocks), V(round_robin) interleaves,
            V(concentrated) fills each compute to capacity before the next, V(weighted) shares by capacity or
            O(computes[].weight). A clone or node whose node types only some computes run is placed among those.
          - A project this module reset before keeps its computes while they are listed, run its nodes and have
            room, so a rerun moves nothing.
        type: str
        choices: [round_robin, even, concentrated, weighted]
        default: even
      from:
        description:
          - The computes, in the source project, whose nodes are placed. Nodes on any other compute keep it.
        type: list
        elements: str
        default: [local]
notes:
  - With O(clone), the module needs the C(zfs) command (OpenZFS or zfs-fuse) on the host it runs on.
  - VPCS MAC addresses are chosen by GNS3 when a node starts and cannot be set from the project file; they are
    reported without a MAC and a warning says so.
  - Run it on the GNS3 server that holds the projects, after the clones exist and before the server loads them
    (then reload it with M(labfarm.massclone.gns3_server)).
  - The farm lock is a POSIX lock (C(lockf)) on C(.labfarm-farm.lock) in O(projects_root). It serialises every host
    that mounts the directory over NFS v4 (or v3 with lockd) as well as local runs, and it is released when its
    holder ends, so the file left in the root is never a stale lock. Check mode neither takes nor creates it.
  - Every directory directly under O(projects_root) that holds a C(.gns3) file is a project of the farm, as GNS3's
    own scan of its projects path sees it; files whose name starts with a dot (such as macOS C(._lab.gns3)) are
    not project files, as for M(labfarm.massclone.gns3_project_info).
seealso:
  - module: labfarm.massclone.zfs_clone
    description: Clones of a snapshot on their own (and their removal).
  - module: labfarm.massclone.gns3_project_info
  - module: labfarm.massclone.gns3_server
"""

EXAMPLES = r"""
- name: Reset clones made by zfs_clone
  labfarm.massclone.gns3_project_reset:
    projects_root: /opt/gns3/projects
    projects:
      - path: /opt/gns3/projects/clone-01
        name: Cexam_01
      - path: /opt/gns3/projects/clone-02
        name: Cexam_02
    console_port_range: 5000-10000
    mac_prefix: "02:4c:46"
    used_macs: "{{ macs_of_other_servers }}"
    owner: gns3
    group: gns3
  register: reset

- name: Clone the source's snapshot into 40 projects and reset them, in one call, all or nothing
  labfarm.massclone.gns3_project_reset:
    projects_root: /tank/gns3/projects
    projects: "{{ clones }}"   # [{path: /tank/gns3/projects/<id>, name: Cexam_01, dataset: tank/gns3/projects/<id>}, ...]
    plan_from: /tank/gns3/projects/7aab081c-090d-45bf-b3c2-d81f2145175e
    clone:
      snapshot: tank/gns3/projects/7aab081c-090d-45bf-b3c2-d81f2145175e@massclone
      create_snapshot: true
    owner: gns3
    group: gns3

- name: The same, finding the source by its name (the clones' ids, directories and datasets derived)
  labfarm.massclone.gns3_project_reset:
    projects_root: /tank/gns3/projects
    projects: "{{ ['Cexam_01', 'Cexam_02', 'Cexam_03'] | map('community.general.dict_kv', 'name') | list }}"
    clone:
      source: lab
      projects_dataset: tank/gns3/projects
      snapshot_name: massclone
      create_snapshot: true
  register: made

- name: Where the clones come from
  ansible.builtin.debug:
    msg: "{{ made.projects | length }} clones of {{ made.source.path }} from {{ made.source.snapshot }}"

- name: Show the console of each node
  ansible.builtin.debug:
    msg: "{{ item.0.name }} {{ item.1.name }} telnet {{ item.1.console }}"
  loop: "{{ reset.projects | subelements('nodes') }}"
  loop_control:
    label: "{{ item.0.name }}/{{ item.1.name }}"

- name: Spread 200 clones of a 30-node lab over two remote computes of one controller
  labfarm.massclone.gns3_project_reset:
    projects_root: /opt/gns3/projects
    projects: "{{ clones }}"   # [{path: /opt/gns3/projects/lab-001, name: Clab_001}, ...]
    computes:
      - id: 5e1c4b47-2a57-4ae8-9f2b-000000000001
        host: 10.0.0.11
        name: compute-1
        capacity: 3000
        node_types: [vpcs, qemu, docker]
      - id: 5e1c4b47-2a57-4ae8-9f2b-000000000002
        host: 10.0.0.12
        name: compute-2
        capacity: 3000
    compute_placement:
      per: clone
      policy: even
    console_port_range: 5000-10000
    owner: "1001"     # the servers' gns3 uid: no such user needs to exist on the storage host
    group: "1001"
  register: spread

- name: Where each compute's consoles are
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.host }}): {{ item.projects }} clones, {{ item.nodes }} nodes, consoles {{ item.consoles }}"
  loop: "{{ spread.computes }}"
"""

RETURN = r"""
projects:
  description: One entry per project of the batch, in the order given, as written (or, in check mode, as it would be).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Project directory.
      type: str
      sample: /opt/gns3/projects/clone-01
    file:
      description: The project's C(.gns3) file.
      type: str
      sample: /opt/gns3/projects/clone-01/lab.gns3
    project_id:
      description: The project's new id.
      type: str
      sample: 51a37eaa-9798-5f96-89dd-971851c1a33d
    name:
      description: The project's new name.
      type: str
      sample: Cexam_01
    revision:
      description: File revision (9 for GNS3 2.2, 10 for 3.x).
      type: int
      sample: 10
    source_project_id:
      description: The project_id of the project this one was copied from.
      type: str
      sample: 7aab081c-090d-45bf-b3c2-d81f2145175e
    reset_from:
      description: The source's project_id as recorded in the project directory (the same as RV(projects[].source_project_id)).
      type: str
      sample: 7aab081c-090d-45bf-b3c2-d81f2145175e
    changed:
      description: Whether this project was changed.
      type: bool
      sample: true
    nodes:
      description: Every node with its new id, consoles and the MAC of each adapter as GNS3 computes it.
      returned: unless O(return_nodes=false)
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
          description: New node id.
          type: str
          sample: 35f74890-1ef0-56b5-817f-fe01a0447002
        compute_id:
          description: The compute the node runs on (placed on one of O(computes) when given, else unchanged).
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
clone:
  description: With O(clone), what the call made of the datasets (or, in check mode, would make).
  returned: when O(clone) is given
  type: dict
  version_added: 0.2.0
  contains:
    snapshot:
      description: The snapshot cloned.
      type: str
      sample: tank/gns3/projects/7aab081c-090d-45bf-b3c2-d81f2145175e@massclone
    snapshot_created:
      description: Whether the call took the snapshot.
      type: bool
      sample: false
    created:
      description:
        - The datasets the call made (child datasets too, with O(clone.recursive)). On failure, those it made and
          could not destroy again - normally none.
      type: list
      elements: str
      sample: [tank/gns3/projects/51a37eaa-9798-5f96-89dd-971851c1a33d]
    existing:
      description: The datasets that were already clones of the snapshot, kept as they are.
      type: list
      elements: str
      sample: []
    parents_created:
      description: Parent datasets the call made for the clones.
      type: list
      elements: str
      sample: []
source:
  description: With O(clone.source), the source project found, and the snapshot its clones are made from.
  returned: when O(clone.source) is given
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      sample: lab
    project_id:
      description: Its project_id, from which the clones' ids are derived.
      type: str
      sample: 7aab081c-090d-45bf-b3c2-d81f2145175e
    path:
      description: Its directory.
      type: str
      sample: /tank/gns3/projects/7aab081c-090d-45bf-b3c2-d81f2145175e
    snapshot:
      description: The snapshot cloned (O(clone.snapshot), or the one derived).
      type: str
      sample: tank/gns3/projects/7aab081c-090d-45bf-b3c2-d81f2145175e@clonesource
durations:
  description:
    - With O(clone), how many seconds each step took (the locks once held) - the plan before any dataset, the zfs
      clones, the plan of the clones and the write - to tell a slow pool from a slow reset on a large batch.
  returned: when O(clone) is given, outside check mode, and the call succeeds
  type: dict
  version_added: 0.2.0
  sample: {"plan": 0.15, "clone": 1.01, "reset": 0.29}
computes:
  description:
    - One entry per compute of O(computes), in that order - what it runs of this batch. Empty without O(computes).
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  sample: [{"id": "compute-1", "name": "compute-1", "host": "10.0.0.11", "port": 3080, "protocol": "http",
            "capacity": 3000, "projects": 100, "nodes": 3000, "consoles": "5000-8000"}]
  contains:
    id:
      description: The compute_id.
      type: str
      sample: compute-1
    name:
      description: The compute's name.
      type: str
      sample: compute-1
    host:
      description: Its address.
      type: str
      sample: 10.0.0.11
    port:
      description: Its API port.
      type: int
      sample: 3080
    protocol:
      description: http or https.
      type: str
      sample: http
    capacity:
      description: Its capacity in nodes, null when unlimited.
      type: int
      sample: 3000
    projects:
      description: How many projects of the batch have nodes on it.
      type: int
      sample: 100
    nodes:
      description: How many nodes of the batch it runs.
      type: int
      sample: 3000
    consoles:
      description: The console and aux ports of those nodes, folded into ranges.
      type: str
      sample: "5000-8000"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.model import Gns3ProjectError
from ansible_collections.labfarm.massclone.plugins.module_utils._gns3.reset import run_reset
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import ZfsCli


def main():
    module = AnsibleModule(
        argument_spec=dict(
            projects=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path"),
                name=dict(type="str", required=True),
                project_id=dict(type="str"),
                dataset=dict(type="str"),
            )),
            clone=dict(type="dict", options=dict(
                snapshot=dict(type="str"),
                source=dict(type="str"),
                projects_dataset=dict(type="str"),
                source_dataset=dict(type="str"),
                snapshot_name=dict(type="str", default="clonesource"),
                create_snapshot=dict(type="bool", default=False),
                recursive=dict(type="bool", default=False),
                properties=dict(type="dict", default={}),
            )),
            projects_root=dict(type="path", required=True),
            console_port_range=dict(type="str", default="5000-10000"),
            vnc_port_range=dict(type="str", default="5900-10000"),
            mac_prefix=dict(type="str", default="02:4c:46"),
            used_console_ports=dict(type="list", elements="int", default=[]),
            used_macs=dict(type="list", elements="str", default=[]),
            snapshots=dict(type="str", choices=["drop", "keep"], default="drop"),
            owner=dict(type="str"),
            group=dict(type="str"),
            lock_timeout=dict(type="int", default=300),
            plan_from=dict(type="path"),
            return_nodes=dict(type="bool", default=True),
            computes=dict(type="list", elements="dict", options=dict(
                id=dict(type="str", required=True),
                host=dict(type="str"),
                port=dict(type="int", default=3080),
                protocol=dict(type="str", choices=["http", "https"], default="http"),
                name=dict(type="str"),
                capacity=dict(type="int"),
                weight=dict(type="float"),
                node_types=dict(type="list", elements="str"),
                console_port_range=dict(type="str"),
                vnc_port_range=dict(type="str"),
            )),
            compute_placement=dict(type="dict", options={
                "per": dict(type="str", choices=["clone", "node"], default="clone"),
                "policy": dict(type="str", choices=["round_robin", "even", "concentrated", "weighted"], default="even"),
                "from": dict(type="list", elements="str", default=["local"]),
            }),
        ),
        supports_check_mode=True,
    )
    zfs = None
    if module.params["clone"]:
        path = module.get_bin_path("zfs")
        if not path:
            module.fail_json(msg="clone needs the zfs command, which was not found in PATH or the sbin directories on "
                                 "this host: install OpenZFS (zfsutils-linux) or zfs-fuse, or run the task on the host "
                                 "that has the pool")
        zfs = ZfsCli(path)
    try:
        result = run_reset(module.params, check_mode=module.check_mode, zfs=zfs)
    except Gns3ProjectError as error:
        fail_with(module, error)
    else:
        exit_with(module, result)


if __name__ == "__main__":
    main()
