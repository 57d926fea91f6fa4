# The two set-up commands (contract): `make demo` and `make test`. Both create .venv when it
# is missing, install what they need, and are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SIM_PORT ?= 8765
SIZE ?= 2000

.PHONY: demo test lint bench vendor clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.runtime

## make demo: everything on this laptop — SQLite, in-process worker, QuickBooks simulator.
demo: $(VENV)/.runtime
	$(BIN)/qbsync demo --port $(PORT) --sim-port $(SIM_PORT) --size $(SIZE)

## make test: lint, then the whole test-suite (PostgreSQL and Redis tests need those servers).
test: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .

## make bench: the benchmarks under bench/ (not part of `make test`).
bench: $(VENV)/.test
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## make vendor: refresh Bootstrap and Alpine.js (CSP build) from the npm registry.
vendor:
	bash static/vendor/refresh.sh

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
