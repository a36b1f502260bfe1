# rootsweep: every target installs what it needs (Rust comes from the machine).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PIP := $(VENV)/bin/pip
CARGO ?= cargo

.PHONY: demo test test-rust test-python lint lint-rust lint-infra package venv

## Python tools (cfn-lint, sam, checkov, cargo-lambda, boto3, pytest) in a local virtualenv.
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
venv: $(VENV)/.installed

## make test: every test and check, as CI runs it.
test: lint-rust test-rust test-python lint-infra

lint-rust:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

test-python: $(VENV)/.installed
	@echo "python tests: none yet"

lint: lint-rust lint-infra

lint-infra: $(VENV)/.installed
	@echo "infra lint: none yet"
