# Sourced by the node interop suites' run.sh (interop/{authjs,browser,oidc}): the steps they share,
# written once. The caller sets `here` (its folder) and `repo`, and has `cd "$here"`.

# BUILD=1 builds the binary; AUTHBRIDGE_BIN (default target/debug/authbridge) must exist.
prepare_binary() {
  if [[ "${BUILD:-0}" == "1" ]]; then
    (cd "$repo" && cargo build -p authbridge)
  fi
  export AUTHBRIDGE_BIN="${AUTHBRIDGE_BIN:-$repo/target/debug/authbridge}"
  if [[ ! -x "$AUTHBRIDGE_BIN" ]]; then
    echo "authbridge binary not found at $AUTHBRIDGE_BIN (build it: cargo build -p authbridge, or BUILD=1 $0)" >&2
    exit 2
  fi
}

# PostgreSQL databases are created through the venv's psycopg (interop/shared/db.mjs).
prepare_backend() {
  if [[ "${INTEROP_BACKEND:-sqlite}" == postgres ]]; then
    "$repo/scripts/setup-python"
  fi
}

# Debian's chromium at CHROMIUM (default /usr/bin/chromium), apt-get installed when missing
# (through sudo when not root). No browser download is possible here.
prepare_chromium() {
  export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
  if [[ ! -x "$CHROMIUM" ]]; then
    if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
      echo "CHROMIUM=$CHROMIUM is not executable" >&2
      exit 2
    fi
    echo "installing Debian's chromium (apt-get)" >&2
    local sudo_cmd=()
    [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
  fi
}

# The suite's pinned npm packages (package-lock.json) into its node_modules/.
prepare_npm() {
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
}
