# rootsweep: every target installs what it needs (Rust comes from the machine).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
# checkov pins boto3 apart from aws-sam-cli: an environment of its own (see lint-infra).
CHECKOV_VENV := $(VENV)/checkov
PIP := $(VENV)/bin/pip
CARGO ?= cargo
# The binaries built together, run as built: `cargo run -p` alone would unify features
# differently and rebuild the library.
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)

.PHONY: demo bench bench-quick test test-rust test-python lint lint-rust lint-infra package venv \
	python-tools chromium

## Python tools (cfn-lint, sam, checkov, cargo-lambda, boto3, pytest) in a local virtualenv.
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
venv: $(VENV)/.installed

## make demo: a real sweep of a built-in emulated organization (audit, sweep, audit).
demo:
	$(CARGO) build --locked -p rootsweep -p rootsweep-emulator
	bash tests/demo/demo.sh

## make bench: how close sweeps of up to 10,000 accounts come to their I/O bound, and their CPU,
## memory and connections, against the emulator as a separate process (one JSON line a case),
## then the Lambda binary's init time. Release build.
bench:
	$(CARGO) build --release --locked -p rootsweep -p rootsweep-emulator -p rootsweep-bench
	$(TARGET_DIR)/release/rootsweep-bench

## Builds the debug binaries with the test build's features: `cargo build -p ...` alone leaves
## out the dev-dependencies' features (tokio's and the SDKs' test-util), and would rebuild tokio,
## the SDK and everything above them after `cargo test` (3.5 of CI's minutes).
DEBUG_BUILD = $(CARGO) build --workspace --all-targets --locked

## The benchmark's quick set, in make test so that it cannot rot (figures only, no assertions
## on them; debug build, shared with the tests).
bench-quick:
	$(DEBUG_BUILD)
	$(TARGET_DIR)/debug/rootsweep-bench --quick

## make test: every test and check, as CI runs it, one after the other: cargo and pip each keep
## both cores busy (installing the Python tools beside the Rust build slowed the build by more
## than the install took). pip compiles the tools' bytecode as it installs: where
## PYTHONDONTWRITEBYTECODE is set, nothing else would keep it, and every tool run would pay.
test:
	$(MAKE) --no-print-directory chromium & chromium=$$!; \
	$(MAKE) --no-print-directory lint-rust; wait $$chromium; \
	$(MAKE) --no-print-directory test-rust test-python lint-infra bench-quick

## Chromium, Debian's package, for the test that opens the HTML evidence in a real browser:
## installed when missing (CI runs as root on a clean machine), through sudo when not root.
## make test installs it beside the Rust lint: apt waits on downloads and dpkg more than it
## computes (12 s of CPU in 34 s here), and the tests only need it after the build.
chromium:
	@command -v chromium >/dev/null || { sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends chromium; }

python-tools: $(VENV)/.installed $(CHECKOV_VENV)/.installed

lint-rust:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

## The checkov environment first: infra/tests run checkov on the template with every option on.
test-python: python-tools
	$(DEBUG_BUILD)
	ROOTSWEEP_EMULATOR_BIN=$(TARGET_DIR)/debug/rootsweep-emulator $(VENV)/bin/pytest -q tests/emulator/py infra/tests

lint: lint-rust lint-infra

## checkov pins boto3==1.35.49 exactly, aws-sam-cli pins boto3==1.43.108: no one environment
## holds both, so checkov gets its own, inside $(VENV) (infra/requirements-checkov.txt).
$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt | $(VENV)/.installed
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	touch $@

## The three template linters, offline: cfn-lint and SAM's own (which runs cfn-lint after the
## SAM transform) need no credentials or network; checkov is told not to download or check
## for updates. Suppressions are inline in infra/template.yaml, each with its reason.
lint-infra: python-tools
	$(VENV)/bin/cfn-lint infra/template.yaml
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint --template-file infra/template.yaml
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --quiet --compact \
	  --skip-download --framework cloudformation -f infra/template.yaml

## make package: the Lambda artifact for this machine's own target, compiled by plain cargo
## (no zig, no cross toolchain), e.g. x86_64-unknown-linux-gnu for an x86_64 Lambda.
## `sam build` builds the deployable artifact for the template's Architecture parameter.
## provided.al2023 has glibc 2.34: a binary needing newer glibc symbols would not start there.
HOST_TRIPLE = $(shell rustc -vV | sed -n 's/^host: //p')
LAMBDA_DIR = $(shell $(CARGO) metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/lambda/rootsweep-lambda
package: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) lambda build --release --compiler cargo \
	  --target $(HOST_TRIPLE) --bin rootsweep-lambda
	newest=$$(objdump -T $(LAMBDA_DIR)/bootstrap | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1); \
	if [ "$$(printf '%s\n2.34\n' "$$newest" | sort -V | tail -n 1)" != 2.34 ]; then \
	  echo "bootstrap needs glibc $$newest, newer than provided.al2023's 2.34" >&2; exit 1; fi; \
	echo "newest glibc symbol: $$newest (provided.al2023 has 2.34)"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) lambda build --release --compiler cargo \
	  --target $(HOST_TRIPLE) --bin rootsweep-lambda --output-format zip
	@echo "Lambda artifact for $(HOST_TRIPLE) (provided.al2023, Architecture $(if $(findstring aarch64,$(HOST_TRIPLE)),arm64,x86_64)):"
	@ls -l $(LAMBDA_DIR)/bootstrap $(LAMBDA_DIR)/bootstrap.zip
