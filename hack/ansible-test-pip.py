# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Give ansible-test its pip bootstrap without the host it downloads it from.

ansible-test makes each sanity virtualenv with pip from a `get-pip` script that it downloads from a
host that is not a package registry; it uses a copy in ~/.ansible/test/cache/get_pip_<version>.py
when there is one. This writes that copy: pip's own wheel of the pinned version, fetched from PyPI
with `pip download`, and a script that installs pip from it the way get-pip does (pip run from its
wheel, `pip install <the arguments ansible-test passes>`, the wheel's directory as a find-links
source, so nothing else is fetched for pip itself). Run by hack/setup.sh with the .venv python.
"""

import os
import pathlib
import re
import subprocess
import sys

import ansible_test

SCRIPT = '''#!/usr/bin/env python
# Written by labfarm.massclone's hack/ansible-test-pip.py: installs pip %(version)s from its wheel,
# taking the arguments get-pip.py takes (pip install options, requirements, --no-setuptools, --no-wheel).
import os
import re
import sys

wheel = %(wheel)r
sys.path.insert(0, wheel)
from pip._internal.cli.main import main

args = sys.argv[1:]
skip = {"setuptools": "--no-setuptools" in args or bool(os.environ.get("PIP_NO_SETUPTOOLS")),
        "wheel": "--no-wheel" in args or bool(os.environ.get("PIP_NO_WHEEL"))}
args = [arg for arg in args if arg not in ("--no-setuptools", "--no-wheel")]
named = set(re.match(r"[A-Za-z0-9._-]*", arg).group(0).lower() for arg in args if not arg.startswith("-"))
for name in ("pip", "setuptools", "wheel"):
    if name not in named and not skip.get(name):
        args.append(name)
sys.exit(main(["install", "--upgrade", "--force-reinstall", "--find-links", %(links)r] + args))
'''


def pinned_pip():
    """The pip version this ansible-test installs into its virtualenvs."""
    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        sys.exit("setup: cannot find the pip version ansible-test pins in %s" % source)
    return match.group(1)


def main():
    version = pinned_pip()
    cache = pathlib.Path(os.path.expanduser("~/.ansible/test/cache"))
    script = cache / ("get_pip_%s.py" % version.replace(".", "_"))
    wheels = cache / "pip-wheels"
    wheel = wheels / ("pip-%s-py3-none-any.whl" % version)
    if not wheel.is_file():
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                        "--only-binary", ":all:", "-d", str(wheels), "pip==%s" % version], check=True)
    text = SCRIPT % {"version": version, "wheel": str(wheel), "links": str(wheels)}
    if not script.is_file() or script.read_text() != text:
        script.write_text(text)
        print("setup: ansible-test's pip %s bootstrap from PyPI's wheel: %s" % (version, script))


if __name__ == "__main__":
    main()
