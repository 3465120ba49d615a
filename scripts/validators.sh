#!/usr/bin/env bash
# Installs the external validators the browser journeys run (tests/e2e/validators.py): pa11y
# with its HTML_CodeSniffer runner, and the Nu Html Checker (npm package vnu-jar, run with
# Java), pinned by tests/e2e/validators/package-lock.json, into a cache folder once per
# version of the lock file, linked as tests/e2e/validators/node_modules. Never downloads a
# browser (no install scripts, Puppeteer told to skip): pa11y drives Debian's Chromium.
# See scripts/npm-cached.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/npm-cached.sh

require_tools "installez Node.js 20 ou plus récent, npm et Java (sudo apt-get install nodejs npm default-jre-headless)." \
  node npm java
npm_cached_install tests/e2e/validators validators "des validateurs (pa11y, Nu Html Checker)" \
  PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 \
  npm_config_ignore_scripts=true
