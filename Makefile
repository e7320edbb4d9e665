# Two commands matter: `make report` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Real Quarto built from its own source (machines without Quarto's installer: CI here).
QUARTO_SOURCE  ?= ../shared/tools/quarto
QUARTO_VERSION := 1.10.18
QUARTO_DIR     := build/quarto

.PHONY: help venv quarto report report-of-record preview results test test-fast bench lint system-deps clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)  # keep a venv that exists
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install the project with its test tools

quarto:  ## build Quarto $(QUARTO_VERSION) into build/quarto from ../shared/tools/quarto (kept once it runs)
	@# Asking the built Quarto its version, not testing for a file: a build that stopped half
	@# way leaves bin/quarto behind, and is built again.
	@if $(QUARTO_DIR)/bin/quarto --version 2>/dev/null | grep -qx '$(QUARTO_VERSION)'; then \
	  echo "Quarto $(QUARTO_VERSION) already built in $(QUARTO_DIR)"; \
	else \
	  bash $(QUARTO_SOURCE)/build.sh $(QUARTO_DIR); \
	fi

report: venv  ## train the quick profile, then build and render _site/report/ (HTML + PDF)
	$(BIN)/polarity report --profile quick

report-of-record: venv  ## build and render from the committed results in report/results (no training)
	$(BIN)/polarity build
	$(BIN)/polarity render

preview: venv  ## serve the report on http://127.0.0.1:4848/, rebuilding and reloading on every change
	$(BIN)/polarity preview

results: venv  ## retrain the full profile: the results of record in report/results
	$(BIN)/polarity run --profile full

# pytest-xdist: one worker per core (at most 4); a rendered project's tests share a worker.
PYTEST := $(BIN)/python -m pytest --numprocesses=auto --maxprocesses=4 --dist=loadgroup

test: venv  ## run the test suite
	$(PYTEST)

test-fast: venv  ## the test suite without the tests marked slow (about 30 s; a minute on slower CPUs)
	$(PYTEST) -m "not slow"

bench: venv  ## the benchmarks in benchmarks/: runner vs. plain Keras, then the fast loop's waits on a fresh clone
	$(BIN)/python -m benchmarks.softmax_trials
	$(BIN)/python -m benchmarks.ensemble_scaling
	$(BIN)/python -m benchmarks.convnet_epoch
	$(BIN)/python -m benchmarks.loop

lint: venv  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

system-deps:  ## Debian/Ubuntu, as root: Chromium and poppler for the browser and PDF tests, Fashion-MNIST
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils dataset-fashion-mnist

clean:  ## remove generated files (keeps .venv and the committed results)
	rm -rf build _site report/index.qmd report/figures report/tables report/claims.json .quarto
