"""Harness of the gateway suite: Django under gunicorn (WSGI) or uvicorn (ASGI) on a free port,
authbridge `serve --upstream` in front of it (or beside it, for forward-auth), nginx and Caddy
with their own config files, and Auth.js v5 cookies minted by the real @auth/core.

The database, secrets and the authbridge environment come from interop/django/tests/harness.py.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

GATEWAY_DIR = Path(__file__).resolve().parent.parent  # interop/gateway
sys.path.insert(0, str(GATEWAY_DIR.parent / "django" / "tests"))

from harness import (  # noqa: E402, F401  (re-exported to the tests)
    AUTHBRIDGE_BIN,
    LISTENING_RE,
    PYTHON,
    REPO,
    SECRET,
    Database,
    _die_with_parent,
    authbridge_env,
    make_database,
    require_binary,
    rmtree,
    tmp_workdir,
)

VENV_BIN = Path(PYTHON).parent
AUTH_SECRET = "gateway-authjs-" + os.urandom(24).hex()
V5_COOKIE = "authjs.session-token"
IDENTITY_HEADERS = ("X-Remote-User", "X-Remote-User-Id", "X-Remote-User-Email")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited (rc={proc.returncode}); log:\n{tail(log)}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not answer {url} within {timeout}s; log:\n{tail(log)}")
        time.sleep(0.1)


def tail(path: Path, n=60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"


def stop_process(proc: subprocess.Popen | None, grace=10.0):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------------------------
# Django


def django_env(settings: str, db: Database, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHBRIDGE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=db.url,
        DJANGO_SECRET_KEY=SECRET,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(settings: str, db: Database, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=GATEWAY_DIR, env=django_env(settings, db),
        input=stdin, capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


CREATE_USERS = r"""
import json, sys
from django.contrib.auth.models import User
out = {}
for s in json.loads(sys.stdin.read()):
    u = User.objects.create_user(s["username"], s["email"], s["password"])
    u.is_staff = s.get("staff", False)
    u.save()
    out[s["username"]] = {"id": u.pk, "username": u.username, "email": u.email,
                          "password": s["password"], "staff": u.is_staff}
print(json.dumps(out))
"""


def create_users(settings: str, db: Database, users: list[dict]) -> dict:
    """Users made by Django's create_user (Django's own password hashes)."""
    code = CREATE_USERS.replace("sys.stdin.read()", repr(json.dumps(users)))
    out = manage(settings, db, "shell", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


class DjangoServer:
    """gunicorn (kind "wsgi", 2 sync workers) or uvicorn (kind "asgi", with WebSockets) on a free
    127.0.0.1 port, serving interop/gateway's project."""

    def __init__(self, kind: str, settings: str, db: Database, workdir: Path, port: int | None = None,
                 workers: int = 2):
        self.kind = kind
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"django-{kind}-{self.port}.log"
        self._log = open(self.log_path, "w")
        if kind == "wsgi":
            cmd = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "gwsite.wsgi:application"]
        elif kind == "asgi":
            cmd = [str(VENV_BIN / "uvicorn"), "gwsite.asgi:application", "--host", "127.0.0.1",
                   "--port", str(self.port), "--lifespan", "off", "--ws", "websockets",
                   "--no-access-log", "--log-level", "warning"]
        else:
            raise ValueError(kind)
        self.proc = subprocess.Popen(
            cmd, cwd=GATEWAY_DIR, env=django_env(settings, db), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )
        wait_http(self.url + "/app/small", 60, self.proc, f"Django ({kind})", self.log_path)

    def stop(self):
        stop_process(self.proc)
        if not self._log.closed:
            self._log.close()


# --------------------------------------------------------------------------------------------
# authbridge


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def toml(config: dict) -> str:
    """A small TOML writer: top-level keys, tables (dict) and arrays of tables (list of dicts)."""
    top, tables = [], []
    for key, value in config.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            tables.append((key, value))
        else:
            top.append(f"{key} = {toml_value(value)}")
    out = top[:]
    for name, value in tables:
        if isinstance(value, dict):
            out.append(f"\n[{name}]")
            sub = []
            for k, v in value.items():
                if isinstance(v, list) and v and isinstance(v[0], dict):
                    sub.append((k, v))
                else:
                    out.append(f"{k} = {toml_value(v)}")
            for k, rows in sub:
                for row in rows:
                    out.append(f"\n[[{name}.{k}]]")
                    out += [f"{rk} = {toml_value(rv)}" for rk, rv in row.items()]
        else:
            for row in value:
                out.append(f"\n[[{name}]]")
                out += [f"{rk} = {toml_value(rv)}" for rk, rv in row.items()]
    return "\n".join(out) + "\n"


def gateway_config(identity: str = "headers", **extra) -> dict:
    """authbridge's configuration for the tests: `[gateway]` with one `[[gateway.paths]]` rule per
    URL prefix of the Django project (gwsite/urls.py)."""
    gateway = {
        "IDENTITY": identity,
        "LOGIN_URL": "/login",
        "paths": [
            {"prefix": "/public/", "policy": "public"},
            {"prefix": "/app/", "policy": "public"},
            {"prefix": "/private/", "policy": "authenticated"},
            {"prefix": "/staff/", "policy": "staff"},
            {"prefix": "/pages/", "policy": "authenticated", "redirect": True},
            {"prefix": "/ws/", "policy": "authenticated"},
        ],
    }
    gateway.update(extra)
    return {"gateway": gateway}


class Gateway:
    """`authbridge serve --bind 127.0.0.1:0 [--upstream URL] --config FILE`, ready once it prints
    its listening line and /healthz answers."""

    def __init__(self, db: Database, workdir: Path, config: dict, upstream: str | None = None,
                 name="authbridge", env: dict | None = None, binary: Path | None = None):
        binary = Path(binary or AUTHBRIDGE_BIN)
        if binary == AUTHBRIDGE_BIN:
            require_binary()
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(toml(config))
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "w")
        args = [str(binary), "serve", "--bind", "127.0.0.1:0", "--config", str(self.config_path)]
        if upstream:
            args += ["--upstream", upstream]
        full_env = authbridge_env(db, AUTH_SECRET=AUTH_SECRET, **(env or {}))
        self.proc = subprocess.Popen(
            args, env=full_env, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log, text=True, bufsize=1, preexec_fn=_die_with_parent,
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
        if not ready.wait(60) or self.url is None:
            self.stop()
            raise AssertionError(f"authbridge did not start (rc={self.proc.returncode}); log:\n{self.log_tail()}\n"
                                 f"config:\n{self.config_path.read_text()}")
        self.port = int(self.url.rsplit(":", 1)[1])
        wait_http(self.url + "/healthz", 30, self.proc, "authbridge", self.log_path)

    def log_tail(self, n=60) -> str:
        try:
            self._log.flush()
        except ValueError:
            pass
        return tail(self.log_path, n)

    def login(self, user: dict) -> dict:
        r = requests.post(self.url + "/api/token/", json={"username": user["username"], "password": user["password"]},
                          timeout=60)
        assert r.status_code == 200, f"login {user['username']}: {r.status_code} {r.text}\n{self.log_tail(20)}"
        return r.json()

    def stop(self):
        stop_process(self.proc)
        if hasattr(self, "_pump"):
            self._pump.join(5)
        if not self._log.closed:
            self._log.close()


def mint_cookie(claims: dict, secret: str = AUTH_SECRET, max_age: int | None = None) -> str:
    """An Auth.js v5 session cookie value, by @auth/core's own `encode` (node, interop/gateway's
    node_modules)."""
    msg = {"claims": claims, "secret": secret, "salt": V5_COOKIE}
    if max_age is not None:
        msg["maxAge"] = max_age
    proc = subprocess.run(["node", str(GATEWAY_DIR / "mint_cookie.mjs")], input=json.dumps(msg),
                          capture_output=True, text=True, timeout=60, cwd=GATEWAY_DIR)
    if proc.returncode != 0:
        raise AssertionError(f"mint_cookie.mjs failed: {proc.stderr}")
    return proc.stdout.strip()


# --------------------------------------------------------------------------------------------
# Reverse proxies for forward-auth: nginx and Caddy, from the snippets in interop/gateway/snippets


def install_debian_package(binary: str, package: str) -> str | None:
    """The binary's path; apt-get installs the package when missing (through sudo when not root).
    None when it cannot be installed."""
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if os.path.exists(f"/usr/sbin/{binary}") else None)
    if path:
        return path
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=True, capture_output=True, timeout=600)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", package], env=env, check=True,
                       capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError):
        return None
    return shutil.which(binary) or (f"/usr/sbin/{binary}" if os.path.exists(f"/usr/sbin/{binary}") else None)


SNIPPETS = GATEWAY_DIR / "snippets"


def render_snippet(name: str, **values) -> str:
    text = (SNIPPETS / name).read_text()
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", str(v))
    assert "{{" not in text, f"unfilled placeholder in {name}: {text}"
    return text


class Nginx:
    """nginx in the foreground with its own config file and prefix in a temp dir (no service)."""

    def __init__(self, binary: str, workdir: Path, authbridge_port: int, django_port: int):
        self.port = free_port()
        self.dir = workdir / f"nginx-{self.port}"
        for d in ("logs", "tmp"):
            (self.dir / d).mkdir(parents=True, exist_ok=True)
        site = render_snippet("nginx.conf", AUTHBRIDGE="127.0.0.1:%d" % authbridge_port,
                              DJANGO="127.0.0.1:%d" % django_port, LISTEN="127.0.0.1:%d" % self.port)
        main = f"""daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/tmp/body;
    proxy_temp_path {self.dir}/tmp/proxy;
    fastcgi_temp_path {self.dir}/tmp/fastcgi;
    uwsgi_temp_path {self.dir}/tmp/uwsgi;
    scgi_temp_path {self.dir}/tmp/scgi;
{site}
}}
"""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(main)
        check = subprocess.run([binary, "-t", "-p", str(self.dir), "-c", str(self.conf)], capture_output=True,
                               text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t failed:\n{check.stderr}\n{main}"
        self.log_path = self.dir / "logs" / "stderr.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.url + "/app/small", 30, self.proc, "nginx", self.dir / "logs" / "error.log")

    def stop(self):
        stop_process(self.proc)
        self._log.close()


class Caddy:
    """caddy run with its own Caddyfile, storage and home in a temp dir (no admin endpoint)."""

    def __init__(self, binary: str, workdir: Path, authbridge_port: int, django_port: int):
        self.port = free_port()
        self.dir = workdir / f"caddy-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        site = render_snippet("Caddyfile", AUTHBRIDGE="127.0.0.1:%d" % authbridge_port,
                              DJANGO="127.0.0.1:%d" % django_port, LISTEN="http://127.0.0.1:%d" % self.port)
        conf = f"""{{
    admin off
    auto_https off
    storage file_system {self.dir}/data
}}

{site}"""
        self.conf = self.dir / "Caddyfile"
        self.conf.write_text(conf)
        env = dict(os.environ, HOME=str(self.dir), XDG_DATA_HOME=str(self.dir / "data"),
                   XDG_CONFIG_HOME=str(self.dir / "config"))
        self.log_path = self.dir / "caddy.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "run", "--config", str(self.conf), "--adapter", "caddyfile"],
                                     env=env, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.url + "/app/small", 30, self.proc, "caddy", self.log_path)

    def stop(self):
        stop_process(self.proc)
        self._log.close()
