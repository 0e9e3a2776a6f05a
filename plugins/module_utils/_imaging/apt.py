# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""apt on the build host: which version of each package apt would install (apt-cache show), and the .deb
files fetched into the cache (apt-get download), checked against apt's SHA256. Talks to apt only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import subprocess
import tempfile

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.control import parse_stanzas


class AptError(Exception):
    """apt could not say or fetch something: the message has apt's own words."""


def _run_command(argv, cwd=None):
    """The one place where this file starts a process: (rc, stdout, stderr) of argv under LC_ALL=C (apt's words
    in English, so that _fix can read them). A program that cannot be started gives rc 127 and the reason in
    stderr, never an exception. Unit tests replace this function."""
    env = dict(os.environ, LC_ALL="C")
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        return 127, "", "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


# apt's words -> what the build host's admin should do about them (first match wins).
_FIXES = (
    ("cannot run ", "the build host needs apt (apt-cache, apt-get)"),
    ("Unable to locate", "are the package lists there? apt-get update"),
    ("No packages found", "are the package lists there? apt-get update"),
    ("Can't find a source to download", "the mirror no longer has that version: apt-get update, then build again"),
    ("Version '", "the mirror no longer has that version: apt-get update, then build again"),
    ("Temporary failure resolving", "the build host needs network access to a Debian mirror"),
    ("Failed to fetch", "the build host needs network access to a Debian mirror"),
    ("Could not connect", "the build host needs network access to a Debian mirror"),
)


def _fix(words):
    """What to do about apt's message words, or ''."""
    for needle, fix in _FIXES:
        if needle in words:
            return fix
    return ""


def _run(argv, cwd=None):
    """stdout of argv; AptError naming the command (so the packages) with apt's words and the fix when it fails."""
    rc, out, err = _run_command(argv, cwd=cwd)
    if rc != 0:
        words = (err or out).strip() or "exit status %d" % rc
        fix = _fix(words)
        raise AptError("%s failed: %s%s" % (" ".join(argv), words, " (%s)" % fix if fix else ""))
    return out


def show(specs):
    """apt-cache show's stanzas for ``specs`` (name or name=version), the candidate version of each name."""
    if not specs:
        return []
    return parse_stanzas(_run(["apt-cache", "show", "--no-all-versions"] + list(specs)))


# What decides the versions apt-cache show reports: the package lists, apt's pinning and sources, what is installed.
STATE_PATHS = ("/var/lib/apt/lists", "/etc/apt/preferences", "/etc/apt/preferences.d", "/etc/apt/sources.list",
               "/etc/apt/sources.list.d", "/etc/apt/apt.conf.d", "/var/lib/dpkg/status")


def state_fingerprint(paths=STATE_PATHS):
    """(path, size, mtime) of the files that decide apt's candidate versions, sorted: when it is the same, apt-cache
    show answers the same. None when apt has no package lists (nothing to fingerprint)."""
    found = []
    for path in paths:
        names = [path]
        if os.path.isdir(path):
            names = [os.path.join(path, name) for name in sorted(os.listdir(path))]
        for name in names:
            try:
                info = os.stat(name)
            except OSError:
                continue
            if not os.path.isdir(name):
                found.append((name, info.st_size, int(info.st_mtime)))
    if not any("_Packages" in os.path.basename(name) for name, _s, _m in found):
        return None
    return found


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(packages, deb_dir):
    """The path of each package's .deb in ``deb_dir`` (a dict name -> path), downloading those missing in one
    apt-get call. Every file's SHA256 is checked against apt's; a file that does not match is fetched again.
    Returns (paths, names downloaded)."""
    if not os.path.isdir(deb_dir):
        os.makedirs(deb_dir)
    paths = {}
    missing = []
    for package in packages:
        path = os.path.join(deb_dir, package.deb_name())
        paths[package.name] = path
        if not (os.path.exists(path) and (not package.sha256 or sha256_of(path) == package.sha256)):
            missing.append(package)
    if missing:
        work = tempfile.mkdtemp(prefix=".download.", dir=deb_dir)
        try:
            _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root"]
                 + ["%s=%s" % (package.name, package.version) for package in missing], cwd=work)
            for package in missing:
                got = os.path.join(work, package.deb_name())
                if not os.path.exists(got):
                    raise AptError("apt-get download left no %s in %s" % (package.deb_name(), work))
                if package.sha256 and sha256_of(got) != package.sha256:
                    raise AptError("%s does not have the SHA256 apt announced (%s)" % (got, package.sha256))
                os.rename(got, paths[package.name])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return paths, [package.name for package in missing]
