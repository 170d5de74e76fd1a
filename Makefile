# Two commands do all set-up on a fresh clone (README.md): `make synth` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
# checkov gets a venv of its own: its pins (packaging 23.2, boto3 1.35) conflict with the test set's.
SCAN_VENV := .venv-scan
# uv installs the sets and writes the locks. It is itself pinned with hashes (requirements/uv.txt)
# and lives in a venv of its own, so that .venv holds the locked sets and nothing else.
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
# One hashed requirements file per dependency set, exported from uv.lock by `make lock`.
LOCKS := requirements
SYNC := $(UV) pip sync --quiet --require-hashes --strict

# cdktf 0.21 runs on Node 20, which jsii flags as end-of-life on every run; telemetry has no network here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
# Where the hashicorp/aws 5.100.0 filesystem mirror lives (a directory holding registry.terraform.io/).
export TF_PROVIDER_MIRROR ?= /opt/tf-plugins
# uv uses the interpreter found here and never downloads one.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: deps synth docs lint typecheck test test-unit test-tools test-roundtrip bench check lock lock-check clean

# -- installation (each stamp depends on its lock files, so a changed lock reinstalls) --------------

$(UV): $(LOCKS)/uv.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCKS)/uv.txt 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

# The runtime set alone: what `make synth` needs. `uv pip sync` makes the venv exactly the lock.
$(VENV)/.runtime.installed: $(LOCKS)/runtime.txt | $(UV)
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(SYNC) --python $(PY) $(LOCKS)/runtime.txt
	touch $@

# Runtime + test + lint sets together (the type checker has to see every import). Depends on the
# runtime stamp too: a runtime-only sync removes the tools, and this one then puts them back.
# The check set comes along: its tests are part of the suite.
$(VENV)/.dev.installed: $(VENV)/.runtime.installed $(LOCKS)/runtime.txt $(LOCKS)/test.txt $(LOCKS)/lint.txt $(LOCKS)/check.txt | $(UV)
	$(SYNC) --python $(PY) $(LOCKS)/runtime.txt $(LOCKS)/test.txt $(LOCKS)/lint.txt $(LOCKS)/check.txt
	touch $@

# Runtime + check sets: what `make check` needs (a runtime-only sync removes them; this puts them back).
$(VENV)/.check.installed: $(VENV)/.runtime.installed $(LOCKS)/runtime.txt $(LOCKS)/check.txt | $(UV)
	$(SYNC) --python $(PY) $(LOCKS)/runtime.txt $(LOCKS)/check.txt
	touch $@

$(SCAN_VENV)/.scan.installed: $(LOCKS)/scan.txt | $(UV)
	[ -x $(SCAN_VENV)/bin/python ] || $(PYTHON) -m venv $(SCAN_VENV)
	$(SYNC) --python $(SCAN_VENV)/bin/python $(LOCKS)/scan.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Everything `make test` needs: .venv (runtime + test + lint), .venv-scan (checkov), node_modules (cdktf CLI).
deps: $(VENV)/.dev.installed $(SCAN_VENV)/.scan.installed node_modules/.installed

# -- the two commands ---------------------------------------------------------------------------------

## Synthesize every stack from KARPENTER_CONFIG (default: the bundled example) into cdktf.out/.
## Installs the runtime set only; node_modules is there so that `npx cdktf deploy` works right after.
synth: $(VENV)/.runtime.installed node_modules/.installed
	$(PY) main.py

## The whole suite, in this order: lint, format check, type check, then every tier in one pytest run (unit, tools,
## roundtrip: see CONTRIBUTING.md, "Test tiers"), printing the 25 slowest steps. CI runs this (.ci/run).
test: deps
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy
	$(PYTEST) --durations=25

## Regenerate docs/configuration.md from the config model's field descriptions (a unit test fails while it is stale).
docs: $(VENV)/.runtime.installed
	$(PY) -m karpenter_model.reference

# -- parts of `make test` -----------------------------------------------------------------------------

## ruff's linter and its formatter in check mode (settings in pyproject.toml). Nothing is rewritten.
lint: $(VENV)/.dev.installed
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check

## mypy over main.py, the packages, scripts and tests (strict on karpenter_model; pyproject.toml).
typecheck: $(VENV)/.dev.installed
	$(VENV)/bin/mypy

## The unit tier: in-process tests only (no terraform, moto, cdktf CLI or other process; jsii's Node aside); under a minute.
test-unit: $(VENV)/.dev.installed
	$(PYTEST) -m unit --durations=10

## The tools tier: terraform init/validate, checkov, parliament, the cdktf CLI, main.py and other CLIs as processes.
test-tools: deps
	$(PYTEST) -m tools --durations=10

## The roundtrip tier: terraform apply/plan/destroy (and cdktf deploy/destroy) against moto.
test-roundtrip: deps
	$(PYTEST) -m roundtrip --durations=10

## After `cdktf deploy`: the live account and cluster against the synthesized stacks (AWS credentials,
## kubeconfig), one table of checks with their fixes; exit 1 if any fails. `make check CHECK_ARGS=--scale-test`.
check: $(VENV)/.check.installed
	$(PY) -m karpenter_check $(CHECK_ARGS)

## Time synth of all stacks: against the release-less baseline (d184739), the provider-loading floor, 200+200 node classes and pools, plain imports, the CLI; peak RSS, suite time; `.bench/results.json`. `BENCH_ARGS="--only core"` for the first four.
bench: deps
	$(PY) scripts/bench.py $(BENCH_ARGS)

# -- locks ----------------------------------------------------------------------------------------------

# Each set and the `uv export` options that select it from uv.lock.
SETS := runtime:--no-default-groups test:--only-group=test lint:--only-group=lint check:--only-group=check scan:--only-group=scan uv:--only-group=uv
# $(call export_sets,DIR): DIR/<set>.txt for every set, from uv.lock as it is (no resolution, no network).
export_sets = for spec in $(SETS); do set=$${spec%%:*}; \
	{ echo "\# The $$set set, every package pinned with its hashes. Written from uv.lock by \`make lock\`; do not edit."; \
	  $(UV) export --frozen --no-emit-project --no-header --quiet $${spec\#*:}; } > $(1)/$$set.txt; done

## Resolve pyproject.toml into uv.lock, keeping every pin that still satisfies it (`make lock UPGRADE=1`
## moves every package to the newest version allowed), then write requirements/<set>.txt for each set
## (only the files whose content changed, so only the affected venvs reinstall). Needs PyPI.
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)
	mkdir -p $(LOCKS)
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(call export_sets,$$tmp); \
	for file in "$$tmp"/*.txt; do cmp -s "$$file" $(LOCKS)/$${file##*/} || cp "$$file" $(LOCKS)/; done

## Fail if uv.lock does not satisfy pyproject.toml, or requirements/ differs from uv.lock (then: make lock).
lock-check: | $(UV)
	$(UV) lock --check
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(call export_sets,$$tmp); diff -ru $(LOCKS) "$$tmp"

clean:
	rm -rf cdktf.out cdktf.out.* .pytest_cache .mypy_cache .ruff_cache build *.egg-info
