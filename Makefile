# Two commands do all set-up on a fresh clone (README): `make synth` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest

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

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

## Synthesize every stack from KARPENTER_CONFIG (default: the bundled example) into cdktf.out/.
synth: deps
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

clean:
	rm -rf cdktf.out cdktf.out.* .pytest_cache
