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
# shellcheck source=../shared/prepare.sh
. "$repo/interop/shared/prepare.sh"

prepare_binary
prepare_backend
prepare_chromium
prepare_npm

# One test file at a time: each file starts its own authbridge (2-core machines).
node --test --test-concurrency=1 "$@" test/*.test.mjs
