#!/usr/bin/env bash
# The suite outside the browser, on the database of the environment (SQLite, or PostgreSQL
# when TEST_DATABASE_URL is set): on TEST_WORKERS processes (pytest-xdist, 2 by default),
# each with a database of its own (tests/conftest.py), then the tests marked `serial` alone:
# they restart PostgreSQL or measure durations, which other tests running beside would break.
# Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest)  # the project folder first on sys.path

"${PYTEST[@]}" --ignore=tests/e2e -p no:cacheprovider -n "${TEST_WORKERS:-2}" -m "not serial" "$@"
echo "-- Tests « serial », seuls :"
"${PYTEST[@]}" --ignore=tests/e2e -p no:cacheprovider -m serial "$@"
