# Incubateur — two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PORT ?= 5000

.PHONY: run test install install-test lock test-sqlite test-postgres test-browser lint bench clean-venv

# Dependencies come from the hashed lock files in requirements/ (made by `make lock` from
# pyproject.toml): run.txt is what serving needs, test.txt adds the test tools. The project
# itself is not installed: commands run from this folder (`flask --app wsgi`, `wsgi:app`).
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
PIP_INSTALL := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 ou plus récent est requis." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: $(RUN_LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -r $(RUN_LOCK)
	@touch $@

# test.txt holds every runtime pin of run.txt too (tests/core/test_locks.py checks it).
$(VENV)/.test-installed: $(TEST_LOCK) $(RUN_LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -r $(TEST_LOCK)
	@touch $@

install: $(VENV)/.run-installed
install-test: $(VENV)/.test-installed

## make run: install, migrate and seed the SQLite database in instance/, serve on http://127.0.0.1:$(PORT)
run: install
	@PORT=$(PORT) bash scripts/run.sh

## make test: SQLite, then PostgreSQL (throw-away cluster), then the browser journeys
test: install-test
	@bash scripts/system-deps.sh
	@bash scripts/oidc-provider.sh
	@bash scripts/validators.sh
	@bash scripts/test.sh

## make test-sqlite, make test-postgres: one phase (two processes, then the `serial` tests)
test-sqlite: install-test
	@bash scripts/suite.sh

test-postgres: install-test
	@bash scripts/with-postgres.sh bash scripts/suite.sh

test-browser: install-test
	@bash scripts/validators.sh
	$(VENV)/bin/pytest tests/e2e

## make bench: the benchmark at scale (not part of make test), see bench/README.md
##   BENCH_SCALE=small|medium|full (default full), BENCH_DB=sqlite|postgres (default sqlite)
bench: install-test
	@if [ "$${BENCH_DB:-sqlite}" = postgres ] && [ -z "$${BENCH_DATABASE_URL:-}" ]; then \
	  bash scripts/system-deps.sh && bash scripts/with-postgres.sh $(VENV)/bin/python -m bench; \
	else \
	  $(VENV)/bin/python -m bench; \
	fi

lint: install-test
	$(VENV)/bin/ruff check incubator tests

## make lock: the lock files again from pyproject.toml (after a change of its dependencies);
##   versions already locked are kept unless UPGRADE=1 (then the newest allowed ones).
lock: $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(VENV)/bin/python -m uv pip compile pyproject.toml --universal --python-version 3.11 \
	  --generate-hashes $(if $(UPGRADE),--upgrade) --output-file $(RUN_LOCK)
	$(VENV)/bin/python -m uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes $(if $(UPGRADE),--upgrade) --constraint $(RUN_LOCK) --output-file $(TEST_LOCK)

clean-venv:
	rm -rf $(VENV)
