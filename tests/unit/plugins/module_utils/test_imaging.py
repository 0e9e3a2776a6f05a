# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The imaging system's pure parts (_imaging): the newc writer, the gzip header, the cache key, the apt
metadata parsing and library closure, kernel module order, ELF reading, the tree, the options, .deb reading."""

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging import apt, cache, control, cpio, deb, elf, kmod, options
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.tree import Tree, normalise

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnownTestKeyOnlyForUnitTests0000000000000 test@controller"


# --- cpio (newc) ---

def test_newc_header_is_the_kernel_format():
    head = cpio.header("init", stat.S_IFREG | 0o755, size=5, ino=1)
    assert head[:6] == b"070701"
    assert head[6:14] == b"00000001"                 # inode
    assert head[14:22] == b"%08X" % (stat.S_IFREG | 0o755)
    assert head[54:62] == b"00000005"                # file size
    assert head[94:102] == b"00000005"               # name size, NUL included
    assert head[110:115] == b"init\0" and len(head) % 4 == 0


def test_newc_round_trip_in_the_order_given_with_devices_and_links():
    tree = Tree(merged_usr=False)
    tree.mkdir("etc", 0o755)
    tree.file("etc/hostname", b"node\n")
    tree.symlink("init", "sbin/init")
    tree.chardev("dev/console", 5, 1)
    archive = cpio.newc_bytes(tree.sorted_entries())
    entries = cpio.read_newc(archive)
    assert [name for name, _m, _s, _d in entries] == ["dev", "dev/console", "etc", "etc/hostname", "init"]
    by_name = dict((name, (mode, body)) for name, mode, _s, body in entries)
    assert by_name["etc/hostname"] == (stat.S_IFREG | 0o644, b"node\n")
    assert by_name["init"] == (stat.S_IFLNK | 0o777, b"sbin/init")
    assert stat.S_ISCHR(by_name["dev/console"][0])
    assert archive.endswith(b"TRAILER!!!\0\0\0\0") or b"TRAILER!!!" in archive[-128:]
    # rdev 5:1 in the console's header
    start = archive.index(b"dev/console\0") - 110
    assert archive[start + 78:start + 94] == b"00000005" + b"00000001"


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6), st.binary(max_size=40), min_size=1, max_size=12))
def test_newc_is_the_same_bytes_whatever_the_order_files_were_added(files):
    first, second = Tree(merged_usr=False), Tree(merged_usr=False)
    for name in sorted(files):
        first.file("d/" + name, files[name])
    for name in sorted(files, reverse=True):
        second.file("d/" + name, files[name])
    one = cpio.newc_bytes(first.sorted_entries())
    assert one == cpio.newc_bytes(second.sorted_entries())
    assert dict((n, b) for n, _m, _s, b in cpio.read_newc(one) if n != "d") == dict(("d/" + k, v) for k, v in files.items())


def test_gzip_has_a_fixed_header_and_decompresses():
    data = b"x" * 1000
    one, two = cpio.compress(data), cpio.compress(data)
    assert one == two
    assert one[4:8] == b"\0\0\0\0"                   # mtime 0
    assert not one[3] & 0x08                         # no file name
    assert gzip.decompress(one) == data
    assert cpio.compress(data, "none") == data
    with pytest.raises(ValueError, match="compression"):
        cpio.compress(data, "lz4")


# --- cache key ---

def _package(name, version="1", sha="a"):
    return control.Package(name, version, "amd64", sha)


def test_cache_key_depends_on_every_input_and_not_on_package_order():
    packages = [_package("a"), _package("b")]
    kernel = _package("linux-image-6.1.0-1-amd64")
    base = cache.build_key(packages, kernel, [KEY], "init", {"modules": ["ext4"]})
    assert base == cache.build_key(list(reversed(packages)), kernel, [KEY + "\n"], "init", {"modules": ["ext4"]})
    assert len(base) == 64
    changed = [
        cache.build_key([_package("a", "2"), _package("b")], kernel, [KEY], "init", {"modules": ["ext4"]}),
        cache.build_key([_package("a", sha="z"), _package("b")], kernel, [KEY], "init", {"modules": ["ext4"]}),
        cache.build_key(packages, _package("linux-image-6.1.0-2-amd64"), [KEY], "init", {"modules": ["ext4"]}),
        cache.build_key(packages, kernel, [KEY, KEY], "init", {"modules": ["ext4"]}),
        cache.build_key(packages, kernel, [KEY], "init2", {"modules": ["ext4"]}),
        cache.build_key(packages, kernel, [KEY], "init", {"modules": ["vfat"]}),
    ]
    assert len(set(changed + [base])) == 7


def test_cache_dir_is_under_labfarm_cache_or_home():
    assert cache.default_cache_dir({"LABFARM_CACHE": "/var/cache/lf"}) == "/var/cache/lf/imaging"
    assert cache.default_cache_dir({}, home="/home/u") == "/home/u/.cache/labfarm/imaging"


# --- apt metadata ---

SHOW = """Package: openssh-server
Version: 1:9.2p1-2+deb12u10
Architecture: amd64
Pre-Depends: init-system-helpers (>= 1.54~)
Depends: adduser, libpam-modules, openssh-client (= 1:9.2p1-2+deb12u10), libc6 (>= 2.36),
 libssl3 (>= 3.0.19) | libssl-dev, zlib1g (>= 1:1.1.4), libwrap0:amd64 (>= 7.6-4~)
Filename: pool/main/o/openssh/openssh-server_9.2p1-2+deb12u10_amd64.deb
Size: 456
SHA256: 0123
Description: secure shell (SSH) server
 a continuation line

Package: libc6
Version: 2.36-9+deb12u13
Architecture: amd64
Depends: libgcc-s1
SHA256: 4567

Package: libssl3
Version: 3.0.19-1~deb12u1
Architecture: amd64
Depends: libc6 (>= 2.34)

Package: zlib1g
Version: 1:1.2.13.dfsg-1
Architecture: amd64
Depends: libc6 (>= 2.14)

Package: libwrap0
Version: 7.6.q-32
Architecture: amd64
Depends: libc6 (>= 2.33), libnsl2 [linux-any]

Package: libnsl2
Version: 1.3.0-2
Architecture: amd64
Depends: libc6

Package: libgcc-s1
Version: 12.2.0-14
Architecture: amd64
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)

Package: linux-image-amd64
Version: 6.1.192-3
Architecture: amd64
Depends: linux-image-6.1.0-57-amd64 (= 6.1.192-3)

Package: linux-image-6.1.0-57-amd64
Version: 6.1.192-3
Architecture: amd64
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
"""


def test_parse_stanzas_and_depends():
    stanzas = control.parse_stanzas(SHOW)
    assert [s["Package"] for s in stanzas][:3] == ["openssh-server", "libc6", "libssl3"]
    assert stanzas[0]["Description"] == "secure shell (SSH) server\na continuation line"
    package = control.package_of(stanzas[0])
    assert package.version == "1:9.2p1-2+deb12u10" and package.sha256 == "0123" and package.size == 456
    assert package.depends == ("init-system-helpers", "adduser", "libpam-modules", "openssh-client", "libc6",
                               "libssl3", "zlib1g", "libwrap0")
    assert package.deb_name() == "openssh-server_1%3a9.2p1-2+deb12u10_amd64.deb"
    assert control.parse_depends("a (>= 1) | b, c:any, d [amd64], , e <!nocheck>") == ["a", "c", "d", "e"]


def _show(calls):
    stanzas = control.parse_stanzas(SHOW)

    def show(specs):
        calls.append(list(specs))
        names = set(spec.split("=")[0] for spec in specs)
        return [s for s in stanzas if s["Package"] in names]
    return show


def test_closure_follows_only_libraries_sorted_by_name():
    calls = []
    packages = control.closure(["openssh-server"], _show(calls))
    assert [p.name for p in packages] == ["libc6", "libgcc-s1", "libnsl2", "libssl3", "libwrap0", "openssh-server", "zlib1g"]
    assert calls[0] == ["openssh-server"] and len(calls) == 3    # one apt-cache call per level of the tree
    with pytest.raises(ValueError, match="apt knows no package nosuch"):
        control.closure(["nosuch"], _show([]))
    with pytest.raises(ValueError, match="apt knows no package libc6=9"):
        control.closure(["libc6=9"], _show([]))


def test_kernel_image_follows_the_meta_package():
    assert control.kernel_image("linux-image-amd64", _show([])).name == "linux-image-6.1.0-57-amd64"
    assert control.kernel_image("linux-image-6.1.0-57-amd64", _show([])).version == "6.1.192-3"
    with pytest.raises(ValueError, match="not a kernel image"):
        control.kernel_image("libc6", _show([]))


@pytest.mark.parametrize("spec, expected", [
    ("busybox-static", ("busybox-static", None)), ("libc6=2.36-9", ("libc6", "2.36-9")),
    ("python3.11-minimal=3.11.2-6+deb12u9", ("python3.11-minimal", "3.11.2-6+deb12u9")),
])
def test_parse_spec(spec, expected):
    assert control.parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "Busybox", "a", "x y", "libc6=", "libc6=1 2", "../etc"])
def test_parse_spec_refuses(spec):
    with pytest.raises(ValueError):
        control.parse_spec(spec)


# --- kernel modules ---

def test_load_order_dependencies_first_builtin_skipped_unknown_named():
    deps = {"ext4": ["jbd2", "mbcache", "crc16"], "jbd2": [], "mbcache": [], "crc16": [], "virtio_blk": ["virtio"],
            "virtio": ["virtio_ring"], "virtio_ring": [], "vfat": ["fat"], "fat": []}
    order, unknown = kmod.load_order(["virtio_blk", "ext4", "vfat", "af_packet", "nosuch", "ext4"], deps, {"af_packet", "fat"})
    assert order == ["virtio_ring", "virtio", "virtio_blk", "jbd2", "mbcache", "crc16", "ext4", "vfat"]
    assert unknown == ["nosuch"]
    assert kmod.module_name("kernel/drivers/virtio/virtio-pci.ko") == "virtio_pci"
    assert kmod.builtin_names("kernel/net/packet/af_packet.ko\n\nkernel/fs/fat/fat.ko\n") == {"af_packet", "fat"}


# --- ELF ---

def test_elf_needed_of_a_real_program_and_modinfo_of_nothing():
    with open("/bin/ls", "rb") as handle:
        data = handle.read()
    assert elf.is_elf(data)
    assert "libc.so.6" in elf.needed(data)
    assert elf.needed(b"#!/bin/sh\n") == []
    assert kmod.modinfo(b"not elf") == {}


# --- tree ---

def test_tree_merges_usr_and_resolves_links():
    tree = Tree()
    tree.file("bin/busybox", b"x", 0o755)
    tree.symlink("bin/sh", "busybox")
    tree.file("lib/x86_64-linux-gnu/libc.so.6", b"c")
    tree.symlink("lib64/ld.so", "/lib/x86_64-linux-gnu/libc.so.6")
    assert tree.get("/usr/bin/busybox") is tree.get("bin/busybox")
    assert tree.resolve("/bin/sh").path == "usr/bin/busybox"
    assert tree.resolve("lib64/ld.so").path == "usr/lib/x86_64-linux-gnu/libc.so.6"
    assert tree.resolve("bin/nothing") is None
    assert normalise("./root/.ssh/") == "root/.ssh"
    with pytest.raises(ValueError):
        normalise("../etc/passwd")
    assert tree.prune(["usr/lib/*"]) == 2 and tree.resolve("lib64/ld.so") is None


# --- options ---

def test_options_defaults_and_every_problem_in_one_message():
    settings_ = options.check_options({"authorized_keys": [KEY]}, {"LABFARM_CACHE": "/c"})
    assert settings_["cache_dir"] == "/c/imaging" and settings_["kernel"] == "linux-image-amd64"
    assert "python3-minimal" in settings_["packages"] and "virtio_net" in settings_["modules"]
    with pytest.raises(ValueError) as err:
        options.check_options({"authorized_keys": ["not a key"], "extra_packages": ["Bad Name"],
                               "extra_modules": ["a b"], "compression": "lz4", "cache_dir": "rel"}, {})
    text = str(err.value)
    for part in ("not an OpenSSH public key", "Bad Name", "'a b'", "compression", "absolute"):
        assert part in text
    with pytest.raises(ValueError, match="at least one public key"):
        options.check_options({"authorized_keys": []}, {})
    with pytest.raises(ValueError, match="inside the collection"):
        options.check_options({"authorized_keys": [KEY], "cache_dir": "/coll/x/.cache"}, {}, collection_dir="/coll/x")


# --- .deb reading (a package built by dpkg-deb, read without it) ---

@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb makes the sample package")
def test_deb_unpack_keeps_modes_links_and_hard_links(tmp_path):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: sample\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: s\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(str(root / "bin" / "tool"), 0o4755)
    os.link(str(root / "bin" / "tool"), str(root / "bin" / "tool2"))
    os.symlink("tool", str(root / "bin" / "alias"))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(tmp_path / "s.deb")],
                   check=True, capture_output=True)
    tree = Tree()
    added = deb.unpack(tree, str(tmp_path / "s.deb"))
    assert "usr/bin/tool" in added
    assert tree.get("bin/tool").mode == 0o4755 and tree.get("bin/tool").data == b"#!/bin/sh\necho hi\n"
    assert tree.get("bin/tool2").data == tree.get("bin/tool").data
    assert tree.resolve("bin/alias").path == "usr/bin/tool"
    (tmp_path / "bad.deb").write_bytes(b"nope")
    with pytest.raises(deb.DebError, match="not a Debian package"):
        deb.unpack(Tree(), str(tmp_path / "bad.deb"))


def test_write_dir_keeps_modes(tmp_path):
    tree = Tree()
    tree.file("etc/ssh/key", b"k", 0o600)
    tree.symlink("etc/link", "ssh/key")
    tree.chardev("dev/console", 5, 1)
    tree.write_dir(str(tmp_path))
    assert stat.S_IMODE(os.stat(str(tmp_path / "etc/ssh/key")).st_mode) == 0o600
    assert os.readlink(str(tmp_path / "etc/link")) == "ssh/key"
    assert os.path.islink(str(tmp_path / "bin")) and not os.path.exists(str(tmp_path / "dev/console"))
    assert hashlib.sha256(io.BytesIO(b"k").read()).hexdigest()


def test_package_round_trips_through_the_resolution_cache_and_apt_state_is_fingerprinted(tmp_path):
    package = control.package_of(control.parse_stanzas(SHOW)[0])
    again = control.Package.from_dict(json.loads(json.dumps(package.to_dict())))
    assert again.key() == package.key() and again.depends == package.depends and again.deb_name() == package.deb_name()
    lists = tmp_path / "lists"
    lists.mkdir()
    assert apt.state_fingerprint((str(lists),)) is None            # no package lists: never cached
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_bytes(b"x")
    first = apt.state_fingerprint((str(lists), str(tmp_path / "absent")))
    assert [name for name, _size, _mtime in first] == [str(lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4")]
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_bytes(b"xy")   # apt-get update
    assert apt.state_fingerprint((str(lists),)) != first
