# Incubateur — two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PORT ?= 5000

.PHONY: run test install test-sqlite test-postgres test-browser lint bench clean-venv

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 ou plus récent est requis." >&2; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

install: $(VENV)/.installed

## make run: install, migrate and seed the SQLite database in instance/, serve on http://127.0.0.1:$(PORT)
run: install
	@PORT=$(PORT) bash scripts/run.sh

## make test: SQLite, then PostgreSQL (throw-away cluster), then the browser journeys
test: install
	@bash scripts/system-deps.sh
	@bash scripts/test.sh

## make test-sqlite, make test-postgres: one phase (two processes, then the `serial` tests)
test-sqlite: install
	@bash scripts/suite.sh

test-postgres: install
	@bash scripts/with-postgres.sh bash scripts/suite.sh

test-browser: install
	$(VENV)/bin/pytest tests/e2e

## make bench: the benchmark at scale (not part of make test), see bench/README.md
##   BENCH_SCALE=small|medium|full (default full), BENCH_DB=sqlite|postgres (default sqlite)
bench: install
	@if [ "$${BENCH_DB:-sqlite}" = postgres ] && [ -z "$${BENCH_DATABASE_URL:-}" ]; then \
	  bash scripts/system-deps.sh && bash scripts/with-postgres.sh $(VENV)/bin/python -m bench; \
	else \
	  $(VENV)/bin/python -m bench; \
	fi

lint: install
	$(VENV)/bin/ruff check incubator tests

clean-venv:
	rm -rf $(VENV)
