#!/usr/bin/env bash
# OpenID Connect interop suite: authbridge as the provider, real relying parties as its clients:
# Auth.js v5 (@auth/core), oauth4webapi, Better Auth, and Debian's headless Chromium (playwright-
# core) with axe-core on the provider's pages; two instances on one PostgreSQL; the security rules.
#   AUTHBRIDGE_BIN   authbridge binary (default: <repo>/target/debug/authbridge)
#   CHROMIUM         browser binary (default: /usr/bin/chromium, apt-get installed when missing)
#   BUILD=1          run `cargo build -p authbridge` first
#   INTEROP_BACKEND  sqlite (default) or postgres: every authbridge the tests start gets a fresh
#                    database of its own on TEST_DATABASE_URL's server (created, then dropped)
#   SCREENSHOTS=1    write docs/img/oidc-*.png (the browser test; scripts/test does not)
# Extra arguments go to `node --test` (e.g. --test-name-pattern=PKCE).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

if [[ "${BUILD:-0}" == "1" ]]; then
  (cd "$repo" && cargo build -p authbridge)
fi
export AUTHBRIDGE_BIN="${AUTHBRIDGE_BIN:-$repo/target/debug/authbridge}"
if [[ ! -x "$AUTHBRIDGE_BIN" ]]; then
  echo "authbridge binary not found at $AUTHBRIDGE_BIN (build it: cargo build -p authbridge, or BUILD=1 $0)" >&2
  exit 2
fi

# PostgreSQL databases are created through the venv's psycopg (interop/shared/db.mjs).
if [[ "${INTEROP_BACKEND:-sqlite}" == postgres ]]; then
  "$repo/scripts/setup-python"
fi

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
    echo "CHROMIUM=$CHROMIUM is not executable" >&2
    exit 2
  fi
  echo "installing Debian's chromium (apt-get)" >&2
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
fi

if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

# One test file at a time: each file starts its own authbridge (2-core machines).
node --test --test-concurrency=1 "$@" test/*.test.mjs
