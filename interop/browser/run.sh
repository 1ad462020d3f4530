#!/usr/bin/env bash
# Real-browser suite: Debian's headless Chromium, driven by playwright-core, runs a single-page app
# served from one origin against a live authbridge on another (CORS + cookie mode + CSRF).
#   AUTHBRIDGE_BIN   authbridge binary (default: <repo>/target/debug/authbridge)
#   CHROMIUM         browser binary (default: /usr/bin/chromium, apt-get installed when missing)
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
prepare_backend
prepare_chromium
prepare_npm

node --test --test-concurrency=1 "$@" test/*.test.mjs
