#!/usr/bin/env bash
# The whole suite: SQLite, then PostgreSQL, then the browser journeys. Any failure fails.
# Each phase says how long it took, and the run its total (also when a phase fails).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest)  # the project folder first on sys.path

started=$SECONDS
durations=()
running=""  # the phase under way, named in the summary if it fails

minutes() { printf '%d min %d s' $(($1 / 60)) $(($1 % 60)); }

summary() {
  echo
  for line in "${durations[@]}"; do echo "   $line"; done
  [ -z "$running" ] || echo "   $running : échec après $(minutes $((SECONDS - phase_start)))"
  echo "Durée totale : $(minutes $((SECONDS - started)))"
}
trap summary EXIT

# phase "heading" command...: the heading, the command, then its duration.
phase() {
  running=$1 phase_start=$SECONDS
  shift
  echo
  echo "======== $running ========"
  "$@"
  durations+=("$running : $(minutes $((SECONDS - phase_start)))")
  echo "-- Durée : $(minutes $((SECONDS - phase_start)))"
  running=""
}

phase "Audit des dépendances (pip-audit)" .venv/bin/python scripts/dependency_audit.py
phase "1/3 Suite complète sur SQLite" bash scripts/suite.sh
phase "2/3 Suite complète sur PostgreSQL" bash scripts/with-postgres.sh bash scripts/suite.sh
# Two processes, each with its own server, database and Chromium (the journeys are independent):
# the validators of each page (tests/e2e/validators.py) keep the browser busy while the other
# process waits on its server.
phase "3/3 Parcours dans le navigateur (Chromium) et validateurs" "${PYTEST[@]}" tests/e2e -p no:cacheprovider \
  -n "${TEST_WORKERS:-2}"

echo
echo "Tous les tests sont passés : SQLite, PostgreSQL et navigateur."
