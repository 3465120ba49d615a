#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): PostgreSQL, Chromium, and OpenLDAP's
# server and tools (the directory sync tests start their own slapd on a free port, with a
# configuration of their own: a system slapd the package may start is never used).
# Only when missing, and only as root; otherwise says what to install and fails.
set -euo pipefail

missing=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
{ command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; } && [ -f /etc/ldap/schema/inetorgperson.schema ] \
  || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldap-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Paquets système manquants : ${missing[*]}. Installez-les (sudo apt-get install ${missing[*]}) puis relancez make test." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Paquets système manquants : ${missing[*]} (apt-get introuvable : installez-les avec le gestionnaire de paquets du système)." >&2
  exit 1
fi
echo "== Installation des paquets système : ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
