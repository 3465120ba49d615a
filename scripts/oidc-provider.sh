#!/usr/bin/env bash
# Installs the OpenID Connect provider the tests start (npm package oidc-provider, pinned by
# tests/oidc/provider/package-lock.json) into a cache folder, once per version of the lock
# file, and links it as tests/oidc/provider/node_modules. The tests call it when the link is
# missing (tests/oidc/provider.py); several test processes may call it at once (flock).
# INCUBATEUR_CACHE_DIR chooses the cache folder (default ~/.cache/incubateur).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/oidc/provider

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool est introuvable : installez Node.js 20 ou plus récent et npm (sudo apt-get install nodejs npm)." >&2
    exit 1
  fi
done

lock_hash=$(sha256sum "$dir/package-lock.json" | cut -c1-16)
cache="${INCUBATEUR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/incubateur}/oidc-provider-$lock_hash"
mkdir -p "$cache"
(
  flock 9
  if [ ! -f "$cache/.installed" ]; then
    echo "== Installation du fournisseur OpenID Connect de test (npm ci) dans $cache" >&2
    cp "$dir/package.json" "$dir/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$cache/.installed"
  fi
  ln -sfn "$cache/node_modules" "$dir/node_modules"
) 9>"$cache.lock"
