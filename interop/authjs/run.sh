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
# shellcheck source=../shared/prepare.sh
. "$repo/interop/shared/prepare.sh"

prepare_binary
# Django's own JWTAuthentication checks the tokens Auth.js ends up with (test/signin.test.mjs).
"$repo/scripts/setup-python"

prepare_npm

# One test file at a time: each file starts its own authbridge (2-core machines).
status=0
node --test --test-concurrency=1 "$@" test/*.test.mjs || status=$?
exit "$status"
