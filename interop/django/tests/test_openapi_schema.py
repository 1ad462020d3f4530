"""authbridge's `/api/schema/` against drf-spectacular's schema of the same Django project.

For simplejwt's four views and the `/api/me/` view, the operations (ids, descriptions, tags,
security, request bodies, responses) must be the ones drf-spectacular writes for the Django
project with the same settings, and every component they reference the same schema under the
same name, the `jwtAuth` scheme included. One deliberate difference: authbridge's `POST
/api/token/` also answers `user_id` (docs/compatibility.md), so `TokenObtainPair` has it too.
Every document authbridge serves must pass openapi-spec-validator (OpenAPI 3.1).

The schema does not depend on the database, so these run on SQLite only.
"""
from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

import subprocess

from harness import DJANGO_DIR, PYTHON, Authbridge, authbridge_env, make_database, manage, rmtree, tmp_workdir

SIMPLEJWT_PATHS = ["/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/", "/api/me/"]

# (Django settings module, SIMPLE_JWT overrides, authbridge environment): the settings the
# described shapes depend on.
VARIANTS = {
    "defaults": ("djproject.settings", {}, {}),
    "no-rotation": (
        "djproject.settings",
        {"ROTATE_REFRESH_TOKENS": False, "BLACKLIST_AFTER_ROTATION": False},
        {"SIMPLE_JWT_ROTATE_REFRESH_TOKENS": "false", "SIMPLE_JWT_BLACKLIST_AFTER_ROTATION": "false"},
    ),
    "custom-user": (
        "djproject.settings_custom_user",
        {},
        {"AUTH_USER_TABLE": "accounts_user", "USERNAME_FIELD": "email"},
    ),
    "header": (
        "djproject.settings",
        {"AUTH_HEADER_TYPES": ["JWT"], "AUTH_HEADER_NAME": "HTTP_X_ACCESS_TOKEN"},
        {"SIMPLE_JWT_AUTH_HEADER_TYPES": "JWT", "SIMPLE_JWT_AUTH_HEADER_NAME": "HTTP_X_ACCESS_TOKEN"},
    ),
}

# Every optional surface on: the Auth.js bridge, the sync endpoint, the OpenID provider.
EVERYTHING = {
    "AUTH_SECRET": "schema-test-auth-secret-0123456789abcdefghijklmnop",
    "AUTHBRIDGE_SERVICE_TOKEN": "schema-test-service-token-0123456789abcdefghijkl",
    "AUTHBRIDGE_OIDC_ENABLED": "true",
    "AUTHBRIDGE_PUBLIC_URL": "http://127.0.0.1:8080",
}


def django_schema(settings_base: str, simple_jwt: dict) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "djproject.settings_schema",
        "SCHEMA_BASE_SETTINGS": settings_base,
        "SCHEMA_SIMPLE_JWT": json.dumps(simple_jwt),
        "DATABASE_URL": "sqlite:///:memory:",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.run(
        [PYTHON, "manage.py", "spectacular", "--format", "openapi-json"],
        cwd=DJANGO_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def serve():
    """Start authbridge with extra environment on a database Django migrated; returns its
    `/api/schema/` response."""
    workdir = tmp_workdir("authbridge-interop-openapi-")
    servers = []

    def fetch(extra: dict, label: str, settings_module="djproject.settings"):
        db = make_database("sqlite", workdir, label)
        manage(settings_module, db, "migrate", "--noinput")
        ab = Authbridge(authbridge_env(db, **extra), workdir, log_name=label)
        servers.append(ab)
        return ab.request("GET", "/api/schema/")

    yield fetch
    for ab in servers:
        ab.stop()
    rmtree(workdir)


def ours(serve, extra: dict, label: str, settings_module="djproject.settings") -> dict:
    r = serve({"AUTHBRIDGE_API_SCHEMA": "true", **extra}, label, settings_module)
    assert r.status == 200, r.describe()
    assert r.headers["content-type"] == "application/json", r.headers
    return r.json()


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {ref_name(node["$ref"])} if "$ref" in node else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def without_user_id(schema: dict) -> dict:
    s = json.loads(json.dumps(schema))
    del s["properties"]["user_id"]
    s["required"].remove("user_id")
    return s


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_simplejwt_operations_are_drf_spectacular_s(serve, variant):
    settings_base, simple_jwt, env = VARIANTS[variant]
    theirs = django_schema(settings_base, simple_jwt)
    mine = ours(serve, env, f"schema-{variant}", settings_base)
    validate(theirs)
    validate(mine)
    assert set(SIMPLEJWT_PATHS) <= set(theirs["paths"]), sorted(theirs["paths"])
    components = set()
    for path in SIMPLEJWT_PATHS:
        assert mine["paths"].get(path) == theirs["paths"][path], path
        components |= refs(theirs["paths"][path])
    assert components == {"TokenObtainPair", "TokenRefresh", "TokenVerify", "TokenBlacklist", "Me"}
    for name in sorted(components):
        got = mine["components"]["schemas"][name]
        if name == "TokenObtainPair":
            assert got["properties"]["user_id"] == {"type": "integer", "readOnly": True}
            got = without_user_id(got)
        assert got == theirs["components"]["schemas"][name], name
    assert mine["components"]["securitySchemes"]["jwtAuth"] == theirs["components"]["securitySchemes"]["jwtAuth"]


def test_the_document_with_every_surface_on_is_valid_openapi_3_1(serve):
    mine = ours(serve, EVERYTHING, "schema-everything")
    validate(mine)
    assert mine["openapi"] == "3.1.0"
    for path in [
        "/api/authjs/session", "/api/authjs/token", "/api/users/sync",
        "/.well-known/openid-configuration", "/oauth2/authorize", "/oauth2/token",
        "/oauth2/userinfo", "/oauth2/jwks", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/logout",
    ]:
        assert path in mine["paths"], path
    ids = [op["operationId"] for item in mine["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), ids


def test_off_by_default(serve):
    r = serve({}, "schema-off")
    assert r.status == 404, r.describe()
