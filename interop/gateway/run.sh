#!/usr/bin/env bash
# Gateway interop suite: the real authbridge binary in front of a real Django (gunicorn and
# uvicorn) with RemoteUserMiddleware, and beside it behind a real nginx and Caddy (forward-auth).
# Call after `cargo build -p authbridge`.
#
#   interop/gateway/run.sh [pytest args...]
#
# Environment:
#   AUTHBRIDGE_BIN      binary under test (default: <repo>/target/debug/authbridge)
#   TEST_DATABASE_URL   e.g. postgres://postgres@127.0.0.1:5432/test: also run on PostgreSQL
#   INTEROP_KEEP_TMP=1  keep each module's temp dir (databases, logs, nginx/Caddy configs)
# nginx (and caddy, when Debian's package installs) are apt-get installed when missing, through
# sudo when not root; each test starts its own on a free 127.0.0.1 port, never a service.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"
# shellcheck source=../shared/prepare.sh
. "$repo/interop/shared/prepare.sh"

prepare_binary
"$repo/scripts/setup-python"
prepare_npm   # @auth/core, to mint Auth.js v5 session cookies

set +e
"$repo/.venv-interop/bin/python" -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
exit "$rc"
