# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of the ring: the segment grid, digests, addresses, frame headers, sparse maps."""

import os

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ring import wire as wire
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.items import (
    KIND_DATA, KIND_HOLE, SourceItem, data_extents, grid_segments, item_digest)

MiB = 1 << 20


@pytest.mark.parametrize("extents,size,chunk,start,want", [
    ([(0, 10)], 10, 4, 0, [(0, 4, True), (4, 4, True), (8, 2, True)]),
    ([], 10, 4, 0, [(0, 4, False), (4, 4, False), (8, 2, False)]),
    ([(2, 6)], 10, 4, 0, [(0, 2, False), (2, 2, True), (4, 2, True), (6, 2, False), (8, 2, False)]),
    ([(2, 6)], 10, 4, 4, [(4, 2, True), (6, 2, False), (8, 2, False)]),
    ([(0, 3), (5, 10)], 10, 4, 0, [(0, 3, True), (3, 1, False), (4, 1, False), (5, 3, True), (8, 2, True)]),
    ([(0, 10)], 10, 4, 10, []),
    ([(0, 4)], 4, 4, 0, [(0, 4, True)]),
])
def test_grid_segments_cut_on_the_grid_and_at_data_hole_edges(extents, size, chunk, start, want):
    got = list(grid_segments(extents, size, chunk, start))
    assert got == want
    # a resume from any segment boundary continues with exactly the same segments
    for cut in got:
        assert list(grid_segments(extents, size, chunk, cut[0])) == [s for s in want if s[0] >= cut[0]]


def test_item_digest_depends_on_every_field_and_the_order():
    records = [(0, 4, KIND_DATA, 7), (4, 4, KIND_HOLE, 0)]
    base = item_digest(records)
    assert base == item_digest(list(records))
    for changed in ([(0, 4, KIND_DATA, 8), records[1]], [(0, 4, KIND_HOLE, 7), records[1]], [records[1], records[0]],
                    [(0, 5, KIND_DATA, 7), records[1]], records[:1]):
        assert item_digest(changed) != base


def test_sparse_file_extents_and_zero_chunks_become_holes(tmp_path):
    path = tmp_path / "s.img"
    with open(str(path), "wb") as handle:
        handle.write(os.urandom(MiB))
        handle.seek(8 * MiB)
        handle.write(bytes(MiB))          # allocated zeros
        handle.truncate(16 * MiB)
    fd = os.open(str(path), os.O_RDONLY)
    try:
        extents = data_extents(fd, 16 * MiB)
    finally:
        os.close(fd)
    assert extents[0][0] == 0 and sum(e - s for s, e in extents) < 4 * MiB
    item = SourceItem(0, {"name": "s", "src": str(path)}, MiB, "crc32", wire.checksum_function("crc32"), True)
    try:
        kinds = [(off, kind) for off, length, kind, dummy in item.segments()]
        assert kinds[0] == (0, KIND_DATA)
        assert all(kind == KIND_HOLE for off, kind in kinds[1:]), kinds
        assert sum(seg[1] for seg in item.segments()) == 16 * MiB
        assert item.digest() == item.digest()
    finally:
        item.close()


@pytest.mark.parametrize("text,want", [("10.0.0.1:7010", ("10.0.0.1", 7010)), ("[fd00::1]:7", ("fd00::1", 7)),
                                       ("host.example:0", ("host.example", 0))])
def test_parse_address(text, want):
    assert wire.parse_address(text) == want


@pytest.mark.parametrize("text", ["10.0.0.1", "10.0.0.1:x", ":7010", "10.0.0.1:70000", None, 7010])
def test_parse_address_names_the_bad_value(text):
    with pytest.raises(wire.RingError, match=r"listen .* is not host:port \(for example 10.0.0.1:7010\)"):
        wire.parse_address(text)


def test_headers_carry_the_session_id_and_round_trip():
    sid = wire.session_bytes("exam")
    assert sid == wire.session_bytes("exam") and sid != wire.session_bytes("exam2") and len(sid) == 16
    header = wire.pack_header(wire.DATA, sid, 3, 1 << 40, 0xDEADBEEF, 100, 200, wire.FLAG_ZLIB)
    assert len(header) == wire.HEADER_SIZE == 48
    fields = wire.HEADER.unpack(header)
    assert fields == (wire.MAGIC, wire.DATA, wire.FLAG_ZLIB, 3, sid, 1 << 40, 0xDEADBEEF, 100, 200)


def test_compression_round_trips_and_checks_the_length():
    data = b"abc" * 100000
    for name, flag in (("zlib", wire.FLAG_ZLIB), ("zstd", wire.FLAG_ZSTD)):
        packed = wire.compressor(name)(data)
        assert len(packed) < len(data) // 10
        assert wire.decompress(flag, packed, len(data)) == data
        with pytest.raises(wire.LinkLost, match="unpacked to"):
            wire.decompress(flag, packed, len(data) + 1)
    assert wire.compressor("none") is None


def test_short_keys_and_unknown_checksums_are_refused():
    with pytest.raises(wire.RingError, match="at least 16 characters"):
        wire.key_bytes("short")
    with pytest.raises(wire.RingError, match="unknown checksum 'md5'"):
        wire.checksum_function("md5")
