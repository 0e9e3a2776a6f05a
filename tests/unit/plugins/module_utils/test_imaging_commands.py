# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command lines of _imaging/apt.py and _image_nodes/identity_disk.py and what a failing command says.

Every process of each file goes through its ``_run_command(argv, ...) -> (rc, stdout, stderr)``; here that one
function is replaced by a script that records each argv and answers, so the commands and the messages are
checked without apt, a disk or root. The real ``_run_command`` is run once per file on a program that exists and one
that does not (rc 127, never an exception)."""

import os

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._image_nodes import identity, identity_disk
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging import apt
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.control import Package


class Script(object):
    """A stand-in _run_command: answers[i] is (rc, stdout, stderr) or a callable(argv, kwargs) giving it;
    records every (argv, kwargs)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs))
        answer = self.answers.pop(0) if self.answers else (0, "", "")
        return answer(argv, kwargs) if callable(answer) else answer

    @property
    def argvs(self):
        return [argv for argv, _kwargs in self.calls]


def package(name, version="1.0", sha256=""):
    return Package(name=name, version=version, arch="amd64", sha256=sha256)


# -- apt

def test_apt_show_runs_one_apt_cache_call_and_parses_its_stanzas(monkeypatch):
    script = Script((0, "Package: zstd\nVersion: 1.5.4\nArchitecture: amd64\n\nPackage: tar\nVersion: 1.34\n", ""))
    monkeypatch.setattr(apt, "_run_command", script)
    stanzas = apt.show(["zstd", "tar=1.34"])
    assert script.argvs == [["apt-cache", "show", "--no-all-versions", "zstd", "tar=1.34"]]
    assert [s["Package"] for s in stanzas] == ["zstd", "tar"]
    assert apt.show([]) == [] and len(script.calls) == 1          # nothing asked: no process


@pytest.mark.parametrize("err, fix", [
    ("N: Unable to locate package python3-nothing\nE: No packages found", "apt-get update"),
    ("E: Version '9.9' for 'zstd' was not found", "the mirror no longer has that version"),
    ("E: Failed to fetch http://deb.debian.org/... Temporary failure resolving 'deb.debian.org'", "network access"),
    ("cannot run apt-cache: No such file or directory", "the build host needs apt"),
])
def test_apt_failure_names_the_command_the_package_and_the_fix(monkeypatch, err, fix):
    monkeypatch.setattr(apt, "_run_command", Script((100 if "cannot" not in err else 127, "", err)))
    with pytest.raises(apt.AptError) as caught:
        apt.show(["python3-nothing"])
    message = str(caught.value)
    assert message.startswith("apt-cache show --no-all-versions python3-nothing failed: ")
    assert err.splitlines()[-1] in message and fix in message


def test_apt_failure_without_words_says_the_status(monkeypatch):
    monkeypatch.setattr(apt, "_run_command", Script((1, "", "")))
    with pytest.raises(apt.AptError, match=r"apt-cache show --no-all-versions zstd failed: exit status 1$"):
        apt.show(["zstd"])


def test_apt_fetch_downloads_only_the_missing_packages_in_one_call(monkeypatch, tmp_path):
    debs = tmp_path / "debs"
    debs.mkdir()
    tar = package("tar", "1.34")
    (debs / tar.deb_name()).write_bytes(b"tar deb")
    wanted = [tar, package("zstd", "1.5.4"), package("xxhash", "0.8.1")]

    def download(argv, kwargs):
        for spec in argv[5:]:
            name, version = spec.split("=")
            with open(os.path.join(kwargs["cwd"], package(name, version).deb_name()), "wb") as handle:
                handle.write(spec.encode())
        return 0, "", ""

    script = Script(download)
    monkeypatch.setattr(apt, "_run_command", script)
    paths, downloaded = apt.fetch(wanted, str(debs))
    assert script.argvs == [["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", "zstd=1.5.4", "xxhash=0.8.1"]]
    assert os.path.dirname(script.calls[0][1]["cwd"]) == str(debs)        # a work directory inside the cache
    assert downloaded == ["zstd", "xxhash"]
    assert open(paths["xxhash"], "rb").read() == b"xxhash=0.8.1"
    assert sorted(os.listdir(str(debs))) == sorted(p.deb_name() for p in wanted)   # the work directory is gone
    assert apt.fetch(wanted, str(debs))[1] == [] and len(script.calls) == 1


def test_apt_fetch_failure_names_every_package_and_leaves_no_work_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(apt, "_run_command", Script((100, "", "E: Can't find a source to download version '1.5.4' of 'zstd:amd64'")))
    with pytest.raises(apt.AptError) as caught:
        apt.fetch([package("zstd", "1.5.4")], str(tmp_path))
    assert "apt-get download -q -o APT::Sandbox::User=root zstd=1.5.4 failed" in str(caught.value)
    assert "apt-get update" in str(caught.value)
    assert os.listdir(str(tmp_path)) == []


def test_apt_fetch_refuses_a_file_apt_did_not_leave_or_with_another_sha256(monkeypatch, tmp_path):
    monkeypatch.setattr(apt, "_run_command", Script((0, "", "")))
    with pytest.raises(apt.AptError, match=r"apt-get download left no zstd_1\.5\.4_amd64\.deb"):
        apt.fetch([package("zstd", "1.5.4")], str(tmp_path))

    def wrong(argv, kwargs):
        with open(os.path.join(kwargs["cwd"], package("zstd", "1.5.4").deb_name()), "wb") as handle:
            handle.write(b"not it")
        return 0, "", ""
    monkeypatch.setattr(apt, "_run_command", Script(wrong))
    with pytest.raises(apt.AptError, match=r"does not have the SHA256 apt announced \(" + "0" * 64):
        apt.fetch([package("zstd", "1.5.4", sha256="0" * 64)], str(tmp_path))


def test_apt_real_run_command_runs_under_lc_all_c_and_a_missing_program_is_rc_127():
    rc, out, err = apt._run_command(["sh", "-c", "echo $LC_ALL; echo words >&2; exit 3"])
    assert (rc, out, err) == (3, "C\n", "words\n")
    rc, out, err = apt._run_command(["/nonexistent/apt-cache", "show"])
    assert rc == 127 and out == "" and err.startswith("cannot run /nonexistent/apt-cache: ")


# -- identity_disk

def test_disk_commands_of_a_check_run(monkeypatch, tmp_path):
    """personalise in check mode: blkid per partition until the label is found, mount read-only, umount."""
    monkeypatch.setattr(identity_disk.os.path, "isdir", lambda path: path == "/sys/class/block/vdz" or os.path.isdir(path))
    real_listdir = os.listdir
    monkeypatch.setattr(identity_disk.os, "listdir", lambda path: ["vdz2", "vdz1"] if path == "/sys/class/block/vdz" else real_listdir(path))
    script = Script((0, "LABFARMBOOT\n", ""), (0, "labfarm-root\n", ""), (0, "", ""), (0, "", ""))
    monkeypatch.setattr(identity_disk, "_run_command", script)
    result = identity_disk.personalise("/dev/vdz", "node1", label="labfarm-root", check=True)
    where = script.argvs[2][-1]
    assert script.argvs == [["blkid", "-s", "LABEL", "-o", "value", "/dev/vdz1"],
                            ["blkid", "-s", "LABEL", "-o", "value", "/dev/vdz2"],
                            ["mount", "-o", "ro", "/dev/vdz2", where], ["umount", where]]
    assert where.startswith("/") and not os.path.exists(where)                # the mount point is removed
    assert result["partition"] == "/dev/vdz2" and result["changed"] is True


def test_disk_ssh_keygen_command_line(monkeypatch, tmp_path):
    script = Script()
    monkeypatch.setattr(identity_disk, "_run_command", script)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    plan = identity.plan({"hostname": "golden\n", "host_keys": {"ed25519": "x", "ecdsa": "y"}}, "node1")
    identity_disk.apply(str(root), plan, "node1", device="/dev/vda2")
    key = str(root / "etc" / "ssh" / "ssh_host_%s_key")
    assert script.argvs == [["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@node1", "-f", key % kind]
                            for kind in ("ed25519", "ecdsa")]


@pytest.mark.parametrize("answer, words", [
    ((32, "", "mount: /tmp/x: unknown filesystem type 'xfs'."), "unknown filesystem type 'xfs'"),
    ((127, "", "cannot run mount: No such file or directory"), "cannot run mount"),
    ((124, "", "killed after 120 s without an answer"), "killed after 120 s"),
])
def test_disk_mount_failure_names_the_partition_the_command_and_the_fix(monkeypatch, answer, words):
    monkeypatch.setattr(identity_disk, "_run_command", Script(answer))
    with pytest.raises(identity_disk.DiskError) as caught:
        with identity_disk.mounted("/dev/vda2", readonly=False):
            pass
    message = str(caught.value)
    assert message.startswith("/dev/vda2: mount -o rw /dev/vda2 /")
    assert words in message
    if answer[0] == 127:
        assert "the imaging system needs mount (Debian package mount in imaging_system_extra_packages)" in message
    else:
        assert "imaging_system_extra_modules" in message


def test_disk_umount_failure_says_who_holds_it(monkeypatch):
    monkeypatch.setattr(identity_disk, "_run_command", Script((0, "", ""), (32, "", "umount: target is busy.")))
    with pytest.raises(identity_disk.DiskError, match=r"^/dev/vda2: umount /\S+ failed \(rc=32\): umount: target is busy\.; "
                       r"a process still uses /\S+ \(the hook\?\)"):
        with identity_disk.mounted("/dev/vda2", readonly=True):
            pass


def test_disk_ssh_keygen_missing_or_failing_names_the_partition_and_the_package(monkeypatch, tmp_path):
    plan = identity.plan({"hostname": "golden\n", "host_keys": {"ed25519": "x"}}, "node1")
    (tmp_path / "etc").mkdir()
    monkeypatch.setattr(identity_disk, "_run_command", Script((127, "", "cannot run ssh-keygen: No such file or directory")))
    with pytest.raises(identity_disk.DiskError, match=r"^/dev/vda2: ssh-keygen .* failed \(rc=127\): cannot run ssh-keygen: .*; "
                       r"the imaging system needs ssh-keygen \(Debian package openssh-client"):
        identity_disk.apply(str(tmp_path), plan, "node1", device="/dev/vda2")
    monkeypatch.setattr(identity_disk, "_run_command", Script((1, "", "Saving key failed: No space left on device")))
    with pytest.raises(identity_disk.DiskError, match=r"No space left on device; is the root file system full or read-only\?"):
        identity_disk.apply(str(tmp_path), plan, "node1", device="/dev/vda2")


def test_disk_blockdev_failure_is_ignored_and_a_missing_label_names_the_device_and_the_options(monkeypatch, tmp_path):
    disk = tmp_path / "vdz"
    disk.write_bytes(b"")
    script = Script((1, "", "BLKRRPART: Device or resource busy"))
    monkeypatch.setattr(identity_disk, "_run_command", script)
    identity_disk.reread_partitions(str(disk))
    assert script.argvs == [["blockdev", "--rereadpt", str(disk)]]
    with pytest.raises(identity_disk.DiskError, match=r"has no partition labelled 'labfarm-root' \(partitions: none\); "
                       r"give the root partition's label \(label\) or number \(partition\)"):
        identity_disk.find_partition("/dev/nothing-here", label="labfarm-root", timeout=0)


def test_disk_hook_gets_the_root_and_its_failure_says_the_identity_is_written(monkeypatch):
    script = Script((2, "", "hook: no such network"))
    monkeypatch.setattr(identity_disk, "_run_command", script)
    with pytest.raises(identity_disk.DiskError, match=r"^/dev/vda2: /site/hook --net a /mnt/r failed \(rc=2\): hook: no such network; "
                       r"the identity was written"):
        identity_disk._run(["/site/hook", "--net", "a", "/mnt/r"], "/dev/vda2", "the identity was written; fix the hook", timeout=600)
    assert script.calls[0][1] == {"timeout": 600}


def test_disk_real_run_command_never_raises():
    assert identity_disk._run_command(["sh", "-c", "printf out; printf err >&2; exit 4"]) == (4, "out", "err")
    rc, out, err = identity_disk._run_command(["/nonexistent/blkid"])
    assert rc == 127 and out == "" and "cannot run /nonexistent/blkid" in err
    rc, out, err = identity_disk._run_command(["sleep", "5"], timeout=0.2)
    assert rc == 124 and "killed after" in err
    rc, out, err = identity_disk._run_command(["printf", "\\377"])                 # not UTF-8: replaced, no exception
    assert rc == 0 and out == "\ufffd"
