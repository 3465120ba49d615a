#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): PostgreSQL, Chromium, systemd-analyze,
# Node.js with npm (the OpenID Connect provider the single sign-on tests start, scripts/oidc-provider.sh).
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
