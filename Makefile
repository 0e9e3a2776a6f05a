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

.PHONY: all setup demo test unit integration sanity lint build benchmark clean

all: test

setup:
	@hack/setup.sh

demo: setup
	@mkdir -p $(WORK)/demo
	ansible-playbook -i playbooks/inventory/exam.noderange.yml playbooks/demo_placement.yml \
	    -e labfarm_demo_dir=$(WORK)/demo
	@cat $(WORK)/demo/placement.txt

test: setup unit integration sanity lint build
	@echo "make test: all passed"

unit: setup
	python -m pytest -q -p no:cacheprovider tests/unit

integration: setup
	python -m pytest -q -p no:cacheprovider tests/integration

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
	ansible-galaxy collection install --force -p $(WORK)/build/collections $(WORK)/build/labfarm-massclone-$(VERSION).tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(WORK)/build/collections ansible-doc -t inventory labfarm.massclone.noderange >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(WORK)/build/collections ansible-doc -t filter labfarm.massclone.noderange >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(WORK)/build/collections ansible-doc -t filter labfarm.massclone.nodefold >/dev/null
	@echo "build: labfarm-massclone-$(VERSION).tar.gz installs and its docs render"

benchmark: setup
	python benchmarks/noderange.py
	python benchmarks/inventory.py

clean:
	rm -rf $(WORK) tests/output .ansible
