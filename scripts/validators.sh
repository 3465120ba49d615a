#!/usr/bin/env bash
# Installs the external validators the browser journeys run (tests/e2e/validators.py): pa11y
# with its HTML_CodeSniffer runner, and the Nu Html Checker (npm package vnu-jar, run with
# Java), pinned by tests/e2e/validators/package-lock.json, into a cache folder once per
# version of the lock file, linked as tests/e2e/validators/node_modules. Never downloads a
# browser: pa11y drives Debian's Chromium. Several test processes may call it at once (flock).
# INCUBATEUR_CACHE_DIR chooses the cache folder (default ~/.cache/incubateur).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/e2e/validators

for tool in node npm java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool est introuvable : installez Node.js 20 ou plus récent, npm et Java (sudo apt-get install nodejs npm default-jre-headless)." >&2
    exit 1
  fi
done

lock_hash=$(sha256sum "$dir/package-lock.json" | cut -c1-16)
cache="${INCUBATEUR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/incubateur}/validators-$lock_hash"
mkdir -p "$cache"
(
  flock 9
  if [ ! -f "$cache/.installed" ]; then
    echo "== Installation des validateurs (pa11y, Nu Html Checker : npm ci) dans $cache" >&2
    cp "$dir/package.json" "$dir/package-lock.json" "$cache/"
    (cd "$cache" && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 \
      PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 \
      npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    touch "$cache/.installed"
  fi
  ln -sfn "$cache/node_modules" "$dir/node_modules"
) 9>"$cache.lock"
