# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release as Galaxy and ansible-builder see it, from the tarball `make build` wrote (run by `make release`).

No container engine and no network: `ansible-builder create` writes the execution environment's build context,
and the builder stage's own introspect.py computes, from the collection installed from the tarball, the Python
and system packages the image would get; galaxy-importer imports the tarball as Galaxy does, less ansible-test.
"""

import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml
from bindep.depends import Depends

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
# every role of the checkout (a role is a directory under roles/)
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", name)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
# The platform profiles bindep reports inside the Fedora base image.
FEDORA = ["platform:rpm", "platform:redhat", "platform:fedora"]
# The galaxy stage installs requirements.yml from /build, where the context's _build/ is copied.
TARBALL_IN_CONTEXT = "collections/labfarm-massclone-%s.tar.gz"


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _run(argv, **kwargs):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.update(kwargs.pop("env", {}))
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=600, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed (%d):\n%s" % (" ".join(argv), proc.returncode, proc.stdout)
    return proc.stdout


def _packages(text, profiles):
    return sorted(rule[0] for rule in Depends(text).active_rules(profiles))


@pytest.fixture(scope="module")
def version():
    return str(_load(os.path.join(ROOT, "galaxy.yml"))["version"])


@pytest.fixture(scope="module")
def tarball(version):
    path = os.path.join(ROOT, ".work", "build", "labfarm-massclone-%s.tar.gz" % version)
    assert os.path.isfile(path), "%s is missing: run `make build` first (`make release` does)" % path
    return path


@pytest.fixture(scope="module")
def members(tarball):
    with tarfile.open(tarball) as tar:
        return set(name.rstrip("/") for name in tar.getnames())


@pytest.fixture(scope="module")
def context(tmp_path_factory, tarball):
    path = str(tmp_path_factory.mktemp("ee") / "context")
    _run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "--context", path,
          "--output-filename", "Containerfile"], cwd=ROOT)
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tarball):
    """The collections directory the galaxy stage makes: the collection installed from its tarball."""
    path = str(tmp_path_factory.mktemp("collections"))
    # --force: the collections path of the checkout already holds labfarm.massclone (the checkout itself).
    # --no-deps: galaxy.yml's community.general comes from Galaxy in a real EE build; this test host has no
    # Galaxy, and what is checked here is this collection's own requirements.
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", path, tarball],
         env={"ANSIBLE_COLLECTIONS_PATH": path})
    return path


@pytest.fixture(scope="module")
def builder_stage(tmp_path_factory, context, installed):
    """What the builder stage's `introspect.py introspect` writes: the image's pip and bindep requirements."""
    out = tmp_path_factory.mktemp("introspect")
    pip, bindep = str(out / "requirements.txt"), str(out / "bindep.txt")
    _run([sys.executable, os.path.join(context, "_build", "scripts", "introspect.py"), "introspect", installed,
          "--user-bindep=" + os.path.join(context, "_build", "bindep.txt"),
          "--write-bindep=" + bindep, "--write-pip=" + pip])
    with open(pip) as handle:
        pip_text = handle.read()
    with open(bindep) as handle:
        bindep_text = handle.read()
    return pip_text, bindep_text


def test_the_ee_installs_the_built_tarball(version):
    ee = _load(os.path.join(ROOT, "execution-environment.yml"))
    assert ee["version"] == 3
    assert ee["dependencies"]["galaxy"] == {"collections": [{"name": TARBALL_IN_CONTEXT % version, "type": "file"}]}
    assert ee["additional_build_files"] == [
        {"src": ".work/build/labfarm-massclone-%s.tar.gz" % version, "dest": "collections"}]
    # the collection's own requirements are not listed again
    assert "python" not in ee["dependencies"]
    assert all("libvirt" not in line for line in ee["dependencies"]["system"])


def test_the_context_holds_the_tarball_and_only_the_ee_s_own_requirements(context, tarball, version):
    build = os.path.join(context, "_build")
    files = sorted(os.path.relpath(os.path.join(top, name), build) for top, dummy, names in os.walk(build) for name in names)
    assert files == sorted([
        "bindep.txt", "requirements.yml", TARBALL_IN_CONTEXT % version,
        "scripts/assemble", "scripts/check_ansible", "scripts/check_galaxy", "scripts/entrypoint",
        "scripts/install-from-bindep", "scripts/introspect.py", "scripts/pip_install"])
    with open(os.path.join(build, TARBALL_IN_CONTEXT % version), "rb") as copied, open(tarball, "rb") as built:
        assert copied.read() == built.read()
    assert _load(os.path.join(build, "requirements.yml")) == {
        "collections": [{"name": TARBALL_IN_CONTEXT % version, "type": "file"}]}
    with open(os.path.join(build, "bindep.txt")) as handle:
        assert handle.read().splitlines() == ["sshpass [platform:rpm]"]
    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    base = _load(os.path.join(ROOT, "execution-environment.yml"))["images"]["base_image"]["name"]
    assert 'ARG EE_BASE_IMAGE="%s"' % base in containerfile
    assert "COPY _build /build" in containerfile
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert "introspect.py introspect --user-bindep=bindep.txt" in containerfile


def test_the_collection_declares_its_requirements(members, installed):
    assert {"meta/execution-environment.yml", "requirements.txt", "bindep.txt"} <= members
    meta = _load(os.path.join(installed, "ansible_collections", "labfarm", "massclone", "meta", "execution-environment.yml"))
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}


def test_the_image_gets_each_requirement_once_and_no_build_tool(builder_stage):
    pip_text, bindep_text = builder_stage
    # libvirt-python for the VM farm, pyghmi for community.general's ipmi_power / ipmi_boot (galaxy.yml's dependency)
    pip_lines = [line.split("#")[0].strip() for line in pip_text.splitlines() if line.strip()]
    assert pip_lines == ["libvirt-python>=9.0", "pyghmi>=1.5.0"]
    lines = [line.split("#")[0].strip() for line in bindep_text.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), lines
    # assemble installs `bindep -b compile` in the builder stage, where the wheels are built; the final image
    # installs `bindep -l newline` (the default profile) and the wheels
    builder = _packages(bindep_text, ["compile"] + FEDORA)
    final = _packages(bindep_text, ["default"] + FEDORA)
    assert final == ["libvirt-libs", "openssh-clients", "sshpass"]
    assert sorted(set(builder) - set(final)) == ["gcc", "libvirt-devel", "pkgconf-pkg-config", "python3-devel"]


def test_the_tarball_ships_the_changelog_and_readmes_and_no_development_file(members):
    for name in ["CHANGELOG.rst", "CHANGELOG.md", "changelogs/changelog.yaml", "README.md", "tests/unit"] + [
            "roles/%s/README.md" % role for role in ROLES]:
        assert name in members, name
    for name in ("Makefile", "hack", "benchmarks", ".ci", "requirements-dev.txt", "requirements-oldest.txt",
                 "execution-environment.yml", "tests/lab", "tests/integration", "tests/release",
                 "changelogs/.plugin-cache.yaml"):
        assert name not in members, name
    assert not [name for name in members if "/molecule" in name or "__pycache__" in name or name.startswith(".work")]


def test_galaxy_importer_accepts_the_tarball(tmp_path, tarball, version):
    env = {"GALAXY_IMPORTER_CONFIG": os.path.join(HERE, "galaxy-importer.cfg"),
           "GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP": str(tmp_path / "ansible-tmp"),
           "GALAXY_IMPORTER_TMP_ROOT_DIR": str(tmp_path)}
    out = _run([sys.executable, "-m", "galaxy_importer.main", tarball], cwd=str(tmp_path), env=env)
    assert "Importer processing completed successfully" in out
    complaints = [line for line in out.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not complaints, out
    with open(str(tmp_path / "importer_result.json")) as handle:
        result = json.load(handle)
    assert result["metadata"]["version"] == version
    docs = dict(((c["content_type"], c["content_name"]), c) for c in result["docs_blob"]["contents"])
    roles = sorted(name for kind, name in docs if kind == "role")
    assert roles == ROLES and len(ROLES) >= 5
    assert all(docs[("role", name)]["readme_html"] for name in roles)
    modules = [name for kind, name in docs if kind == "module"]
    assert len(modules) >= 10
    for name in modules:
        returned = docs[("module", name)]["doc_strings"]["return"] or {}
        assert docs[("module", name)]["doc_strings"]["doc"]["short_description"], name
        assert returned, name
