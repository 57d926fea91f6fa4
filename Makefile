# The two set-up commands (contract): `make demo` and `make test`. Both create .venv when it
# is missing, install what they need — exactly what uv.lock pins — and are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SIM_PORT ?= 8765
SIZE ?= 2000
# uv installs the lock; it comes from PyPI into the virtualenv, at this version.
UV_VERSION := 0.13.10
UV := $(BIN)/uv
# uv syncs .venv, with the interpreter that created it (not one .python-version would pick,
# which says what Heroku runs), and never downloads a Python of its own.
UV_SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON=$(BIN)/python UV_PYTHON_DOWNLOADS=never \
	$(UV) sync --locked --no-progress --quiet

.PHONY: demo test lint audit lock bench mutation vendor clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.uv-$(UV_VERSION): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	rm -f $(VENV)/.uv-*
	touch $@

# The runtime packages; a .venv that has the test packages keeps them (uv sync removes
# whatever the lock does not list for the extras it is given).
$(VENV)/.runtime: pyproject.toml uv.lock | $(VENV)/.uv-$(UV_VERSION)
	$(UV_SYNC) $(if $(wildcard $(VENV)/.test),--extra test)
	touch $@

$(VENV)/.test: pyproject.toml uv.lock $(VENV)/.runtime
	$(UV_SYNC) --extra test
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

## make audit: every locked package against a vulnerability database (PyPI's by default;
## AUDIT_ARGS="--vulnerability-service osv" for OSV). Fails when none can be reached.
audit: $(VENV)/.test
	$(BIN)/python tools/audit.py $(AUDIT_ARGS)

## make lock: upgrade every locked package to the newest release pyproject.toml allows.
## (After editing pyproject.toml, `make lock` or, to change only what the edit needs,
## `.venv/bin/uv lock`.) Then `make test`, and commit uv.lock.
lock: | $(VENV)/.uv-$(UV_VERSION)
	UV_PYTHON=$(BIN)/python UV_PYTHON_DOWNLOADS=never $(UV) lock --upgrade

## make bench: the benchmarks under bench/ (not part of `make test`).
bench: $(VENV)/.test
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## make mutation: mutmut over the pure merge and change detection (webapp/sync/merge.py and
## views.py, [tool.mutmut] in pyproject.toml), killed by tests/sync/test_merge_unit.py alone;
## then lists the mutants that survived (`mutmut show NAME` shows one). Not part of `make test`.
mutation: $(VENV)/.test
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

## make vendor: refresh Bootstrap and Alpine.js (CSP build) from the npm registry.
vendor:
	bash static/vendor/refresh.sh

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache mutants
