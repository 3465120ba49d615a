#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): PostgreSQL, Chromium, systemd-analyze,
# nginx, Node.js with npm (the OpenID Connect provider the single sign-on tests start,
# scripts/oidc-provider.sh, and pa11y: scripts/validators.sh), a Java runtime (the Nu Html
# Checker), and OpenLDAP's server and tools (the directory sync tests start
# their own slapd on a free port: a system slapd the package may start is never used).
# Only when missing, and only as root; otherwise says what to install and fails.
set -euo pipefail

missing=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
# systemd-analyze checks the units of deploy/systemd (tests/deploy/test_deploy_kit.py).
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# nginx: tests/deploy/test_nginx.py starts its own, in front of gunicorn. The Debian
# package `nginx` is the server itself (nginx-light only adds a module to it).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
{ command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; } && [ -f /etc/ldap/schema/inetorgperson.schema ] \
  || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldap-utils)
# Java runs the Nu Html Checker on the pages the browser journeys visit (scripts/validators.sh).
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
# pdftotext reads the printed documents' PDFs (tests/e2e/test_print_journeys.py).
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Paquets système manquants : ${missing[*]}. Installez-les (sudo apt-get install ${missing[*]}) puis relancez make test." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Paquets système manquants : ${missing[*]} (apt-get introuvable : installez-les avec le gestionnaire de paquets du système)." >&2
  exit 1
fi

# The tests start their own PostgreSQL cluster and nginx: the services these packages
# would start at installation are not needed, and may fail (port 80 taken, no init system
# in a container), which would fail the installation. A policy-rc.d answering 101
# ("action forbidden") keeps them stopped; one already there (containers) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Temporary, from incubateur scripts/system-deps.sh.\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "== Installation des paquets système : ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
