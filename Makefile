# labfarm.massclone: `make demo` and `make test` set up everything they need on a fresh
# Debian bookworm machine (hack/setup.sh), then run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
export ANSIBLE_LOCALHOST_WARNING := false
export ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED := true
export ANSIBLE_NOCOWS := 1
# Ansible's own state (ansible-lint's cache, tmp dirs) stays in the checkout, not in the user's ~/.ansible.
export ANSIBLE_HOME := $(ROOT)/.ansible
WORK := $(ROOT)/.work
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)

.PHONY: all setup demo demo-clean demo-placement test unit integration molecule sanity lint build release benchmark clean

all: test

setup:
	@hack/setup.sh

# The main job: 20 clones of a sample GNS3 project on a file-backed zfs-fuse pool (hack/demo.sh).
demo: setup
	@hack/demo.sh up

demo-clean: setup
	@hack/demo.sh clean

# The foundation's demo: 500 clones placed on 4 GNS3 servers by the noderange inventory.
demo-placement: setup
	@mkdir -p $(WORK)/demo-placement
	ansible-playbook -i playbooks/inventory/exam.noderange.yml playbooks/demo_placement.yml \
	    -e labfarm_demo_dir=$(WORK)/demo-placement
	@cat $(WORK)/demo-placement/placement.txt

test: setup unit integration molecule sanity lint build release
	@echo "make test: all passed"

# Every plugin, for ansible-doc: under the oldest ansible-core claimed (unit) and from the built tarball (build).
PLUGINS := inventory:noderange filter:noderange filter:nodefold filter:placement \
    module:zfs_clone module:gns3_project_reset module:gns3_project_info module:gns3_server \
    module:netboot_config module:imaging_build module:kea_command module:ring_copy module:ring_progress module:libvirt_farm module:libvirt_farm_info \
    filter:disk_ring_plan filter:disk_ring_preflight_errors filter:disk_ring_result \
    filter:mass_clone_clones filter:mass_clone_server_mac_prefix filter:vm_farm_assignment filter:vm_farm_list \
    filter:survey_inputs filter:nodes_of_hosts filter:bmc_problems filter:mass_clone_store_check filter:mass_clone_nodes filter:mass_clone_record \
    module:disk_identity module:image_nodes_lock filter:image_nodes_problems filter:image_nodes_pending filter:image_nodes_result
ROLES := mass_clone netboot_server disk_ring vm_farm imaging_system image_nodes

# The unit tests, then again with the oldest ansible-core that meta/runtime.yml claims (.venv-oldest),
# with every plugin's and role's documentation read by that version's ansible-doc.
unit: setup
	python -m pytest -q -p no:cacheprovider tests/unit
	$(ROOT)/.venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/unit
	@set -e; old=$$($(ROOT)/.venv-oldest/bin/ansible --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p'); \
	for plugin in $(PLUGINS); do \
	    $(ROOT)/.venv-oldest/bin/ansible-doc -t $${plugin%%:*} labfarm.massclone.$${plugin#*:} >/dev/null; done; \
	for role in $(ROLES); do $(ROOT)/.venv-oldest/bin/ansible-doc -t role labfarm.massclone.$$role >/dev/null; done; \
	echo "unit: ansible-core $$old (the oldest claimed) passes the unit tests and reads every plugin's and role's docs"

# The lab is installed by hack/setup.sh, so here a missing zfs-fuse or GNS3 server fails the run.
integration: setup
	LABFARM_REQUIRE_LAB=1 python -m pytest -q -p no:cacheprovider tests/integration

# The role's molecule scenario, run on localhost against a zfs-fuse pool it makes. netboot_server's
# systemd scenario boots a debootstrapped bookworm with systemd as PID 1 (cached in LABFARM_CACHE).
# ansible-lint leaves a copy of the collection in .ansible/collections, which molecule would run instead of the checkout.
molecule: setup
	rm -rf $(ROOT)/.ansible/collections
	cd roles/mass_clone && molecule test
	cd roles/netboot_server && for backend in dnsmasq isc kea; do \
	    molecule test -- -e netboot_server_backend=$$backend || exit 1; done
	cd roles/netboot_server && for backend in dnsmasq isc kea; do \
	    molecule test -s systemd -- -e netboot_server_backend=$$backend || exit 1; done
	cd roles/disk_ring && molecule test
	cd roles/vm_farm && molecule test
	cd roles/imaging_system && molecule test
	cd roles/image_nodes && molecule test

# ansible-test runs from a copy whose path is ansible_collections/labfarm/massclone, made of the
# files git tracks or would track: what a clean clone holds.
sanity: setup
	@rm -rf $(WORK)/sanity && mkdir -p $(WORK)/sanity/ansible_collections/labfarm/massclone
	@git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp --parents -t $(WORK)/sanity/ansible_collections/labfarm/massclone/
	@# its own git index: ansible-test lists files through the nearest .git, and the checkout ignores .work
	@cd $(WORK)/sanity/ansible_collections/labfarm/massclone && git init -q && git add -A
	cd $(WORK)/sanity/ansible_collections/labfarm/massclone && \
	    ansible-test sanity --local --color no --python $$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

lint: setup
	ansible-lint --profile production
	antsibull-changelog lint

build: setup
	@rm -rf $(WORK)/build && mkdir -p $(WORK)/build/collections
	ansible-galaxy collection build --force --output-path $(WORK)/build .
	# --no-deps: community.general (a dependency) comes from .venv/collections here; Galaxy is not reachable
	ansible-galaxy collection install --force --no-deps -p $(WORK)/build/collections $(WORK)/build/labfarm-massclone-$(VERSION).tar.gz
	@set -e; for plugin in $(PLUGINS); do \
	    ANSIBLE_COLLECTIONS_PATH=$(WORK)/build/collections ansible-doc -t $${plugin%%:*} labfarm.massclone.$${plugin#*:} >/dev/null; \
	    echo "ansible-doc -t $${plugin%%:*} labfarm.massclone.$${plugin#*:}: ok"; done
	@set -e; for role in $(ROLES); do \
	    ANSIBLE_COLLECTIONS_PATH=$(WORK)/build/collections ansible-doc -t role labfarm.massclone.$$role >/dev/null; \
	    echo "ansible-doc -t role labfarm.massclone.$$role: ok"; done
	@echo "build: labfarm-massclone-$(VERSION).tar.gz installs and its docs render"

# The release as Galaxy and ansible-builder take it, without a container engine: the plugins' and roles' docs as
# the docsite renders them, then (tests/release) `ansible-builder create` and the image's requirements computed
# from the collection installed from the tarball, and galaxy-importer on that tarball.
release: build
	antsibull-docs lint-collection-docs --plugin-docs .
	python -m pytest -q -p no:cacheprovider tests/release

benchmark: setup
	python benchmarks/noderange.py
	python benchmarks/inventory.py
	python benchmarks/mass_clone.py
	python benchmarks/netboot.py
	python benchmarks/ring.py
	python benchmarks/vm_farm.py

clean:
	rm -rf $(WORK) tests/output .ansible
