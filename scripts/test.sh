#!/usr/bin/env bash
# The whole suite: SQLite, then PostgreSQL, then the browser journeys. Any failure fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest

echo
echo "======== Audit des dépendances (pip-audit) ========"
.venv/bin/python scripts/dependency_audit.py

echo
echo "======== 1/3 Suite complète sur SQLite ========"
$PYTEST --ignore=tests/e2e -p no:cacheprovider

echo
echo "======== 2/3 Suite complète sur PostgreSQL ========"
bash scripts/with-postgres.sh $PYTEST --ignore=tests/e2e -p no:cacheprovider

echo
echo "======== 3/3 Parcours dans le navigateur (Chromium) ========"
$PYTEST tests/e2e -p no:cacheprovider

echo
echo "Tous les tests sont passés : SQLite, PostgreSQL et navigateur."
