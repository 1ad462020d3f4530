"""Fixtures: per test module and per backend, a fresh database migrated by Django, users
created by Django, a Django agent on that database and the real authbridge binary serving it.

Backends: SQLite (a temp file) always; PostgreSQL too when TEST_DATABASE_URL is set (a fresh
database per module is created from it; an unreachable server is an error, not a skip).

A test module may set:
  SETTINGS_MODULE   Django settings (default "djproject.settings")
  MIGRATE_WITH      "django" (default: `manage.py migrate` first) or "authbridge" (`authbridge
                    migrate` on the empty database creates Django's tables)
  USERS             list of user specs (see CREATE_USERS_CODE)
  AUTHBRIDGE_ENV    extra environment for authbridge (e.g. AUTH_USER_TABLE)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    Authbridge,
    DjangoAgent,
    authbridge_cli,
    authbridge_env,
    make_database,
    manage,
    rmtree,
    schema_snapshot,
    tmp_workdir,
)

# Without TEST_DATABASE_URL the PostgreSQL half is collected and reported as skipped (never left
# out silently); scripts/test fails under CI=true before it gets here.
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL leg: TEST_DATABASE_URL is not set"
        ),
    ),
]
KEEP = os.environ.get("INTEROP_KEEP_TMP") == "1"

# Users are created through Django's own API (create_user, set_password, make_password).
# hasher: "default" (Django 5.2's preferred PBKDF2, 1,000,000 iterations), "pbkdf2_sha256_600000"
# (Django 4.2's count, via the hasher's own encode), or any Django hasher algorithm name.
CREATE_USERS_CODE = r"""
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
out = {}
field = User.USERNAME_FIELD
for s in args["users"]:
    login = s["login"]
    if field == "email":
        u = User.objects.create_user(email=login)
    else:
        u = User.objects.create_user(username=login, email=s.get("email", login + "@example.com"))
    hasher = s.get("hasher", "default")
    if hasher == "default":
        u.set_password(s["password"])
    elif hasher == "pbkdf2_sha256_600000":
        h = PBKDF2PasswordHasher()
        u.password = h.encode(s["password"], h.salt(), iterations=600000)
    else:
        u.password = make_password(s["password"], hasher=hasher)
    u.is_active = s.get("active", True)
    u.save()
    out[s["key"]] = {"id": u.pk, "login": login, "email": u.email, "password": s["password"],
                     "hash": u.password, "active": u.is_active}
    if s.get("delete"):
        u.delete()
result = out
"""


class Stack:
    """Everything one test module works with, for one backend."""

    def __init__(self, request, backend: str):
        mod = request.module
        self.backend = backend
        self.settings_module = getattr(mod, "SETTINGS_MODULE", "djproject.settings")
        self.extra_env = dict(getattr(mod, "AUTHBRIDGE_ENV", {}))
        self.username_field = self.extra_env.get("USERNAME_FIELD", "username")
        label = f"{Path(mod.__file__).stem}_{backend}"
        self.workdir = tmp_workdir(f"authbridge-interop-{label}-")
        try:
            self.db = make_database(backend, self.workdir, label)
        except BaseException:
            rmtree(self.workdir)
            raise
        self._servers: list[Authbridge] = []
        self.agent = None
        self.migrated_by = getattr(mod, "MIGRATE_WITH", "django")
        self.initial_migrate = None
        try:
            if self.migrated_by == "django":
                manage(self.settings_module, self.db, "migrate", "--noinput")
            else:
                # authbridge creates Django's tables on an empty database.
                self.initial_migrate = authbridge_cli(["migrate"], self.env(), self.workdir)
                assert self.initial_migrate.returncode == 0, (
                    f"`authbridge migrate` on an empty database exited {self.initial_migrate.returncode}\n"
                    f"stdout:\n{self.initial_migrate.stdout}\nstderr:\n{self.initial_migrate.stderr}"
                )
            self.agent = DjangoAgent(self.settings_module, self.db, self.workdir / "django-agent.log")
            self.users = self.agent.exec(CREATE_USERS_CODE, users=getattr(mod, "USERS", []))
        except BaseException:
            self.close()
            raise
        self.vendor = "sqlite" if backend == "sqlite" else "postgresql"
        self.ab: Authbridge | None = None
        self.migrate_runs = None
        self.schema_before = self.schema_after = None

    # -- authbridge ---------------------------------------------------------------------------
    def env(self, **extra):
        return authbridge_env(self.db, **{**self.extra_env, **extra})

    def run_migrate(self):
        """`authbridge migrate` twice (idempotence), with schema snapshots around it."""
        self.schema_before = schema_snapshot(self.agent)
        self.migrate_runs = [
            authbridge_cli(["migrate"], self.env(), self.workdir) for _ in range(2)
        ]
        self.schema_after = schema_snapshot(self.agent)

    def start(self, log_name="authbridge", **extra) -> Authbridge:
        ab = Authbridge(self.env(**extra), self.workdir, log_name=log_name)
        self._servers.append(ab)
        return ab

    def close(self):
        for s in self._servers:
            s.stop()
        if self.agent is not None:
            self.agent.close()
        try:
            self.db.drop()
        finally:
            if not KEEP:
                rmtree(self.workdir)

    # -- conveniences ---------------------------------------------------------------------------
    def user(self, key) -> dict:
        return self.users[key]

    def orm(self, code, **args):
        return self.agent.exec(code, **args)

    def login_body(self, key, password=None) -> dict:
        u = self.users[key]
        return {self.username_field: u["login"], "password": u["password"] if password is None else password}


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def stack(request, backend):
    """Django side only: migrated database, users, agent. Usable when authbridge is broken."""
    s = Stack(request, backend)
    yield s
    s.close()


@pytest.fixture(scope="module")
def ab(stack):
    """The authbridge server on the stack's database (after `authbridge migrate`)."""
    stack.run_migrate()
    stack.ab = stack.start()
    return stack.ab


def pytest_terminal_summary(terminalreporter):
    """The account differential's counts (tests/test_accounts*.py), when it ran."""
    diff = sys.modules.get("accounts_diff")
    if diff is not None and diff.STATS["requests"]:
        s = diff.STATS
        terminalreporter.write_line(
            f"account differential: {s['requests']} requests to both servers ({s['probe_requests']} with Django's "
            f"answer pinned as recorded), {s['emails']} emails compared, {s['links_checked']} keys and tokens checked "
            f"by allauth, {s['row_snapshots']} row snapshots"
        )
