# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labfarm.massclone.disk_identity's check and diff modes through ansible-playbook, on a real ext4 file system.

The file system is an image file made like the golden disk's root (mkfs.ext4 -d from a directory holding
/etc/hostname = golden, a machine-id, /etc/hosts and ed25519 and ECDSA host keys); the module mounts it through a
loop device (so this needs root). --check --diff must show the identity that would change and write nothing (the
image's SHA256 is the same after); a real run's diff shows the fingerprints now on the disk (read with debugfs,
no mount), never a private key; a second run changes nothing."""

import hashlib
import os
import shutil
import subprocess

import pytest

from tests.lab import lab_missing

MODULE = "labfarm.massclone.disk_identity"
KINDS = ("ed25519", "ecdsa")


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def fingerprint(pub_path):
    return subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.split()[1]


def debugfs_cat(image, path):
    return subprocess.run(["debugfs", "-R", "cat " + path, image], check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, universal_newlines=True).stdout


@pytest.fixture
def root_image(tmp_path):
    """(image path, {kind: fingerprint}) of a 24 MiB ext4 image holding the golden system's identity files."""
    for tool in ("mkfs.ext4", "ssh-keygen", "debugfs", "mount"):
        if shutil.which(tool) is None:
            lab_missing("%s is missing (e2fsprogs, openssh-client, mount)" % tool)
    if os.geteuid() != 0:
        lab_missing("disk_identity mounts the file system: root is needed")
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("golden\n")
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tgolden\n")
    fingerprints = {}
    for kind in KINDS:
        key = str(root / "etc" / "ssh" / ("ssh_host_%s_key" % kind))
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@golden", "-f", key], check=True)
        fingerprints[kind] = fingerprint(key + ".pub")
    image = str(tmp_path / "root.img")
    with open(image, "wb") as handle:
        handle.truncate(24 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "labfarm-root", "-E", "root_owner=0:0", "-d", str(root), image], check=True)
    return image, fingerprints


def test_check_diff_shows_what_would_change_and_writes_nothing(run_module, root_image):
    image, golden = root_image
    digest = sha256(image)
    result = run_module(MODULE, {"device": image, "hostname": "node1"}, check=True, diff=True)
    assert not result.get("failed"), result
    assert sha256(image) == digest                                      # nothing written in check mode
    assert result["changed"] is True and result["partition"] == image
    assert "hostname golden -> node1" in result["changes"]
    assert "SSH host keys regenerated: ed25519, ecdsa" in result["changes"]
    diff = result["diff"]
    assert diff["before_header"] == "%s: identity now" % image
    assert diff["after_header"] == "%s: identity after the run (check mode)" % image
    assert diff["before"] == ("hostname: golden\nmachine-id: 0123456789abcdef0123456789abcdef\n"
                              "ssh host key ed25519: %s\nssh host key ecdsa: %s\n" % (golden["ed25519"], golden["ecdsa"]))
    assert diff["after"] == ("hostname: node1\nmachine-id: (a new random one)\n"
                             "ssh host key ed25519: (a new key)\nssh host key ecdsa: (a new key)\n")
    assert "PRIVATE KEY" not in repr(result)

    without = run_module(MODULE, {"device": image, "hostname": "node1"}, check=True)
    assert "diff" not in without and without["changed"] is True         # the diff only with --diff
    assert sha256(image) == digest


def test_run_with_diff_shows_the_new_fingerprints_and_a_second_run_changes_nothing(run_module, root_image):
    image, golden = root_image
    result = run_module(MODULE, {"device": image, "hostname": "node2"}, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    now = {}
    for kind in KINDS:
        pub = image + ".%s.pub" % kind
        with open(pub, "w") as handle:
            handle.write(debugfs_cat(image, "/etc/ssh/ssh_host_%s_key.pub" % kind))
        now[kind] = fingerprint(pub)
        assert now[kind] != golden[kind]
    machine_id = debugfs_cat(image, "/etc/machine-id").strip()
    assert debugfs_cat(image, "/etc/hostname") == "node2\n"
    assert result["diff"]["before"].startswith("hostname: golden\n")
    assert result["diff"]["after"] == ("hostname: node2\nmachine-id: %s\nssh host key ed25519: %s\nssh host key ecdsa: %s\n"
                                       % (machine_id, now["ed25519"], now["ecdsa"]))
    assert result["diff"]["after_header"] == "%s: identity after" % image
    assert "PRIVATE KEY" not in repr(result)

    digest = sha256(image)
    again = run_module(MODULE, {"device": image, "hostname": "node2"}, check=True, diff=True)
    assert again["changed"] is False and again["changes"] == []
    assert again["diff"]["before"] == again["diff"]["after"] == result["diff"]["after"]
    assert sha256(image) == digest
