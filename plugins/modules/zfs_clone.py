#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zfs_clone
short_description: Make or destroy a batch of ZFS clones of one snapshot, all or nothing
version_added: 0.1.0
description:
  - Clones one ZFS snapshot into many datasets in one call, for example one clone of a GNS3
    project per exam participant, named from a range such as C(tank/exam/C[01-40]).
  - Idempotent. A clone that already exists with the same origin is left as it is (its properties
    are not changed). An existing dataset that is not a clone of the snapshot is an error that names
    it and its origin, raised before anything is created or destroyed.
  - All or nothing. When a clone fails in the middle of a batch, the clones this call created (and
    the parent datasets and the snapshot it created) are destroyed again, unless O(rollback=false),
    in which case the result lists those that exist in RV(created).
  - Few zfs processes per call - one listing of the datasets under the deepest common ancestor of the
    source and the clones, one listing of the source's snapshots, then one C(zfs clone) per clone
    (C(zfs unmount) and C(zfs destroy) per clone with O(state=absent)).
  - Uses only the zfs command line common to OpenZFS and zfs-fuse.
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - zfs or zfs-fuse CLI (the C(zfs) command, run as a user allowed to create and destroy datasets)
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: full
    details:
      - Plans the batch with the same listings and checks as a real run and reports what would be created or destroyed;
        changes nothing.
  diff_mode:
    support: full
    details:
      - Reports the clones of the snapshot among O(clones) before and after, as C(before.clones) and C(after.clones).
  idempotent:
    support: full
    details:
      - A clone that already exists with the same origin is left as it is, so a second run creates nothing and
        reports no change (with O(state=absent), clones already gone are reported absent).
options:
  snapshot:
    description:
      - The snapshot to clone, C(dataset@name), for example C(tank/projects/exam@clonesource_1).
      - Mutually exclusive with O(source) and O(snapshot_name).
    type: str
  source:
    description:
      - The dataset whose snapshot O(snapshot_name) is cloned. Use with O(snapshot_name), instead of O(snapshot).
    type: str
  snapshot_name:
    description:
      - The name of the snapshot of O(source), the part after C(@).
    type: str
  create_snapshot:
    description:
      - Create the snapshot if it does not exist, with C(zfs snapshot -r), so that the source's child
        datasets get it too. An existing snapshot is reused as it is.
      - A snapshot created by a call that then fails is destroyed again by the rollback.
      - Ignored with O(state=absent).
    type: bool
    default: false
  clones:
    description:
      - The clones' dataset names. Either a list of names, taken literally, or one string that is a
        range expression expanded by the collection's noderange grammar, for example
        C(tank/exam/C[01-40]) or C(tank/exam/C[01-40],-tank/exam/C13).
      - They must be in the snapshot's pool and outside the source's dataset tree. Missing parent
        datasets are created (C(zfs clone -p)).
      - Duplicates are dropped, the first occurrence kept; at most 100000 names.
      - An empty list (or blank string) is a batch of nothing - the module runs no zfs command and
        reports no change.
    type: raw
    required: true
  properties:
    description:
      - ZFS properties set on every clone when it is created (C(zfs clone -o key=value)). Booleans
        become C(on) and C(off). Clones that already exist are not changed.
      - A C(mountpoint) other than C(none) or C(legacy) is refused when more than one clone is created;
        set the mountpoint of the clones' parent instead.
    type: dict
    default: {}
  recursive:
    description:
      - Also clone the source's child datasets, keeping the tree - with source C(P) and children
        C(P/a) and C(P/b), clone C(C) gets C(C), C(C/a) and C(C/b) from C(P@s), C(P/a@s) and C(P/b@s).
      - With O(state=absent), destroy the clones' children that are clones of the matching children
        of the source.
    type: bool
    default: false
  state:
    description:
      - V(present) creates the clones that are missing.
      - V(absent) destroys the listed datasets that are clones of the snapshot (with O(recursive), and
        their children that are clones of the source's children), deepest first. It never destroys the
        source or the snapshot. A listed dataset with another origin is an error; a missing one is fine.
    type: str
    choices: [present, absent]
    default: present
  rollback:
    description:
      - When a clone fails in the middle of a batch, destroy what this call created.
      - With V(false) the clones created before the failure are kept and listed in RV(created); a rerun
        after the cause is fixed creates the rest. The clone that failed is always removed if it was
        left half made (created but not mounted).
    type: bool
    default: true
  retries:
    description:
      - How many times an unmount, destroy or snapshot that fails with C(dataset is busy) is retried,
        with exponential back-off from 0.2 s to 2 s. From 0 to 20.
    type: int
    default: 6
  lock_timeout:
    description:
      - How many seconds to wait for another batch on the same host (see the notes) before failing with no zfs
        command run. The error names the process that holds the lock and since when. V(0) does not wait.
    type: int
    version_added: 0.2.0
    default: 300
notes:
  - Calls on one host run one at a time (a lock in C(/run/lock)), so that two batches never interleave
    their clones and rollbacks; zfs-fuse can also hang when two C(zfs clone) run at once. A batch waits for
    the lock at most O(lock_timeout) seconds, so a hung zfs does not block every later job.
  - The zfs-fuse daemon reports C(dataset is busy) for datasets that were just mounted; the module
    unmounts deepest first before it destroys, and retries.
  - A clone's C(mountpoint) is inherited from its parent dataset; the clone's directory must be
    missing or empty, or the clone is made but cannot be mounted, which fails the batch.
seealso:
  - name: zfs clone
    description: The OpenZFS manual page of C(zfs clone).
    link: https://openzfs.github.io/openzfs-docs/man/master/8/zfs-clone.8.html
"""

EXAMPLES = r"""
- name: One clone of the exam project per participant
  labfarm.massclone.zfs_clone:
    snapshot: tank/gns3/projects/exam@clonesource_1
    clones: tank/gns3/projects/Cexam_[01-40]
    properties:
      com.labfarm:exam: "2026-06"

- name: Snapshot the project and its child datasets, then clone the whole tree
  labfarm.massclone.zfs_clone:
    source: tank/gns3/projects/exam
    snapshot_name: clonesource_2
    create_snapshot: true
    recursive: true
    clones:
      - tank/gns3/projects/Cteam_red
      - tank/gns3/projects/Cteam_blue
  register: team_clones

- name: Show where the clones are mounted
  ansible.builtin.debug:
    msg: "{{ team_clones.clones | map(attribute='mountpoint') | list }}"

- name: Keep what was made if a clone fails (a rerun makes the rest)
  labfarm.massclone.zfs_clone:
    snapshot: tank/gns3/projects/exam@clonesource_1
    clones: tank/gns3/projects/Cexam_[41-80]
    rollback: false

- name: Destroy the clones after the exam (never the source or the snapshot)
  labfarm.massclone.zfs_clone:
    snapshot: tank/gns3/projects/exam@clonesource_1
    clones: tank/gns3/projects/Cexam_[01-80]
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot the clones are made from.
  returned: always
  type: str
  sample: tank/gns3/projects/exam@clonesource_1
snapshot_created:
  description: Whether this call created the snapshot (O(create_snapshot)); in check mode, whether it would.
  returned: always
  type: bool
  sample: false
created:
  description:
    - The datasets this call created (in check mode, would create), parents first.
    - On a failure with O(rollback=false), the clones that were created and still exist.
  returned: always
  type: list
  elements: str
  sample: [tank/gns3/projects/Cexam_01, tank/gns3/projects/Cexam_02]
existing:
  description: The clones that already existed with the snapshot as origin and were left as they are.
  returned: success
  type: list
  elements: str
  sample: []
destroyed:
  description: The clones destroyed (in check mode, that would be destroyed), deepest first.
  returned: always
  type: list
  elements: str
  sample: []
parents_created:
  description: Missing parent datasets that C(zfs clone -p) creates (in check mode, would create).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [tank/gns3/projects]
clones:
  description: One entry per dataset of the batch.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The dataset.
      type: str
      sample: tank/gns3/projects/Cexam_01
    origin:
      description: The snapshot it is (or would be) a clone of.
      type: str
      sample: tank/gns3/projects/exam@clonesource_1
    mountpoint:
      description: Where it is mounted, as zfs reports it; null when unknown (check mode, volumes, destroyed).
      type: str
      sample: /tank/gns3/projects/Cexam_01
    state:
      description:
        - V(created), V(existing), V(destroyed) or V(absent) (state=absent, was not there).
        - After a failure, V(failed) for the clone that failed, V(rolled_back), V(created) (kept with
          O(rollback=false)) or V(not_created).
      type: str
      sample: created
commands:
  description: How many zfs processes the call ran.
  returned: always
  type: int
  sample: 12
failed_clone:
  description: The clone whose creation failed.
  returned: failure in the middle of a batch
  type: str
  sample: tank/gns3/projects/Cexam_17
rolled_back:
  description: What the rollback destroyed, deepest first (clones, then parents and the snapshot this call created).
  returned: failure in the middle of a batch
  type: list
  elements: str
  sample: [tank/gns3/projects/Cexam_16, tank/gns3/projects/Cexam_15]
stderr:
  description: The error output of the zfs command that failed.
  returned: failure of a zfs command
  type: str
  sample: "cannot mount '/tank/gns3/projects/Cexam_17': directory is not empty"
conflicts:
  description: The existing datasets that made the module refuse the batch, each with its origin.
  returned: when existing datasets conflict
  type: list
  elements: str
  sample: ["tank/gns3/projects/Cexam_03 (exists and is not a clone) where a clone of tank/gns3/projects/exam@clonesource_1 should be"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.locks import DEFAULT_TIMEOUT
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.batch import failure_fields, run
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.cli import ZfsCli
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.errors import ZfsCloneError, ZfsError
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.lock import host_lock
from ansible_collections.labfarm.massclone.plugins.module_utils._zfs.options import DEFAULT_RETRIES, check_lock_timeout


def main():
    module = AnsibleModule(
        argument_spec=dict(
            snapshot=dict(type="str"),
            source=dict(type="str"),
            snapshot_name=dict(type="str"),
            create_snapshot=dict(type="bool", default=False),
            clones=dict(type="raw", required=True),
            properties=dict(type="dict", default={}),
            recursive=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            rollback=dict(type="bool", default=True),
            retries=dict(type="int", default=DEFAULT_RETRIES),
            lock_timeout=dict(type="int", default=DEFAULT_TIMEOUT),
        ),
        mutually_exclusive=[("snapshot", "source"), ("snapshot", "snapshot_name")],
        required_one_of=[("snapshot", "source")],
        required_together=[("source", "snapshot_name")],
        supports_check_mode=True,
    )
    params = module.params
    zfs = module.get_bin_path("zfs")
    if not zfs:
        fail_with(module, ZfsError("the zfs command was not found in PATH or the sbin directories on this host; install "
                                   "OpenZFS (zfsutils-linux) or zfs-fuse, or run the task on the host that has the pool"))
    try:
        cli = ZfsCli(zfs, retries=params["retries"])
        with host_lock(check_lock_timeout(params["lock_timeout"])):
            result = run(
                cli,
                params["clones"],
                snapshot=params["snapshot"],
                source=params["source"],
                snapshot_name=params["snapshot_name"],
                create_snapshot=params["create_snapshot"],
                properties=params["properties"],
                recursive=params["recursive"],
                state=params["state"],
                rollback=params["rollback"],
                check_mode=module.check_mode,
            )
    except ZfsCloneError as error:
        fail_with(module, error, **failure_fields(error.result))
    except ZfsError as error:
        fail_with(module, error)
    else:
        exit_with(module, result)


if __name__ == "__main__":
    main()
