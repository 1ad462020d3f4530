"""Harness: databases, the Django agent, the authbridge process, JWT and diff helpers."""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jwt as pyjwt
import requests

DJANGO_DIR = Path(__file__).resolve().parent.parent  # interop/django
REPO = DJANGO_DIR.parent.parent
PYTHON = sys.executable
AUTHBRIDGE_BIN = Path(os.environ.get("AUTHBRIDGE_BIN", REPO / "target" / "debug" / "authbridge"))

# One secret for the whole run: >= 32 bytes (PyJWT warns below that), never the default.
SECRET = "interop-" + uuid.uuid4().hex + uuid.uuid4().hex

LISTENING_RE = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")

# Environment variables authbridge reads; never inherited from the caller's environment.
_AUTHBRIDGE_KEYS = re.compile(
    r"^(AUTHBRIDGE_|SIMPLE_JWT_|DATABASE_URL$|DJANGO_SECRET_KEY$|PASSWORD_HASHERS$|"
    r"AUTH_USER_TABLE$|USERNAME_FIELD$|AUTH_SECRET|NEXTAUTH_)"
)


def _die_with_parent():
    """preexec_fn: SIGTERM this child when the test process dies (no orphaned servers)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort, non-Linux
        pass


# --------------------------------------------------------------------------------------------
# Databases


@dataclass
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str  # DATABASE_URL for Django and authbridge
    path: Path | None = None  # sqlite file
    admin_url: str | None = None  # postgres: TEST_DATABASE_URL, used to drop the database
    name: str | None = None

    def drop(self):
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def make_database(kind: str, tmpdir: Path, label: str) -> Database:
    if kind == "sqlite":
        path = tmpdir / f"{label}.sqlite3"
        return Database("sqlite", f"sqlite:///{path}", path=path)  # absolute: sqlite:////tmp/..
    if kind == "postgres":
        import psycopg

        admin = os.environ["TEST_DATABASE_URL"]
        name = f"authbridge_it_{re.sub(r'[^a-z0-9]', '_', label.lower())[:30]}_{uuid.uuid4().hex[:8]}"
        # Fail (not skip) when TEST_DATABASE_URL is set but unreachable.
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            # A non-UTC, non-whole-hour session time zone: authbridge must not depend on it
            # (Django pins its own connections to UTC).
            conn.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Kolkata'")
        parts = urlsplit(admin)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
        return Database("postgres", url, admin_url=admin, name=name)
    raise ValueError(kind)


# --------------------------------------------------------------------------------------------
# Django


def django_env(settings_module: str, db: Database, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not _AUTHBRIDGE_KEYS.match(k)}
    env.update(extra or {})
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=db.url,
        DJANGO_SECRET_KEY=SECRET,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(settings_module: str, db: Database, *args: str, check=True, timeout=300, extra_env=None):
    """Run Django's real `manage.py <args>` against the database; returns CompletedProcess."""
    proc = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=DJANGO_DIR,
        env=django_env(settings_module, db, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@dataclass
class Resp:
    status: int
    headers: dict  # lower-case names
    body: bytes
    set_cookies: list = field(default_factory=list)  # one "name=value; attr..." string per cookie

    def json(self):
        return json.loads(self.body)

    def compared_headers(self) -> dict:
        return {k: v for k, v in self.headers.items() if k not in TRANSPORT_HEADERS}

    def describe(self) -> str:
        return f"{self.status} {self.compared_headers()} {self.body[:600]!r}"


# Set by whichever HTTP server carries the response, not by the application.
TRANSPORT_HEADERS = frozenset(
    {"date", "server", "connection", "keep-alive", "transfer-encoding", "content-length",
     # authbridge's edge echoes or generates a request id, as a proxy in front of Django would.
     "x-request-id"}
)


class DjangoAgent:
    """One Django process (see django_agent.py) bound to a settings module and a database."""

    def __init__(self, settings_module: str, db: Database, log_path: Path, extra_env: dict | None = None):
        self.settings_module = settings_module
        self.db = db
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [PYTHON, str(DJANGO_DIR / "tests" / "django_agent.py")],
            cwd=DJANGO_DIR,
            env=django_env(settings_module, db, extra_env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            preexec_fn=_die_with_parent,
        )
        self._lock = threading.Lock()
        self.call({"op": "ping"})

    def call(self, msg: dict):
        with self._lock:
            if self.proc.poll() is not None:
                raise RuntimeError(f"django agent died (rc={self.proc.returncode}); see {self._log.name}")
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"django agent closed its output; see {self._log.name}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError("django agent error:\n" + reply["error"])
        return reply["result"]

    def exec(self, code: str, **args):
        """Run Python inside Django; the code sets `result`."""
        return self.call({"op": "exec", "code": code, "args": args})

    def request(self, method, path, body=b"", content_type=None, headers=None) -> Resp:
        r = self.call(
            {
                "op": "request",
                "method": method,
                "path": path,
                "body_b64": base64.b64encode(body).decode(),
                "content_type": content_type,
                "headers": headers or {},
            }
        )
        return Resp(r["status"], r["headers"], base64.b64decode(r["body_b64"]), r.get("set_cookies", []))

    def me(self, access: str) -> Resp:
        """GET /api/me/ through Django's stock JWTAuthentication."""
        return self.request("GET", "/api/me/", headers={"Authorization": f"Bearer {access}"})

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def schema_snapshot(agent: DjangoAgent) -> dict:
    """Everything about the non-authbridge schema that authbridge must leave untouched."""
    return agent.exec(SCHEMA_SNAPSHOT_CODE)


SCHEMA_SNAPSHOT_CODE = r"""
vendor = connection.vendor
if vendor == "sqlite":
    objs = sql("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    tables = sorted(r[1] for r in objs if r[0] == "table")
    django = [r for r in objs if not r[2].startswith("authbridge_")]
    cols = {}
    for t in tables:
        if not t.startswith("authbridge_"):
            cols[t] = sql(f'PRAGMA table_info("{t}")')
    result = {"tables": tables, "objects": django, "columns": cols}
else:
    tables = [r[0] for r in sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")]
    cols = sql(
        # Column order as a rank: dropped columns leave gaps in ordinal_position (attnum).
        "SELECT table_name, column_name,"
        " row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position),"
        " data_type, is_nullable, column_default,"
        " character_maximum_length, numeric_precision, is_identity, identity_generation"
        " FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name NOT LIKE 'authbridge\\_%%' ORDER BY 1, 3")
    idx = sql("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
              " AND tablename NOT LIKE 'authbridge\\_%%' ORDER BY 1, 2")
    cons = sql("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable,"
               " condeferred FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
               " AND conrelid::regclass::text NOT LIKE 'authbridge\\_%%' ORDER BY 1, 2")
    trg = sql("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
              " AND tgrelid::regclass::text NOT LIKE 'authbridge\\_%%' ORDER BY 1, 2")
    seqs = sql("SELECT sequence_name, data_type FROM information_schema.sequences"
               " WHERE sequence_schema = 'public' AND sequence_name NOT LIKE 'authbridge\\_%%' ORDER BY 1")
    result = {"tables": tables, "columns": cols, "indexes": idx, "constraints": cons,
              "triggers": trg, "sequences": seqs}
result["django_migrations"] = sql("SELECT app, name FROM django_migrations ORDER BY app, name")
"""


# --------------------------------------------------------------------------------------------
# authbridge


def authbridge_env(db: Database, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not _AUTHBRIDGE_KEYS.match(k)}
    env.update(
        DATABASE_URL=db.url,
        DJANGO_SECRET_KEY=SECRET,
        SIMPLE_JWT_ROTATE_REFRESH_TOKENS="true",
        SIMPLE_JWT_BLACKLIST_AFTER_ROTATION="true",
        SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD="0",
        RUST_BACKTRACE="1",
        # authbridge must work in UTC whatever the machine's local time zone is.
        TZ="America/St_Johns",
    )
    env.setdefault("RUST_LOG", os.environ.get("RUST_LOG", "info"))
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def require_binary():
    if not AUTHBRIDGE_BIN.is_file():
        raise AssertionError(
            f"authbridge binary not found at {AUTHBRIDGE_BIN}: run `cargo build -p authbridge` "
            "or set AUTHBRIDGE_BIN"
        )


def authbridge_cli(args: list[str], env: dict, cwd: Path, timeout=120) -> subprocess.CompletedProcess:
    require_binary()
    return subprocess.run(
        [str(AUTHBRIDGE_BIN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


class Authbridge:
    """`authbridge serve --bind 127.0.0.1:0`, ready once it prints its listening line."""

    def __init__(
        self, env: dict, workdir: Path, log_name="authbridge", startup_timeout=30.0, bind="127.0.0.1:0"
    ):
        require_binary()
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"{log_name}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(AUTHBRIDGE_BIN), "serve", "--bind", bind],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            preexec_fn=_die_with_parent,
        )
        self.url = None
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self._log.write("[stdout] " + line)
                self._log.flush()
                m = LISTENING_RE.search(line)
                if m and self.url is None:
                    self.url = m.group(1)
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not ready.wait(startup_timeout) or self.url is None:
            self.stop()
            raise AssertionError(
                f"authbridge did not print 'listening on http://127.0.0.1:<port>' within "
                f"{startup_timeout}s (rc={self.proc.returncode}); log:\n{self.log_tail()}"
            )
        self.session = requests.Session()
        # /healthz must answer 200 once serving.
        deadline = time.monotonic() + 10
        while True:
            try:
                r = self.session.get(self.url + "/healthz", timeout=5)
                if r.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"authbridge /healthz never answered 200; log:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, n=60) -> str:
        try:
            self._log.flush()
        except ValueError:
            pass
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def request(self, method, path, body=b"", content_type=None, headers=None) -> Resp:
        hdrs = dict(headers or {})
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        # requests would add its own Content-Type for dict data; raw bytes get none.
        r = self.session.request(
            method, self.url + path, data=body, headers=hdrs, allow_redirects=False, timeout=60
        )
        return Resp(
            r.status_code,
            {k.lower(): v for k, v in r.headers.items()},
            r.content,
            r.raw.headers.getlist("Set-Cookie"),
        )

    def post_json(self, path, obj, headers=None) -> Resp:
        return self.request("POST", path, json.dumps(obj).encode(), "application/json", headers)

    def post_form(self, path, fields: dict) -> Resp:
        from urllib.parse import urlencode

        return self.request(
            "POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded"
        )

    def login(self, username_field: str, username: str, password: str) -> dict:
        r = self.post_json("/api/token/", {username_field: username, "password": password})
        assert r.status == 200, f"login {username!r} failed: {r.describe()}\n{self.log_tail(20)}"
        return r.json()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump.join(5) if hasattr(self, "_pump") else None
        if not self._log.closed:
            self._log.close()


# --------------------------------------------------------------------------------------------
# JWT helpers


def b64url_decode(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def raw_segments(token: str) -> tuple[bytes, bytes]:
    """The exact JSON bytes of the header and payload segments."""
    h, p, _ = token.split(".")
    return b64url_decode(h), b64url_decode(p)


def claims(token: str) -> dict:
    """Verified decode with PyJWT (what simplejwt does), signature and exp checked."""
    return pyjwt.decode(token, SECRET, algorithms=["HS256"])


def unverified(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def mint(payload: dict, key: str | None = SECRET, algorithm="HS256", headers=None) -> str:
    """Sign an arbitrary payload (claim order preserved) the way PyJWT/simplejwt would."""
    return pyjwt.encode(payload, key, algorithm=algorithm, headers=headers)


def sign_raw(header: bytes, payload: bytes, key: str = SECRET) -> str:
    """An HS256 JWT over arbitrary header/payload bytes (for malformed-but-signed tokens)."""
    import hashlib
    import hmac

    def enc(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    signing_input = f"{enc(header)}.{enc(payload)}"
    sig = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{enc(sig)}"


def std_claims(token_type: str, user_id, lifetime: int, **over) -> dict:
    now = int(time.time())
    c = {"token_type": token_type, "exp": now + lifetime, "iat": now, "jti": uuid.uuid4().hex}
    if user_id is not None:
        c["user_id"] = str(user_id)
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def jbytes(obj) -> bytes:
    return json.dumps(obj).encode()


def tmp_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def rmtree(p: Path):
    shutil.rmtree(p, ignore_errors=True)


def cli(stack_env: dict, workdir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run an authbridge subcommand (createuser, changepassword, ...)."""
    require_binary()
    return subprocess.run(
        [str(AUTHBRIDGE_BIN), *args], input=stdin, env=stack_env, cwd=workdir,
        capture_output=True, text=True, timeout=120,
    )
