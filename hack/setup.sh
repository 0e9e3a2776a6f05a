#!/usr/bin/env bash
# Prepare a fresh Debian bookworm machine (as root) or a developer checkout for `make test` / `make demo`:
# Debian packages when missing, a pinned virtualenv in .venv, and a collections path in which
# ansible_collections/labfarm/massclone is this checkout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}

# Debian packages the tests and jobs use. Installed only when missing, and only where apt exists.
# zfs-fuse: real ZFS in user space for the mass clone job; vpcs and qemu: nodes of GNS3 projects;
# the DHCP servers, a DHCP client, TFTP and the boot loaders for the netboot job (their services do
# not start on install here; the tests start them in network namespaces); debootstrap for the bookworm
# system that netboot_server's systemd scenario boots with systemd as PID 1; cpio and zstd unpack ring
# archives, udpcast is the ring benchmark's baseline; libvirt and its headers (libvirt-python) for the VM farm;
# openssh for the hosts the multi-host tests reach over SSH in namespaces; ipmitool, syslinux, mtools, dosfstools,
# fdisk and busybox-static for machines that network-boot, are powered through a BMC and boot from their disks.
packages=(git make shellcheck curl iproute2 zfs-fuse vpcs qemu-system-x86 qemu-utils
          dnsmasq isc-dhcp-server kea-dhcp4-server udhcpc tftpd-hpa tftp-hpa pxelinux syslinux-common ipxe-qemu
          debootstrap cpio zstd udpcast libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
          openssh-server openssh-client sshpass ipmitool syslinux extlinux mtools dosfstools fdisk e2fsprogs busybox-static)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# imaging_build and the golden disk fetch Debian packages with apt-get download: they need apt's package lists.
if command -v apt-get >/dev/null 2>&1 && ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
    echo "setup: apt-get update (no package lists yet)"
    apt-get update -qq
fi

# The virtualenv, reinstalled when the pinned requirements change.
stamp=.venv/.requirements.sha
want=$(cat requirements-dev.txt requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -r requirements.txt
    echo "$want" > "$stamp"
fi

# The oldest ansible-core meta/runtime.yml claims, for `make unit` to test that claim.
stamp=.venv-oldest/.requirements.sha
want=$(sha256sum < requirements-oldest.txt | cut -d' ' -f1)
if [ ! -x .venv-oldest/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv-oldest (requirements-oldest.txt)"
    rm -rf .venv-oldest
    "$PYTHON" -m venv .venv-oldest
    .venv-oldest/bin/python -m pip install -q --disable-pip-version-check -r requirements-oldest.txt
    echo "$want" > "$stamp"
fi

# ANSIBLE_COLLECTIONS_PATH=.venv/collections finds this checkout as labfarm.massclone.
mkdir -p .venv/collections/ansible_collections/labfarm
ln -sfn "$root" .venv/collections/ansible_collections/labfarm/massclone

# community.general (galaxy.yml's dependency: ipmi_power and ipmi_boot power the nodes through their BMC).
# Galaxy is not reachable from every lab machine, PyPI is: take the collection from the `ansible` wheel
# pinned by version and hash, once; the stamp names the source.
cg_source="ansible==12.3.0 --hash=sha256:cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414"
cg_dir=.venv/collections/ansible_collections/community/general
if [ "$(cat "$cg_dir/.labfarm-source" 2>/dev/null)" != "$cg_source" ]; then
    echo "setup: community.general from PyPI's ${cg_source%% *} wheel into $cg_dir"
    cg_tmp=$(mktemp -d)
    echo "$cg_source" > "$cg_tmp/requirements.txt"
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -r "$cg_tmp/requirements.txt" -d "$cg_tmp"
    rm -rf "$cg_dir"
    .venv/bin/python - "$cg_tmp"/ansible-*.whl .venv/collections <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extractall(sys.argv[2], [n for n in wheel.namelist() if n.startswith("ansible_collections/community/general/")])
EOF
    echo "$cg_source" > "$cg_dir/.labfarm-source"
    rm -rf "$cg_tmp"
fi

# ansible-test bootstraps pip in its sanity virtualenvs from a script it downloads from a host that is
# not a package registry: write that script ourselves, from pip's own wheel on PyPI.
.venv/bin/python hack/ansible-test-pip.py

# Real GNS3 servers for the integration tests and benchmarks, one virtualenv per major version
# kept outside the checkout so a clean clone reuses them. Pinned by exact version.
if [ "${LABFARM_SKIP_GNS3:-}" != "1" ]; then
    cache=${LABFARM_CACHE:-$HOME/.cache/labfarm}
    for spec in 2.2:2.2.61 3.0:3.0.6; do
        dir=$cache/gns3-${spec%%:*} version=${spec#*:}
        if [ "$(cat "$dir/.version" 2>/dev/null)" != "$version" ]; then
            echo "setup: gns3-server $version into $dir"
            rm -rf "$dir"
            "$PYTHON" -m venv "$dir"
            "$dir/bin/python" -m pip install -q --disable-pip-version-check "gns3-server==$version"
            echo "$version" > "$dir/.version"
        fi
    done
fi
