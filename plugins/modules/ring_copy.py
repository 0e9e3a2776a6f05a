#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ring_copy
short_description: Copy disk images and archives from one node to many through a verified, fault-tolerant ring
version_added: 0.1.0
description:
  - One end of a ring duplication session, as dolly, dolly+ and Kascade do it. The source (O(mode=send)) streams
    its items through a pipelined chain of receivers (O(mode=receive)); each receiver writes its own targets and
    forwards every byte to the next live node of its O(chain).
  - Items are dolly+'s iofiles. A raw file, partition or disk is written to a file or block device. An archive
    (tar, tar.gz, tar.zst, cpio) is unpacked into a directory, through a temporary directory beside it that
    replaces the directory only once the whole archive arrived with the source's digest. The source only names
    items; each receiver decides where they go, and relays the items it has no target for.
  - Fast. The source sends with sendfile(2) and skips holes (SEEK_DATA/SEEK_HOLE) and zero chunks, which stay
    holes in file targets. A raw item holding an ext2/3/4 or FAT file system sends only the blocks the file system
    uses, read from its allocation bitmaps or FAT (O(filesystem_aware)). A writer thread per receiver keeps the disk off the network path and
    writes with O_DIRECT (O(direct)). O(compress) puts zlib or zstd on the wire for slow links.
  - Verified. Every chunk carries its checksum (xxh3 when the python xxhash package is installed, else CRC-32),
    checked before it is written. Each receiver reports the digest of what it wrote, and a node whose digest
    differs from the source's is failed. A receiver never reports success for partial data.
  - Fault tolerant. A receiver that dies, or neither takes data nor acknowledges it for O(timeout) seconds, is
    bypassed. Its upstream connects to the next live node, which resumes from its own position, replayed from
    the upstream's buffer (O(replay_buffer)), older data fetched from the source. The source's result lists every
    node as ok or failed. A later run of the same source items resumes each raw target from its last durable,
    verified offset, and skips the items a receiver already holds.
  - Secure. Each session has a key. A receiver accepts only an upstream that proves it knows the key (HMAC-SHA256
    challenge, both ways) and only frames carrying its session's id, so a stray or hostile connection writes
    nothing and parallel sessions on other ports never mix. A block device that is mounted, has a mounted
    partition, is swap, is held by LVM/md/dm or is opened exclusively is refused unless O(force=true).
  - Progress (bytes, rate, ETA per node) reaches the source in acknowledgements and is written to
    O(progress_file) every second; the role labfarm.massclone.disk_ring shows it while the session runs.
  - Start the receivers first, in the background (C(async) with C(poll=0)), then the source. Each module call
    runs until the session ends.
author:
  - labfarm.massclone contributors (!UNKNOWN)
requirements:
  - Linux, Python 3.6 or later on every node.
  - Optional on every node, the python packages C(xxhash) (fast chunk checksums) and C(zstandard) (O(compress=zstd)).
  - On receivers of archives, C(tar) (and C(zstd) for tar.zst) or C(cpio).
extends_documentation_fragment:
  - labfarm.massclone.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Validates the parameters, the items and the targets (a block device in use is refused) and returns what
        would be copied; nothing listens, connects or writes.
      - Check mode cannot tell what a session would change on the other nodes, so it reports changed.
  diff_mode:
    support: none
    details: Nothing to compare before the copy; the result lists what each node wrote.
  idempotent:
    support: full
    details:
      - A rerun of a finished session with the same source items writes nothing and reports C(changed=false) on
        every node. Each receiver records in O(state_dir) what it wrote and verified; an item it holds complete
        is skipped (its digest is still compared with the source's), unless its target changed since (a file's
        size or modification time, an archive directory's modification time; a block device is trusted).
      - The session still runs, so every node must take part; an item whose source changed (path, size,
        modification time or inode) is copied again, and a rerun of an interrupted session resumes each raw
        target from its last durable, verified offset. A new O(state_dir) forgets all of this.
options:
  mode:
    description: C(send) on the source (golden node), C(receive) on each receiver.
    type: str
    choices: [send, receive]
    required: true
  session:
    description:
      - The session's name, the same on every node. Its hash is in every frame, so two sessions never mix.
    type: str
    required: true
  key:
    description:
      - The session's secret, at least 16 characters, the same on every node. The role makes a random one per
        session.
    type: str
    required: true
  listen:
    description:
      - C(address:port) to listen on. Required for O(mode=receive), where the upstream node connects.
      - With O(mode=send), where the source serves the ranges a relay needs to catch up a node after a bypass.
        It defaults to all addresses and a free port.
    type: str
  chain:
    description:
      - The C(address:port) of the downstream nodes, in ring order. The source lists every receiver. A receiver
        lists the receivers after it, so it can skip a dead successor. The last receiver lists none.
    type: list
    elements: str
    default: []
  items:
    description:
      - With O(mode=send), what the session copies, in order. Each needs O(items[].name) and O(items[].src).
      - With O(mode=receive), where this node writes items. Each needs O(items[].name) and O(items[].dest). An
        item of the session that is not listed here is only relayed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The item's name, the same on the source and the receivers.
        type: str
        required: true
      src:
        description: On the source, the file or block device to send, or the archive file.
        type: path
      format:
        description: On the source, C(raw) for a file, partition or disk, or the archive's format.
        type: str
        choices: [raw, tar, tar.gz, tar.zst, cpio]
        default: raw
      dest:
        description:
          - On a receiver, the target. For a raw item, a file (created or overwritten; holes stay holes) or a block
            device at least as large as the item. For an archive, a directory that is replaced by the archive's
            content.
        type: path
      filesystem_aware:
        description: On the source, O(filesystem_aware) for this item only. Defaults to O(filesystem_aware).
        type: bool
        version_added: 0.2.0
  timeout:
    description:
      - Seconds a node may neither take data nor acknowledge it before it is bypassed. Also how long a receiver
        whose upstream is gone waits for another upstream before it fails.
    type: float
    default: 30
  wait_timeout:
    description: With O(mode=receive), seconds to wait for the first upstream to connect.
    type: float
    default: 600
  compress:
    description: With O(mode=send), compression on the wire. C(zstd) needs the python package zstandard on every node.
    type: str
    choices: [none, zlib, zstd]
    default: none
  checksum:
    description:
      - With O(mode=send), the chunk checksum. C(auto) is C(xxh3) when the python package xxhash is installed on
        the source, else C(crc32). A receiver without xxhash refuses an xxh3 session with a message that says so.
    type: str
    choices: [auto, xxh3, crc32]
    default: auto
  chunk_size:
    description: With O(mode=send), bytes per chunk, a multiple of 4096 from 64 KiB to 64 MiB.
    type: int
    default: 4194304
  sparse:
    description: With O(mode=send), send holes and all-zero chunks as lengths only.
    type: bool
    default: true
  rate_limit:
    description:
      - With O(mode=send), the most bytes per second the source sends, on average (Frisbee's bandwidth limit,
        udpcast's C(--max-bitrate)). Every node forwards what it gets, so this holds the whole ring to that rate
        and leaves the rest of the network, and the disks of the source, to other work.
      - C(0) for no limit, a number of bytes, or a number with a K, M, G or T suffix (binary multiples, so C(40M) is
        40 MiB/s). Holes and unused blocks cost nothing.
      - A rate so low that one chunk takes more than half of O(timeout) is refused, since the next node would
        take the link for dead.
    type: str
    default: "0"
    version_added: 0.2.0
  filesystem_aware:
    description:
      - With O(mode=send), a raw item that holds an ext2/3/4 or FAT (12, 16, 32) file system sends only the blocks
        the file system uses, read from its block bitmaps or its FAT; the rest crosses the wire as unused holes.
        A whole disk with an MBR or GPT partition table is read partition by partition; what lies outside the
        partitions (the table, a boot loader) and the partitions without such a file system are sent whole.
        Unused space stays a hole in a file target and is left as it was on a block device target. The copy holds
        the same file system, not the old bytes of deleted files.
      - Detected per item. An item with no such file system, or one whose bitmaps do not look sane (a bad magic or
        checksum, larger than the item, a journal that needs recovery, features this reader does not know), is
        sent whole, and RV(filesystems) says why.
      - The file system must not be mounted read-write on the source while it is sent.
    type: bool
    default: true
    version_added: 0.2.0
  force:
    description: With O(mode=receive), write a block device even when it is mounted or in use.
    type: bool
    default: false
  direct:
    description:
      - With O(mode=receive), write raw targets with O_DIRECT, so the page cache neither slows the writes
        nor grows with the image. On this project's test machine it made a ring to real files 2.3 times faster.
      - A file system that does not take O_DIRECT gets buffered writes instead.
    type: bool
    default: true
  replay_buffer:
    description:
      - With O(mode=receive), MiB of recent chunks kept to catch up a successor after a bypass. This is the memory
        the receiver uses; older data is fetched from the source.
    type: int
    default: 256
  state_dir:
    description: With O(mode=receive), where the receiver records durable, verified offsets for resuming.
    type: path
    default: /var/tmp/labfarm-ring
  node_name:
    description: The node's name in reports and progress. Defaults to O(listen) (the source's is C(source)).
    type: str
  progress_file:
    description: A JSON file rewritten every second with bytes, rate and ETA per node.
    type: path
  allow_failures:
    description:
      - With O(mode=send), do not fail the task when some receivers failed; the result still lists them in
        RV(failed_nodes). The task fails anyway when no receiver succeeded.
    type: bool
    default: false
notes:
  - Receivers and the source must be able to reach each other on the given addresses; the protocol is plain TCP,
    authenticated but not encrypted.
  - Resume trusts a block device source to be unchanged between runs; a file source is identified by its path,
    size and modification time.
seealso:
  - module: labfarm.massclone.netboot_config
"""

EXAMPLES = r"""
- name: Receivers first, in the background
  labfarm.massclone.ring_copy:
    mode: receive
    session: exam-2026-11
    key: "{{ ring_key }}"
    listen: "{{ ansible_host }}:7010"
    chain: "{{ downstream_addresses }}"
    items:
      - name: disk
        dest: /dev/sda
      - name: home
        dest: /srv/home
  async: 3600
  poll: 0
  register: receiver

- name: Then the source streams the golden disk and an archive of /home
  labfarm.massclone.ring_copy:
    mode: send
    session: exam-2026-11
    key: "{{ ring_key }}"
    listen: "{{ ansible_host }}:7009"
    chain: "{{ receiver_addresses }}"
    items:
      - name: disk
        src: /dev/sda
      - name: home
        src: /var/cache/golden/home.tar.zst
        format: tar.zst
    progress_file: /run/ring-exam.json
  register: ring

- name: Show the nodes that failed
  ansible.builtin.debug:
    var: ring.failed_nodes
"""

RETURN = r"""
ok_nodes:
  description: With O(mode=send), the nodes (names or addresses) whose every item arrived with the source's digest.
  returned: mode is send
  type: list
  elements: str
  sample: [10.0.0.11:7010, 10.0.0.13:7010]
failed_nodes:
  description: With O(mode=send), the nodes that did not, each also in RV(nodes) with its error.
  returned: mode is send
  type: list
  elements: str
  sample: [10.0.0.12:7010]
nodes:
  description: With O(mode=send), one entry per node of the chain, in ring order.
  returned: mode is send
  type: list
  elements: dict
  sample: [{node: 10.0.0.11:7010, ok: true, error: null,
            items: {disk: {ok: true, digest: 4f1c..., bytes_written: 8589934592, dest: /dev/sda, error: null}}}]
  contains:
    node:
      description: The node, as given in O(chain).
      type: str
      sample: 10.0.0.11:7010
    ok:
      description: Whether every item arrived on this node with the source's digest.
      type: bool
      sample: true
    error:
      description: Why this node failed, or null.
      type: str
      sample: null
    items:
      description: Per item name, what this node reported (as RV(items) of its own O(mode=receive) task).
      type: dict
      sample: {disk: {ok: true, digest: 4f1c..., bytes_written: 8589934592, dest: /dev/sda, error: null}}
digests:
  description: With O(mode=send), the source's digest of each item (SHA-256 over the chunk checksums).
  returned: mode is send
  type: dict
  sample: {disk: 4f1c...}
seconds:
  description: With O(mode=send), the session's duration.
  returned: mode is send
  type: float
  sample: 412.7
bytes:
  description: With O(mode=send), the total size of the items.
  returned: mode is send
  type: int
  sample: 8589934592
sent_bytes:
  description:
    - With O(mode=send), the bytes of data the source sent in this session (before compression, resent and fetched
      ranges included). Holes, zero chunks and the space a file system does not use are not in it.
  returned: mode is send
  type: int
  sample: 1073741824
  version_added: 0.2.0
filesystems:
  description:
    - With O(mode=send), per item, the file system found and the bytes it uses (O(filesystem_aware)), or why the item
      is sent whole (C(filesystem) null and C(reason)).
  returned: mode is send
  type: dict
  sample: {root: {filesystem: ext4, reason: null, block_size: 4096, blocks: 2621440, groups: 80, used_bytes: 1073741824},
           disk: {filesystem: partitions, reason: null, table: gpt, used_bytes: 1076887552,
                  partitions: [{number: 1, start: 1048576, size: 10737418240, filesystem: ext4, used_bytes: 1073741824}]},
           home: {filesystem: null, reason: an archive is sent whole}}
  version_added: 0.2.0
node:
  description: With O(mode=receive), this node's name.
  returned: mode is receive
  type: str
  sample: node12
items:
  description: With O(mode=receive), per item this node writes, its outcome.
  returned: mode is receive
  type: dict
  sample: {disk: {ok: false, dest: /dev/sda, size: 8589934592, verified_offset: 4294967296,
                  bytes_written: 4294967296, digest: null, error: null}}
error:
  description: Why this node failed, or null.
  returned: always
  type: str
  sample: null
rejected:
  description: With O(mode=receive), connections refused (wrong key, other session, not a ring frame).
  returned: mode is receive
  type: list
  elements: str
  sample: ["10.0.0.99:40312 does not know the session key", "10.0.0.98:51022 sent something that is not a ring frame"]
bypassed:
  description: Downstream nodes this node bypassed, and why.
  returned: always
  type: dict
  sample: {"10.0.0.12:7010": "unreachable: [Errno 111] Connection refused"}
log:
  description: The node's event log (connections, bypasses, fetches), the last 200 lines.
  returned: always
  type: list
  elements: str
  sample: ["1767225600.125 node11: downstream is 10.0.0.12:7010, from position [0, 0]"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.node import run_node
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.options import ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run_node(module.params, check_mode=module.check_mode)
    except (RingError, ResultError) as error:
        fail_with(module, error)
    exit_with(module, result)


if __name__ == "__main__":
    main()
