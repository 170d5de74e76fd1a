# Two commands do all set-up on a fresh clone (README): `make synth` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
# checkov gets a venv of its own: its pins (packaging 23.2) conflict with pytest 9's.
SCAN_VENV := .venv-scan

# cdktf 0.21 runs on Node 20, which jsii flags as end-of-life on every run; telemetry has no network here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
# Where the hashicorp/aws 5.100.0 filesystem mirror lives (a directory holding registry.terraform.io/).
export TF_PROVIDER_MIRROR ?= /opt/tf-plugins

.PHONY: deps synth test test-unit test-roundtrip clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed $(SCAN_VENV)/.installed node_modules/.installed

## Synthesize every stack from KARPENTER_CONFIG (default: the bundled example) into cdktf.out/.
## Needs no scanner; node_modules is there so that `npx cdktf deploy` works right after.
synth: $(VENV)/.installed node_modules/.installed
	$(PY) main.py

## The whole suite: unit, snapshot, terraform validate, and the terraform round trip against moto.
test: deps
	$(PYTEST)

## Fast feedback: everything but the round trip against moto.
test-unit: deps
	$(PYTEST) -m "not roundtrip"

## Only the round trip: terraform init/apply/plan/destroy of the infra stack against moto.
test-roundtrip: deps
	$(PYTEST) -m roundtrip

## Time synth of all stacks (fast vs plain provider imports, main.py and npx cdktf synth), peak RSS, suite time; writes .bench/results.json.
.PHONY: bench
bench: deps
	$(PY) scripts/bench.py

clean:
	rm -rf cdktf.out cdktf.out.* .pytest_cache
