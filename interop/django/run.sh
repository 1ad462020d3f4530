#!/usr/bin/env bash
# Interop suite: the real authbridge binary against a real Django + simplejwt project on the
# same database. Call after `cargo build -p authbridge`.
#
#   interop/django/run.sh [pytest args...]
#
# Environment:
#   AUTHBRIDGE_BIN      binary under test (default: <repo>/target/debug/authbridge)
#   TEST_DATABASE_URL   e.g. postgres://postgres@127.0.0.1:5432/test: also run everything on
#                       PostgreSQL (a fresh database per test module is created from it)
#   INTEROP_KEEP_TMP=1  keep each module's temp dir (databases, authbridge/Django logs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

"$repo/scripts/setup-python"

export AUTHBRIDGE_BIN="${AUTHBRIDGE_BIN:-$repo/target/debug/authbridge}"
cd "$here"
set +e
"$repo/.venv-interop/bin/python" -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
exit "$rc"
