# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""One imaging_build call: resolve the packages, fetch them, assemble the root, write the kernel and the
initramfs into the cache under the key of the inputs, or find them there. The steps are functions of their
own so the tests' golden disk (tests/lab/golden.py) assembles its root with the same code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import posixpath
import shutil
import tempfile
import time

from ansible_collections.labfarm.massclone.plugins.module_utils._imaging import apt as apt_cli
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.cache import build_key
from ansible_collections.labfarm.massclone.plugins.module_utils._common.files import atomic_write
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.control import Package, closure, kernel_image
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.cpio import compress, newc_bytes
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.deb import members, unpack
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.elf import is_elf, needed
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.kmod import (
    builtin_names, depends, load_order, module_name)
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.system import (
    DEFAULT_PRUNE, DEVICES, DIRECTORIES, INIT, system_files)
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.tree import DEFAULT_PRUNE as DOC_PRUNE
from ansible_collections.labfarm.massclone.plugins.module_utils._imaging.tree import Tree

MANIFEST = "manifest.json"
KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initrd.img"
LIBRARY_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib", "usr/lib64")


class BuildError(Exception):
    """A build that cannot be made: the message says which input is at fault."""


def resolve(specs, kernel_spec, show=apt_cli.show, cache_dir=None):
    """(packages with their library closure, kernel package), versions as apt would install them. With
    ``cache_dir``, the answer is kept in <cache_dir>/resolved/ under the fingerprint of apt's state
    (apt.state_fingerprint) and the specs, and reused while that state is the same (each apt-cache call costs
    half a second; a closure takes several)."""
    saved = None
    if cache_dir and show is apt_cli.show:
        fingerprint = apt_cli.state_fingerprint()
        if fingerprint is not None:
            document = json.dumps({"apt": fingerprint, "specs": list(specs), "kernel": kernel_spec}, sort_keys=True)
            saved = os.path.join(cache_dir, "resolved", hashlib.sha256(document.encode("utf-8")).hexdigest()[:32] + ".json")
            try:
                with open(saved) as handle:
                    data = json.load(handle)
                return [Package.from_dict(item) for item in data["packages"]], Package.from_dict(data["kernel"])
            except (IOError, OSError, ValueError, KeyError, TypeError):
                pass
    try:
        packages, kernel = closure(specs, show), kernel_image(kernel_spec, show)
    except (ValueError, apt_cli.AptError) as exc:
        raise BuildError(str(exc))
    if saved is not None:
        try:
            if not os.path.isdir(os.path.dirname(saved)):
                os.makedirs(os.path.dirname(saved))
            atomic_write(saved, json.dumps({"packages": [p.to_dict() for p in packages], "kernel": kernel.to_dict()}).encode("utf-8"),
                         fsync=False)
        except (IOError, OSError):
            pass   # only a cache
    return packages, kernel


def fetch(packages, deb_dir):
    """name -> .deb path for each package, fetched into deb_dir when missing; and the names downloaded."""
    try:
        return apt_cli.fetch(packages, deb_dir)
    except (apt_cli.AptError, OSError) as exc:
        raise BuildError(str(exc))


def root_tree(packages, paths, prune=()):
    """A Tree holding every package's files, pruned of documentation and of the ``prune`` patterns."""
    tree = Tree()
    for package in packages:
        unpack(tree, paths[package.name])
    tree.prune(DOC_PRUNE + tuple(prune))
    return tree


def _kernel_pass(path):
    """One read of the kernel package: (vmlinuz bytes, kernel version, modules.builtin text,
    name -> (path, dependencies, bytes)). Every module is held for the moment of the build (about 400 MB for
    Debian's kernel): reading the package's xz stream a second time for the dependencies costs more."""
    vmlinuz, version, builtin, index = None, None, "", {}
    for name, _info, reader in members(path):
        if reader is None:
            continue
        if name.startswith("boot/vmlinuz-"):
            vmlinuz, version = reader.read(), name[len("boot/vmlinuz-"):]
        elif name.endswith("/modules.builtin"):
            builtin = reader.read().decode("utf-8", "replace")
        elif name.endswith(".ko"):
            data = reader.read()
            index[module_name(name)] = (name, depends(data), data)
    return vmlinuz, version, builtin, index


def kernel_parts(path, modules):
    """What the image takes from the kernel package: dict with version, vmlinuz (bytes), modules (load order
    as [(path under /lib/modules/<version>, bytes)]), unknown (asked for, neither a module nor built in)."""
    vmlinuz, version, builtin, index = _kernel_pass(path)
    if vmlinuz is None:
        raise BuildError("%s holds no /boot/vmlinuz-*: not a kernel image package" % path)
    order, unknown = load_order(modules, dict((name, deps) for name, (_p, deps, _d) in index.items()), builtin_names(builtin))
    prefix = "usr/lib/modules/%s/" % version
    loaded = [(index[name][0][len(prefix):], index[name][2]) for name in order]
    return {"version": version, "vmlinuz": vmlinuz, "modules": loaded, "unknown": unknown}


def add_modules(tree, kernel):
    """The modules into /lib/modules/<version>/ and their load order into /etc/labfarm/modules."""
    for relative, data in kernel["modules"]:
        tree.file("lib/modules/%s/%s" % (kernel["version"], relative), data)
    tree.file("etc/labfarm/modules", "".join(relative + "\n" for relative, _data in kernel["modules"]))


def _library(tree, name):
    for directory in LIBRARY_DIRS:
        entry = tree.resolve(posixpath.join(directory, name))
        if entry is not None and entry.kind == "file":
            return entry
    return None


def check_libraries(tree):
    """Every ELF program and library of the tree finds the shared libraries it names. Python extension
    modules that do not (curses, dbm, ...) are dropped; returns their paths. Raises BuildError naming each
    other file and the library it misses (its package belongs in the package list)."""
    dropped, missing = [], []
    for path in sorted(tree.entries):
        entry = tree.entries.get(path)
        if entry is None or entry.kind != "file" or not is_elf(entry.data):
            continue
        lacking = [name for name in needed(entry.data) if _library(tree, name) is None]
        if not lacking:
            continue
        if path.startswith("usr/lib/python3"):
            del tree.entries[path]
            dropped.append(path)
        else:
            missing.append("/%s needs %s" % (path, ", ".join(lacking)))
    if missing:
        raise BuildError("shared libraries no package of the image holds (add their packages): " + "; ".join(missing))
    return dropped


def imaging_tree(packages, paths, kernel, settings):
    """The imaging system's root: the packages, the kernel's modules, the system's own files."""
    tree = root_tree(packages, paths, DEFAULT_PRUNE + tuple(settings["prune"]))
    for path, mode in DIRECTORIES:
        tree.mkdir(path, mode)
        tree.get(path).mode = mode
    for path, major, minor, mode in DEVICES:
        tree.chardev(path, major, minor, mode)
    add_modules(tree, kernel)
    for path, content, mode in system_files(settings["authorized_keys"], settings["init"]):
        tree.file(path, content, mode)
    if tree.resolve("bin/sh") is None:
        tree.symlink("bin/sh", "busybox")
    dropped = check_libraries(tree)
    for needed_path in ("bin/busybox", "usr/bin/python3", "usr/sbin/sshd"):
        if tree.resolve(needed_path) is None:
            raise BuildError("the image has no /%s: its package is missing from the package list" % needed_path)
    return tree, dropped


def initramfs(tree, compression="gzip"):
    """The tree as a compressed newc archive: (archive bytes, uncompressed size)."""
    raw = newc_bytes(tree.sorted_entries())
    return compress(raw, compression), len(raw)


def _options_document(settings):
    return {"modules": settings["modules"], "prune": settings["prune"], "compression": settings["compression"]}


def _read_manifest(directory):
    try:
        with open(os.path.join(directory, MANIFEST)) as handle:
            manifest = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    for name in (KERNEL_FILE, INITRD_FILE):
        if not os.path.isfile(os.path.join(directory, name)):
            return None
    return manifest


def _result(directory, manifest, changed, **extra):
    result = dict(manifest)
    result.update(changed=changed, dir=directory, kernel=os.path.join(directory, KERNEL_FILE),
                  initrd=os.path.join(directory, INITRD_FILE), **extra)
    return result


def build(settings, check_mode=False, show=apt_cli.show):
    """Find or make the build for ``settings`` (options.check_options): the result imaging_build returns."""
    started = time.time()
    packages, kernel_package = resolve(settings["packages"], settings["kernel"], show, settings["cache_dir"])
    init = settings["init"] or INIT
    key = build_key(packages, kernel_package, settings["authorized_keys"], init, _options_document(settings))
    directory = os.path.join(settings["cache_dir"], "build-" + key[:24])
    manifest = None if settings["force"] else _read_manifest(directory)
    if manifest is not None and manifest.get("key") == key:
        return _result(directory, manifest, False, downloaded=[], seconds=round(time.time() - started, 2))
    if check_mode:
        return {"changed": True, "key": key, "dir": directory, "kernel": os.path.join(directory, KERNEL_FILE),
                "initrd": os.path.join(directory, INITRD_FILE), "packages": [p.name + "=" + p.version for p in packages],
                "kernel_package": kernel_package.name + "=" + kernel_package.version, "downloaded": []}
    paths, downloaded = fetch(packages + [kernel_package], os.path.join(settings["cache_dir"], "debs"))
    kernel = kernel_parts(paths[kernel_package.name], settings["modules"])
    tree, dropped = imaging_tree(packages, paths, kernel, settings)
    archive, raw_size = initramfs(tree, settings["compression"])
    manifest = {
        "key": key,
        "kernel_version": kernel["version"],
        "kernel_package": kernel_package.name + "=" + kernel_package.version,
        "packages": [package.name + "=" + package.version for package in packages],
        "modules": [module_name(relative) for relative, _data in kernel["modules"]],
        "unknown_modules": kernel["unknown"],
        "dropped": dropped,
        "kernel_size": len(kernel["vmlinuz"]),
        "initrd_size": len(archive),
        "initrd_uncompressed_size": raw_size,
        "files": len(tree.entries),
        "compression": settings["compression"],
    }
    _store(settings["cache_dir"], directory, kernel["vmlinuz"], archive, manifest)
    return _result(directory, manifest, True, downloaded=downloaded, seconds=round(time.time() - started, 2))


def _store(cache_dir, directory, vmlinuz, archive, manifest):
    """Write the build into a temporary directory beside its final one, then rename it into place, so a
    build is complete or absent (an older build for the same key, made with force, is replaced)."""
    if not os.path.isdir(cache_dir):
        os.makedirs(cache_dir)
    work = tempfile.mkdtemp(prefix=".build.", dir=cache_dir)
    try:
        for name, data in ((KERNEL_FILE, vmlinuz), (INITRD_FILE, archive)):
            with open(os.path.join(work, name), "wb") as out:
                out.write(data)
            os.chmod(os.path.join(work, name), 0o644)
        with open(os.path.join(work, MANIFEST), "w") as out:
            json.dump(manifest, out, indent=1, sort_keys=True)
        os.chmod(work, 0o755)
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.rename(work, directory)
    finally:
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)
