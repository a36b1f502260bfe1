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
	python-tools chromium sam-build deploy-forwarders

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
## the SDK and everything above them after `cargo test` (timings: CONTRIBUTING.md).
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
## computes (timings: CONTRIBUTING.md), and the tests only need it after the build.
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

## The three template linters, offline, on the stack's template and the forwarder's: cfn-lint
## and SAM's own (which runs cfn-lint after the SAM transform) need no credentials or network;
## checkov is told not to download or check for updates. Suppressions are inline in the
## templates, each with its reason.
TEMPLATES = infra/template.yaml infra/forwarder.yaml
lint-infra: python-tools
	$(VENV)/bin/cfn-lint $(TEMPLATES)
	for t in $(TEMPLATES); do SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint --template-file $$t; done
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --quiet --compact \
	  --skip-download --framework cloudformation $(addprefix -f ,$(TEMPLATES))

## make deploy-forwarders REGIONS="eu-west-1 eu-central-1" HOME_REGION=us-east-1: the recovery
## forwarder (infra/forwarder.yaml) in each other enabled region, with the operator's own AWS
## credentials and CLI. It sends the recoveries made through those regions' STS endpoints to
## the home region's default bus, where the stack's RecoveryRule follows them up.
FORWARDER_STACK ?= rootsweep-forwarder
deploy-forwarders:
	@test -n "$(REGIONS)" -a -n "$(HOME_REGION)" || \
	  { echo 'usage: make deploy-forwarders REGIONS="eu-west-1 ..." HOME_REGION=<the stack'"'"'s region>' >&2; exit 2; }
	for region in $(REGIONS); do \
	  aws cloudformation deploy --region "$$region" --stack-name $(FORWARDER_STACK) \
	    --template-file infra/forwarder.yaml --capabilities CAPABILITY_IAM \
	    --parameter-overrides HomeRegion=$(HOME_REGION) --no-fail-on-empty-changeset; \
	done

## make package: the Lambda artifact exactly as `sam build` builds it for the template (its
## function's rust-cargolambda builder: `cargo lambda build --release [--arm64] --bin
## rootsweep-lambda` in CodeUri), for the template's default Architecture (x86_64) or
## ARCHITECTURE=arm64; the checks below on it; then the same build zipped (a no-op rebuild) for
## a hand upload. Plain cargo builds this machine's own target (functions/rootsweep/Cargo.toml),
## zig cross-compiles (arm64 here: untested, this machine has the x86_64 Rust target only).
TEMPLATE_ARCHITECTURE = $(shell $(VENV)/bin/python -c 'from cfnlint.decode import decode; print(decode("infra/template.yaml")[0]["Parameters"]["Architecture"]["Default"])')
ARCHITECTURE ?= $(TEMPLATE_ARCHITECTURE)
LAMBDA_TRIPLE = $(if $(filter arm64,$(ARCHITECTURE)),aarch64,x86_64)-unknown-linux-gnu
HOST_TRIPLE = $(shell rustc -vV | sed -n 's/^host: //p')
LAMBDA_COMPILER = $(if $(filter $(LAMBDA_TRIPLE),$(HOST_TRIPLE)),cargo,cargo-zigbuild)
LAMBDA_ENV = SAM_CLI_TELEMETRY=0 CARGO_LAMBDA_COMPILER=$(LAMBDA_COMPILER) PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
SAM_BUILD_DIR = $(TARGET_DIR)/sam
SAM_BUILD = $(LAMBDA_ENV) $(VENV)/bin/sam build --template-file infra/template.yaml \
  --build-dir $(SAM_BUILD_DIR) --parameter-overrides Architecture=$(ARCHITECTURE)
SAM_BOOTSTRAP = $(SAM_BUILD_DIR)/RootsweepFunction/bootstrap
LAMBDA_DIR = $(shell $(CARGO) metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/lambda/rootsweep-lambda
package: $(VENV)/.installed
	$(SAM_BUILD)
	$(call check_bootstrap,$(SAM_BOOTSTRAP),$(ARCHITECTURE))
	cd functions/rootsweep && $(LAMBDA_ENV) $(CARGO) lambda build --release \
	  $(if $(filter arm64,$(ARCHITECTURE)),--arm64) --bin rootsweep-lambda --output-format zip
	cmp $(SAM_BOOTSTRAP) $(LAMBDA_DIR)/bootstrap
	@echo "Lambda artifact for $(LAMBDA_TRIPLE) (provided.al2023, Architecture $(ARCHITECTURE)):"
	@ls -l $(SAM_BOOTSTRAP) $(LAMBDA_DIR)/bootstrap.zip

## The same `sam build` of the template's default Architecture, offline, in SAM's debug mode
## (cargo lambda without --release: the release build is far slower) and the same checks on
## its bootstrap. Not in make test: it reuses nothing of the test build (cargo lambda always
## passes --target, and builds the function without the tests' dev-dependency features), and
## its CPU time would take make test past 10 minutes (figures: CONTRIBUTING.md).
sam-build: $(VENV)/.installed
	SAM_BUILD_MODE=debug $(SAM_BUILD)
	$(call check_bootstrap,$(SAM_BOOTSTRAP),$(ARCHITECTURE))

## A bootstrap ($(1)) fit for provided.al2023 with Architecture $(2): an ELF of that machine
## (objdump's names: i386:x86-64, aarch64), needing no glibc newer than provided.al2023's 2.34
## (a binary that does would not start there).
check_bootstrap = \
	machine=$$(objdump -f $(1) | sed -n 's/^architecture: \([^,]*\).*/\1/p'); \
	[ "$$machine" = "$(if $(filter arm64,$(2)),aarch64,i386:x86-64)" ] || \
	  { echo "$(1) is built for $$machine, not Architecture $(2)" >&2; exit 1; }; \
	newest=$$(objdump -T $(1) | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1); \
	if [ "$$(printf '%s\n2.34\n' "$$newest" | sort -V | tail -n 1)" != 2.34 ]; then \
	  echo "$(1) needs glibc $$newest, newer than provided.al2023's 2.34" >&2; exit 1; fi; \
	echo "$(1): $$machine, newest glibc symbol $$newest (provided.al2023 has 2.34)"
