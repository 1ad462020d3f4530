"""Fixtures: per test module, database backend and Django server kind (gunicorn = WSGI, uvicorn =
ASGI), a fresh database migrated by Django, users made by Django, Django serving it on a free
port and authbridge in front of it (`serve --upstream`) on the same database.

Backends: SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (reported as skipped
otherwise). A module may set SETTINGS (Django settings module), GATEWAY (authbridge's configuration; the
default is gw.gateway_config()), AUTHBRIDGE_ENV (extra environment), KINDS (server kinds, default both) and UPSTREAM (False: authbridge
beside Django, not in front of it, for forward-auth).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gw import (  # noqa: E402
    DjangoServer,
    Gateway,
    create_users,
    gateway_config,
    make_database,
    manage,
    rmtree,
    tmp_workdir,
)

KEEP = os.environ.get("INTEROP_KEEP_TMP") == "1"
NO_PG = not os.environ.get("TEST_DATABASE_URL")

USERS = [
    {"username": "alice", "email": "alice@example.com", "password": "alice-pw-8f3k2-long-enough"},
    {"username": "staffer", "email": "staff@example.com", "password": "staff-pw-9d1m4-long-enough", "staff": True},
    {"username": "admin", "email": "admin@example.com", "password": "admin-pw-2h7q0-long-enough", "staff": True},
]


def backends():
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(NO_PG, reason="TEST_DATABASE_URL is not set"))]


class Site:
    """One database, Django on it (gunicorn or uvicorn), authbridge in front."""

    def __init__(self, request, backend: str, kind: str):
        mod = request.module
        self.backend, self.kind = backend, kind
        self.settings = getattr(mod, "SETTINGS", "gwsite.settings")
        label = f"{Path(mod.__file__).stem}_{backend}_{kind}"
        self.workdir = tmp_workdir(f"authbridge-gateway-{label}-")
        self.db = make_database(backend, self.workdir, label)
        self.django = self.gateway = None
        try:
            manage(self.settings, self.db, "migrate", "--noinput", "-v0")
            self.users = create_users(self.settings, self.db, USERS)
            self.django = DjangoServer(kind, self.settings, self.db, self.workdir)
            config = getattr(mod, "GATEWAY", None) or gateway_config()
            upstream = self.django.url if getattr(mod, "UPSTREAM", True) else None
            self.gateway = Gateway(self.db, self.workdir, config, upstream=upstream,
                                   env=getattr(mod, "AUTHBRIDGE_ENV", None))
            self.url = self.gateway.url
            self.tokens = {name: self.gateway.login(u) for name, u in self.users.items()}
        except BaseException:
            self.close()
            raise

    def bearer(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[name]['access']}"}

    def close(self):
        for s in (self.gateway, self.django):
            if s is not None:
                s.stop()
        try:
            self.db.drop()
        finally:
            if not KEEP:
                rmtree(self.workdir)


def pytest_generate_tests(metafunc):
    if "site" in metafunc.fixturenames:
        kinds = getattr(metafunc.module, "KINDS", ("wsgi", "asgi"))
        params = []
        for b in backends():
            for k in kinds:
                if isinstance(b, str):
                    params.append(pytest.param((b, k), id=f"{b}-{k}"))
                else:
                    params.append(pytest.param((b.values[0], k), id=f"{b.values[0]}-{k}", marks=b.marks))
        metafunc.parametrize("site_params", params, scope="module", indirect=False)


@pytest.fixture(scope="module")
def site(request, site_params):
    backend, kind = site_params
    s = Site(request, backend, kind)
    yield s
    s.close()
