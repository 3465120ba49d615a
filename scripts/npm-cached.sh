#!/usr/bin/env bash
# Sourced by the scripts that install an npm tool the tests start (oidc-provider.sh,
# validators.sh). npm_cached_install DIR NAME LABEL [ENV=VALUE...]: `npm ci` of DIR's
# package.json and package-lock.json into a cache folder, once per version of the lock file,
# linked as DIR/node_modules. Several test processes may call it at once (flock).
# INCUBATEUR_CACHE_DIR chooses the cache folder (default ~/.cache/incubateur).

require_tools() {  # require_tools "message" tool...
  local message=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$tool est introuvable : $message" >&2
      exit 1
    fi
  done
}

npm_cached_install() {
  local dir=$1 name=$2 label=$3
  shift 3
  local lock_hash cache
  lock_hash=$(sha256sum "$dir/package-lock.json" | cut -c1-16)
  cache="${INCUBATEUR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/incubateur}/$name-$lock_hash"
  mkdir -p "$cache"
  (
    flock 9
    if [ ! -f "$cache/.installed" ]; then
      echo "== Installation $label (npm ci) dans $cache" >&2
      cp "$dir/package.json" "$dir/package-lock.json" "$cache/"
      (cd "$cache" && env "$@" npm ci --no-audit --no-fund --loglevel=error >&2)
      touch "$cache/.installed"
    fi
    # Another test process may already be running the tool through the link: replace it
    # only when it points elsewhere, and atomically (never a moment without it).
    if [ "$(readlink "$dir/node_modules" 2>/dev/null)" != "$cache/node_modules" ]; then
      [ -L "$dir/node_modules" ] || rm -rf "$dir/node_modules"  # an install of an older layout
      ln -sfn "$cache/node_modules" "$dir/node_modules.$$"
      mv -Tf "$dir/node_modules.$$" "$dir/node_modules"
    fi
  ) 9>"$cache.lock"
}
