# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Debian package metadata as apt-cache prints it: control stanzas, dependency fields, and the closure of
the shared libraries a set of packages needs. Pure: the text comes from apt.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z.+~:-]+$")

# Packages whose name says "library" but that hold programs or configuration a memory image does without
# (PAM's modules: the image's sshd runs with UsePAM no).
NOT_LIBRARIES = frozenset(("libpam-modules", "libpam-modules-bin", "libpam-runtime", "libc-bin", "libc-l10n",
                           "libgdbm-compat4", "libperl5.36", "libtirpc-common", "libsemanage-common"))


class Package(object):
    """One resolved package: name, version, architecture, the SHA256 and size apt expects, its dependencies."""

    __slots__ = ("name", "version", "arch", "sha256", "size", "depends", "filename")

    def __init__(self, name, version, arch="", sha256="", size=0, depends=(), filename=""):
        self.name = name
        self.version = version
        self.arch = arch
        self.sha256 = sha256
        self.size = size
        self.depends = tuple(depends)
        self.filename = filename

    def to_dict(self):
        return dict((name, list(getattr(self, name)) if name == "depends" else getattr(self, name)) for name in self.__slots__)

    @classmethod
    def from_dict(cls, data):
        return cls(**dict((name, data[name]) for name in cls.__slots__))

    def key(self):
        """What identifies the package's content in a cache key."""
        return "%s=%s:%s:%s" % (self.name, self.version, self.arch, self.sha256)

    def deb_name(self):
        """The file name it is cached under (the version's epoch colon as apt writes it, %3a)."""
        return "%s_%s_%s.deb" % (self.name, self.version.replace(":", "%3a"), self.arch)

    def __repr__(self):
        return "Package(%s=%s)" % (self.name, self.version)


def valid_name(name):
    """True for a Debian package name (lower case letters, digits, + - .; two characters at least)."""
    return bool(_NAME_RE.match(name or ""))


def parse_spec(spec):
    """``name`` or ``name=version`` as apt-get takes them: (name, version or None); ValueError otherwise."""
    name, _sep, version = (spec or "").strip().partition("=")
    if not valid_name(name) or (_sep and not _VERSION_RE.match(version)):
        raise ValueError("not a Debian package name[=version]: %r" % spec)
    return name, (version if _sep else None)


def parse_stanzas(text):
    """The control stanzas of ``text`` (apt-cache show's output), each a dict of field -> value, continuation
    lines joined with new lines."""
    stanzas = []
    current = {}
    field = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, field = {}, None
        elif line[0] in " \t":
            if field is not None:
                current[field] += "\n" + line.strip()
        else:
            field, _sep, value = line.partition(":")
            field = field.strip()
            current[field] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def parse_depends(value):
    """The package names a Depends/Pre-Depends value needs: for each comma-separated requirement, the first
    alternative, without version, architecture qualifier or build profile."""
    names = []
    for requirement in (value or "").split(","):
        first = requirement.split("|")[0].strip()
        if not first:
            continue
        name = re.split(r"[\s(\[<]", first, 1)[0].split(":")[0]
        if name and name not in names:
            names.append(name)
    return names


def package_of(stanza):
    """A Package from one stanza of apt-cache show."""
    depends = parse_depends(stanza.get("Pre-Depends", "")) + parse_depends(stanza.get("Depends", ""))
    return Package(stanza.get("Package", ""), stanza.get("Version", ""), stanza.get("Architecture", ""),
                   stanza.get("SHA256", ""), int(stanza.get("Size", "0") or 0), depends, stanza.get("Filename", ""))


def pick(stanzas, name, version=None):
    """The stanza of ``name`` (at ``version`` when given; else the first, which is apt's candidate with
    --no-all-versions); None when there is none."""
    for stanza in stanzas:
        if stanza.get("Package") == name and (version is None or stanza.get("Version") == version):
            return stanza
    return None


# Library packages whose name does not start with lib.
ALSO_LIBRARIES = frozenset(("zlib1g",))


def is_library(name):
    """A dependency followed into the image: a shared library package (lib* and zlib1g, not those set aside)."""
    return (name.startswith("lib") or name in ALSO_LIBRARIES) and name not in NOT_LIBRARIES


def closure(specs, show):
    """Every package of ``specs`` (name or name=version) and, transitively, the shared library packages they
    depend on, as Packages sorted by name. ``show(names_or_specs)`` returns apt-cache show's stanzas for them.
    Raises ValueError naming a package apt does not know."""
    wanted = [parse_spec(spec) for spec in specs]
    resolved = {}
    todo = list(wanted)
    while todo:
        stanzas = show(["%s=%s" % (name, version) if version else name for name, version in todo])
        found = []
        for name, version in todo:
            stanza = pick(stanzas, name, version)
            if stanza is None:
                raise ValueError("apt knows no package %s%s" % (name, "=" + version if version else ""))
            package = package_of(stanza)
            resolved[name] = package
            found.append(package)
        todo = []
        for package in found:
            for dep in package.depends:
                if is_library(dep) and dep not in resolved and (dep, None) not in todo:
                    todo.append((dep, None))
    return [resolved[name] for name in sorted(resolved)]


_KERNEL_RE = re.compile(r"^linux-image-[0-9]")


def kernel_image(spec, show):
    """The Package holding the kernel for ``spec``: the package itself when it is a versioned
    linux-image-<version>-<flavour>, or the one a meta package (linux-image-amd64) depends on."""
    name, version = parse_spec(spec)
    stanza = pick(show([spec]), name, version)
    if stanza is None:
        raise ValueError("apt knows no package %s" % spec)
    package = package_of(stanza)
    if _KERNEL_RE.match(name):
        return package
    for dep in package.depends:
        if _KERNEL_RE.match(dep):
            return kernel_image(dep, show)
    raise ValueError("%s is not a kernel image package and depends on none (linux-image-<version>-<flavour>)" % spec)
