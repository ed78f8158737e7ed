#!/usr/bin/env bash
# Installs the clients from outside authd that interop/ tests drive, each from
# its registry, into a cache outside the work tree (AUTHD_INTEROP_CACHE,
# default ~/.cache/authd-interop), so a second run costs nothing:
#   - the npm packages pinned in js/package-lock.json (npm ci), linked as js/node_modules
#   - oauth2-proxy, built from the Go module proxy (go install)
#   - promtool, likewise (deploy/ runs the alert rules' unit tests with it)
#   - Debian's chromium, only if it is missing (needs root; apt-get)
# .ci/run calls it; run it yourself before `go test ./interop/` to get the tests
# that would otherwise skip.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=versions.env
. ./versions.env
cache=${AUTHD_INTEROP_CACHE:-$HOME/.cache/authd-interop}
mkdir -p "$cache"

took() { printf '%s: %ss\n' "$1" "$(($(date +%s) - $2))"; }

# npm: one folder per lockfile content, filled once.
start=$(date +%s)
key=$(cat js/package.json js/package-lock.json | sha256sum | cut -c1-16)
npmdir=$cache/npm-$key
if [ ! -f "$npmdir/.complete" ]; then
  rm -rf "$npmdir"
  mkdir -p "$npmdir"
  cp js/package.json js/package-lock.json "$npmdir/"
  # No package here needs an install script; none may run.
  (cd "$npmdir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$npmdir/.complete"
fi
if [ -e js/node_modules ] && [ ! -L js/node_modules ]; then
  rm -rf js/node_modules # an earlier plain npm install; the cache replaces it
fi
ln -sfn "$npmdir/node_modules" js/node_modules
took "npm packages ($npmdir)" "$start"

# oauth2-proxy from the Go module proxy, with its version stamped in as its
# release builds do.
start=$(date +%s)
bin=$cache/oauth2-proxy-$OAUTH2_PROXY_VERSION/oauth2-proxy
if [ ! -x "$bin" ]; then
  tmp=$(mktemp -d "$cache/build.XXXXXX")
  GOBIN=$tmp GOFLAGS=-buildvcs=false go install \
    -ldflags "-X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$OAUTH2_PROXY_VERSION" \
    "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION"
  mkdir -p "$(dirname "$bin")"
  mv "$tmp/oauth2-proxy" "$bin"
  rmdir "$tmp"
fi
took "oauth2-proxy $OAUTH2_PROXY_VERSION ($bin)" "$start"

# promtool from the Go module proxy (a large build, once per version).
start=$(date +%s)
bin=$cache/promtool-$PROMTOOL_VERSION/promtool
if [ ! -x "$bin" ]; then
  tmp=$(mktemp -d "$cache/build.XXXXXX")
  GOBIN=$tmp GOFLAGS=-buildvcs=false go install -ldflags "-s -w" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
  mkdir -p "$(dirname "$bin")"
  mv "$tmp/promtool" "$bin"
  rmdir "$tmp"
fi
took "promtool $PROMTOOL_VERSION ($bin)" "$start"

# Chromium for the single-page-app test (playwright-core drives it; it never
# downloads a browser of its own).
start=$(date +%s)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing and installing it needs root: apt-get install --no-install-recommends chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
took "chromium ($(chromium --version 2>/dev/null || echo missing))" "$start"
