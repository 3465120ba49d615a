#!/usr/bin/env bash
# Installs the OpenID Connect provider the tests start (npm package oidc-provider, pinned by
# tests/oidc/provider/package-lock.json) into a cache folder, once per version of the lock
# file, and links it as tests/oidc/provider/node_modules. The tests call it when the link is
# missing (tests/oidc/provider.py). See scripts/npm-cached.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/npm-cached.sh

require_tools "installez Node.js 20 ou plus récent et npm (sudo apt-get install nodejs npm)." node npm
npm_cached_install tests/oidc/provider oidc-provider "du fournisseur OpenID Connect de test"
