# Proofline: every entry point. `make test` and `make devnet` are all a fresh clone needs; the
# Solidity toolchain comes from npm (package-lock.json), Rust from the user's rustup.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The platform binaries, never the npm launcher in node_modules/.bin: it exits 0 when tests fail.
FOUNDRY_PLATFORM ?= linux-amd64
FOUNDRY_BIN := node_modules/@foundry-rs
FORGE ?= $(FOUNDRY_BIN)/forge-$(FOUNDRY_PLATFORM)/bin/forge
ANVIL ?= $(FOUNDRY_BIN)/anvil-$(FOUNDRY_PLATFORM)/bin/anvil
CAST ?= $(FOUNDRY_BIN)/cast-$(FOUNDRY_PLATFORM)/bin/cast
export FORGE ANVIL CAST

# npm rewrites this file on every install, so it dates node_modules.
NPM_STAMP := node_modules/.package-lock.json
# In CI, Cargo.lock must already be up to date.
CARGO_FLAGS := $(if $(CI),--locked)

.PHONY: help install check-cargo build test test-forge test-cargo test-selfcheck test-devnet \
	lint fmt gas-snapshot devnet scenarios clean analysis analysis-venv slither halmos halmos-escrow halmos-time

help:
	@echo "make devnet        local anvil + deployed Rollup, live slot/epoch view (Ctrl-C to stop)"
	@echo "make scenarios     every fault scenario on its own devnet (~25 min, not part of make test);"
	@echo "                   reports to docs/scenarios/, fails if any report invariant is broken"
	@echo "make test          install what is missing, then every test (forge, cargo, self-check, devnet)"
	@echo "make build         forge build + cargo build"
	@echo "make lint          forge fmt --check, forge lint, cargo fmt --check, clippy -D warnings"
	@echo "make analysis      make slither + make halmos (CI runs it after make test and make lint)"
	@echo "make slither       static analysis of contracts/; fails on an untriaged High/Medium finding"
	@echo "make halmos        symbolic tests in test/halmos (escrow accounting, claim window, TimeLib)"
	@echo "make fmt           format Solidity and Rust"
	@echo "make gas-snapshot  re-record snapshots/ from test/bench"
	@echo "make install       npm install of the locked tree (only when package-lock.json changed), check for cargo"
	@echo "make clean         remove build outputs"

# ---------------------------------------------------------------- toolchain

install: $(NPM_STAMP) check-cargo
	@for tool in $(FORGE) $(ANVIL) $(CAST); do \
		test -x "$$tool" || { echo "error: $$tool missing; rm -rf node_modules && make install" >&2; exit 1; }; \
	done

# Not `npm ci`: it refuses package-lock.json, which lacks the @foundry-rs launchers' optional
# binaries for other platforms (the registry it was locked against does not serve them). `npm
# install --no-save` installs the same locked tree and never rewrites the lockfile.
# --ignore-scripts: those launchers' postinstall would download a binary if the platform package
# were missing; ours are pinned in package.json, so nothing is fetched outside npm.
$(NPM_STAMP): package-lock.json
	npm install --no-save --ignore-scripts --prefer-offline --no-audit --no-fund
	@touch $@

check-cargo:
	@command -v cargo >/dev/null || { \
		echo "error: cargo not found; install Rust with rustup (https://rustup.rs)" >&2; exit 1; }

# ---------------------------------------------------------------- build and test

build: install
	$(FORGE) build
	cargo build --workspace $(CARGO_FLAGS)

# Stops at the first failing step, so the exit status is non-zero if anything fails. forge's
# tests and cargo's run side by side (script/parallel.sh): forge compiles with solc-js on one core
# for most of its run, and cargo has the other. The contracts are built first, since the Rust
# bindings read their artifacts (PROOFLINE_CONTRACTS_BUILT keeps cargo's build script from running
# a second forge over the same out/). forge runs niced: the node's end-to-end tests in cargo's
# share keep real-time slots on a real anvil.
test: install
	$(FORGE) build contracts
	PROOFLINE_CONTRACTS_BUILT=1 script/parallel.sh \
		"forge tests" "nice -n 10 $(MAKE) --no-print-directory test-forge" \
		"cargo tests" "$(MAKE) --no-print-directory test-cargo"
	$(MAKE) --no-print-directory test-selfcheck
	$(MAKE) --no-print-directory test-devnet

# foundry.toml turns gas_snapshot_check on: a benchmark that drifts from snapshots/ fails here.
test-forge: install
	$(FORGE) test

test-cargo: install
	cargo test --workspace $(CARGO_FLAGS)

# Proves the forge binary we call fails when a test fails (and passes when it passes), from a
# throwaway test tree outside test/ with its own out/ and cache/, so nothing of the project's
# build is touched. Only the throwaway test is compiled, without via-IR to keep it quick.
define SELFCHECK_TEST
// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

contract SelfCheckTest is Test {
    function test_selfcheck_passes() public pure {
        assertEq(uint256(1), 1);
    }

    function test_selfcheck_fails() public pure {
        assertEq(uint256(1), 2, "this test fails on purpose");
    }
}
endef
export SELFCHECK_TEST

test-selfcheck: install
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/test" "$$tmp/src"; \
	printf '%s\n' "$$SELFCHECK_TEST" >"$$tmp/test/SelfCheck.t.sol"; \
	run_forge() { \
		FOUNDRY_SRC="$$tmp/src" FOUNDRY_TEST="$$tmp/test" FOUNDRY_SCRIPT="$$tmp/src" \
		FOUNDRY_OUT="$$tmp/out" FOUNDRY_CACHE_PATH="$$tmp/cache" FOUNDRY_VIA_IR=false \
		$(FORGE) test --match-path "$$tmp/test/*" "$$@" >"$$tmp/log" 2>&1; \
	}; \
	if ! run_forge --match-test test_selfcheck_passes; then \
		cat "$$tmp/log"; echo "test-selfcheck: a passing test made forge fail" >&2; exit 1; \
	fi; \
	grep -q "\[PASS\] test_selfcheck_passes" "$$tmp/log" || { \
		cat "$$tmp/log"; echo "test-selfcheck: the passing test did not run" >&2; exit 1; }; \
	if run_forge --match-test test_selfcheck_fails; then \
		cat "$$tmp/log"; echo "test-selfcheck: forge exited 0 although a test failed" >&2; exit 1; \
	fi; \
	grep -q "\[FAIL.*test_selfcheck_fails" "$$tmp/log" || { \
		cat "$$tmp/log"; echo "test-selfcheck: forge failed, but not because of the test" >&2; exit 1; }; \
	echo "test-selfcheck: ok: $(FORGE) exits non-zero when a test fails"

test-devnet: install
	script/test-devnet.sh

# ---------------------------------------------------------------- style

# forge lint reports (it does not fail the build): the casts and shifts it flags in contracts/ and
# test/ are bounded by construction, see foundry.toml.
# clippy and the static analysis (slither, halmos) run side by side, as in `make test`.
lint: install
	$(FORGE) fmt --check
	$(FORGE) lint
	cargo fmt --all --check
	script/parallel.sh \
		"clippy" "cargo clippy --workspace --all-targets $(CARGO_FLAGS) -- -D warnings" \
		"analysis" "$(MAKE) --no-print-directory analysis"

fmt: install
	$(FORGE) fmt
	cargo fmt --all

gas-snapshot: install
	FORGE_SNAPSHOT_CHECK=false $(FORGE) test --match-path 'test/bench/*'

# ---------------------------------------------------------------- static analysis, symbolic tests

# slither and halmos (pinned, with their solvers, in tools/requirements-analysis.txt) live in a
# project-local virtualenv, created only when missing or when the requirements change.
PYTHON ?= python3
ANALYSIS_VENV := .venv-analysis
ANALYSIS_REQS := tools/requirements-analysis.txt
ANALYSIS_STAMP := $(ANALYSIS_VENV)/.installed
# Each tool builds into its own out/ and cache/ (slither's build is a --force rebuild).
ANALYSIS_DIR := .analysis
# crytic-compile and halmos run `forge` from PATH: put our pinned binary first. The venv's bin stays
# off PATH (it holds solc-select's `solc` shim, which downloads compilers); foundry.toml's solc
# wrapper does all the compiling, and halmos gets the venv's z3 by its full path.
ANALYSIS_PATH = $(abspath $(dir $(FORGE))):$$PATH
HALMOS_TIMEOUT ?= 900
SLITHER_GATE_FLAGS ?=

# slither and the two halmos groups side by side (each mostly one solver or compiler process).
analysis: install $(ANALYSIS_STAMP)
	script/parallel.sh "slither" "$(MAKE) --no-print-directory slither" \
		"halmos escrow" "$(MAKE) --no-print-directory halmos-escrow" \
		"halmos time" "$(MAKE) --no-print-directory halmos-time"

analysis-venv: $(ANALYSIS_STAMP)

$(ANALYSIS_STAMP): $(ANALYSIS_REQS)
	rm -rf $(ANALYSIS_VENV)
	$(PYTHON) -m venv $(ANALYSIS_VENV)
	$(ANALYSIS_VENV)/bin/pip install --quiet --disable-pip-version-check --no-input -r $(ANALYSIS_REQS)
	@touch $@

# slither on contracts/ (slither.config.json); tools/slither_gate.py then fails on any High or
# Medium finding not triaged in tools/slither-triage.json and docs/static-analysis.md, and on any
# function of contracts/ slither could not analyse (its log says so; the JSON report does not).
slither: install $(ANALYSIS_STAMP)
	rm -rf $(ANALYSIS_DIR)/slither && mkdir -p $(ANALYSIS_DIR)/slither
	PATH="$(ANALYSIS_PATH)" FOUNDRY_OUT=$(ANALYSIS_DIR)/slither/out \
		FOUNDRY_CACHE_PATH=$(ANALYSIS_DIR)/slither/cache \
		$(ANALYSIS_VENV)/bin/slither . --config-file slither.config.json --fail-none \
		--json $(ANALYSIS_DIR)/slither/report.json 2>&1 | tee $(ANALYSIS_DIR)/slither/slither.log
	$(ANALYSIS_VENV)/bin/python tools/slither_gate.py $(ANALYSIS_DIR)/slither/report.json \
		tools/slither-triage.json --log $(ANALYSIS_DIR)/slither/slither.log $(SLITHER_GATE_FLAGS)

# halmos builds only contracts/ and test/halmos and runs every check_ function; a counterexample,
# a solver timeout or an error fails the target. halmos explores paths with z3 (in process); the
# assertion queries go to the solver that decides them fastest: yices for the escrow accounting,
# Bitwuzla for the slot/epoch division arithmetic (z3 times out on both; see docs/static-analysis.md).
# The escrow checks get 200 ms per branch-feasibility query (halmos' default is 1 ms): with the
# default, a loaded machine times out on branches, the explored paths change from run to run, and
# one such run reported a counterexample the next runs did not (docs/static-analysis.md). It also
# halves their time (fewer infeasible paths). The time checks keep the default: with 200 ms they
# ran past 15 minutes on a loaded machine.
halmos_run = PATH="$(ANALYSIS_PATH)" FOUNDRY_OUT=$(ANALYSIS_DIR)/$(1)/out \
	FOUNDRY_CACHE_PATH=$(ANALYSIS_DIR)/$(1)/cache FOUNDRY_TEST=test/halmos FOUNDRY_SCRIPT=test/halmos \
	timeout $(HALMOS_TIMEOUT) $(ANALYSIS_VENV)/bin/halmos --root . --forge-build-out $(ANALYSIS_DIR)/$(1)/out \
	--loop 4 --solver-timeout-assertion 300s
HALMOS_YICES := $(abspath $(ANALYSIS_VENV))/bin/yices-smt2 --smt2-model-format --bvconst-in-decimal
HALMOS_BITWUZLA := $(abspath $(ANALYSIS_VENV))/bin/python $(abspath tools/bitwuzla_smt2.py)

halmos: halmos-escrow halmos-time

# Each group builds into its own out/ and cache/, so `make analysis` can run them side by side.
halmos-escrow: install $(ANALYSIS_STAMP)
	$(call halmos_run,halmos-escrow) --contract EscrowSymbolicTest --solver-timeout-branching 200ms \
		--solver-command "$(HALMOS_YICES)"

halmos-time: install $(ANALYSIS_STAMP)
	$(call halmos_run,halmos-time) --match-contract '^(?!EscrowSymbolicTest$$)' \
		--solver-command "$(HALMOS_BITWUZLA)"

# ---------------------------------------------------------------- devnet

devnet: install
	script/devnet.sh

# Each scenario deploys its own anvil and agents and runs for minutes in real time (4 s slots,
# 6-slot epochs), so it is kept out of `make test` and CI. With PROOFLINE_CONTRACTS_BUILT set,
# out/ is taken as current (as cargo's build script does).
SCENARIO ?= all
scenarios: install
	[[ -n "$${PROOFLINE_CONTRACTS_BUILT:-}" ]] || $(FORGE) build contracts
	PROOFLINE_CONTRACTS_BUILT=1 cargo build -p proofline $(CARGO_FLAGS)
	target/debug/proofline scenario $(SCENARIO) --out-dir docs/scenarios

clean:
	rm -rf out cache broadcast .devnet target .analysis
