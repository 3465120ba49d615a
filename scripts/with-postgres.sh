#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL cluster on a free local port:
# TEST_DATABASE_URL points at it; the cluster is stopped and removed afterwards.
# TEST_PG_CTL (the pg_ctl command, as the cluster's owner), TEST_PG_DATA and TEST_PG_LOG
# let a test restart the server (tests/concurrency/test_failures.py).
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "ÉCHEC : PostgreSQL est introuvable (paquet Debian postgresql)." >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/incubateur-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: use the postgres system account.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  chown postgres "$workdir"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$workdir/data" -U incubateur --auth=trust -E UTF8 --locale=C.UTF-8 >"$workdir/initdb.log" 2>&1 \
  || { cat "$workdir/initdb.log" >&2; echo "ÉCHEC : initdb n'a pas pu créer le cluster PostgreSQL." >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 60 \
  -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" start >/dev/null \
  || { cat "$workdir/server.log" >&2; echo "ÉCHEC : le serveur PostgreSQL n'a pas démarré." >&2; exit 1; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U incubateur incubateur_test

echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') prêt sur 127.0.0.1:$port"
export TEST_DATABASE_URL="postgresql://incubateur@127.0.0.1:$port/incubateur_test"
export TEST_PG_CTL="${as_pg[*]} $pg_bin/pg_ctl" TEST_PG_DATA="$workdir/data" TEST_PG_LOG="$workdir/server.log"
"$@"
