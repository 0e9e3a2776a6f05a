# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""disk_identity's --diff (_image_nodes/identity_diff.py): fingerprints as ssh-keygen -l prints them, the before
and after texts, the check-mode prediction, the headers naming the partition and the device."""

import shutil
import subprocess

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import identity, identity_diff

ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9bVdp9vE0SG7M7mKxb3tS4x8ldbVKWb2z1p7F2v0x1 root@golden"
EC = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBp8vKLSoYyvv+kJ7Qf2H3mQ0Xq7o7rjxq5y"
      "qG2vQ7ivQvD8GmP4J4uQ3wGkOQx3PqfXoDd0oIuQxTzBq2J8pQ8=")
GOLDEN = {"hostname": "golden\n", "machine_id": "a" * 32 + "\n", "host_keys": {"ecdsa": EC, "ed25519": ED}}


def test_fingerprint_is_what_ssh_keygen_prints(tmp_path):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is missing")
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    shown = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(key) + ".pub"], check=True,
                           stdout=subprocess.PIPE, universal_newlines=True).stdout.split()[1]
    assert identity_diff.fingerprint((tmp_path / "key.pub").read_text()) == shown


@pytest.mark.parametrize("line", ["", "ssh-ed25519", "ssh-ed25519 not*base64", "ssh-ed25519 ====", None])
def test_fingerprint_of_an_unreadable_line(line):
    assert identity_diff.fingerprint(line) == "(unreadable)"


def test_summary_lists_keys_in_a_fixed_order_and_names_what_is_missing():
    text = identity_diff.summary("", None, {"rsa": "SHA256:r", "ed25519": "SHA256:e"})
    assert text == "hostname: (none)\nmachine-id: (none)\nssh host key ed25519: SHA256:e\nssh host key rsa: SHA256:r\n"


def test_check_mode_diff_predicts_the_new_identity_without_private_keys():
    changes = identity.plan(GOLDEN, "node1")
    diff = identity_diff.build("/dev/vda", "/dev/vda2", GOLDEN, changes=changes)
    assert diff["before"] == ("hostname: golden\nmachine-id: %s\nssh host key ed25519: %s\nssh host key ecdsa: %s\n"
                              % ("a" * 32, identity_diff.fingerprint(ED), identity_diff.fingerprint(EC)))
    assert diff["after"] == ("hostname: node1\nmachine-id: (a new random one)\nssh host key ed25519: (a new key)\n"
                             "ssh host key ecdsa: (a new key)\n")
    assert diff["before_header"] == "/dev/vda2 (root file system of /dev/vda): identity now"
    assert diff["after_header"] == "/dev/vda2 (root file system of /dev/vda): identity after the run (check mode)"
    assert "AAAA" not in diff["before"] + diff["after"]          # fingerprints, never a key


def test_check_mode_diff_of_a_disk_that_already_holds_its_identity_is_empty():
    mine = dict(GOLDEN, hostname="node1\n", hosts="127.0.0.1\tlocalhost\n127.0.1.1\tnode1\n",
                marker=identity.marker("node1", "a" * 32, GOLDEN["host_keys"]))
    changes = identity.plan(mine, "node1")
    assert changes["changes"] == []
    diff = identity_diff.build("/dev/vda", "/dev/vda2", mine, changes=changes)
    assert diff["before"] == diff["after"]


def test_check_mode_diff_when_only_the_host_name_changes_keeps_the_rest():
    changes = {"hostname": "node2", "machine_id": None, "regenerate_keys": []}
    diff = identity_diff.build("/dev/vda", "/dev/vda2", GOLDEN, changes=changes)
    assert diff["after"] == diff["before"].replace("hostname: golden", "hostname: node2")


def test_check_mode_diff_of_a_system_without_keys_shows_the_ed25519_key_to_come():
    changes = identity.plan({"hostname": "golden"}, "node1")
    diff = identity_diff.build("/dev/sda", "/dev/sda1", {"hostname": "golden"}, changes=changes)
    assert diff["before"] == "hostname: golden\nmachine-id: (none)\n"
    assert diff["after"].endswith("ssh host key ed25519: (a new key)\n")


def test_diff_after_a_run_shows_both_identities_and_a_file_is_named_once():
    after = {"hostname": "node1\n", "machine_id": "b" * 32 + "\n", "host_keys": {"ed25519": EC.replace("ecdsa-sha2-nistp256", "ssh-ed25519")}}
    diff = identity_diff.build("/srv/root.img", "/srv/root.img", GOLDEN, after=after)
    assert diff["before_header"] == "/srv/root.img: identity before"
    assert diff["after_header"] == "/srv/root.img: identity after"
    assert diff["after"] == "hostname: node1\nmachine-id: %s\nssh host key ed25519: %s\n" % ("b" * 32, identity_diff.fingerprint(EC))
