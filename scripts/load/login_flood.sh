#!/bin/bash
# Login flood measurements of docs/security.md ("Login flooding and guessing").
# usage: scripts/load/login_flood.sh BINARY PORT
# A fresh SQLite database with user alice, then three scenarios, each on a fresh server:
# 120 concurrent wrong logins for 120 usernames, 120 for one username, 300 with 2.4 MB passwords.
set -u
HERE=$(dirname "$(realpath "$0")")
BIN=$(realpath "$1"); PORT=$2; D=$(mktemp -d); cd "$D" || exit 1
export DATABASE_URL="sqlite:///$D/db.sqlite3" DJANGO_SECRET_KEY="load-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz" AUTHBRIDGE_BIND=127.0.0.1:$PORT RUST_LOG=warn
"$BIN" migrate >/dev/null 2>&1
echo 'right-password-123' | "$BIN" createuser alice --password-stdin >/dev/null 2>&1
for s in distinct one_user big; do
  "$BIN" serve >/dev/null 2>&1 & PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
  echo -n "$s: "; timeout 600 python3 "$HERE/login_flood.py" "$PORT" "$PID" "$s"
  kill "$PID"; wait "$PID" 2>/dev/null
done
rm -rf "$D"
