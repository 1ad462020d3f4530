#!/usr/bin/env bash
# Auth.js interop suite: real @auth/core (v5) and next-auth@4 against a live authbridge.
#   AUTHBRIDGE_BIN   authbridge binary (default: <repo>/target/debug/authbridge)
#   BUILD=1          run `cargo build -p authbridge` first
#   INTEROP_BACKEND  sqlite (default) or postgres: every authbridge the tests start gets a fresh
#                    database of its own on TEST_DATABASE_URL's server (created, then dropped)
# Extra arguments go to `node --test` (e.g. --test-name-pattern=CSRF).
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

# Django's own JWTAuthentication checks the tokens Auth.js ends up with (test/signin.test.mjs).
"$repo/scripts/setup-python"

if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

# One test file at a time: each file starts its own authbridge (2-core machines).
status=0
node --test --test-concurrency=1 "$@" test/*.test.mjs || status=$?
exit "$status"
