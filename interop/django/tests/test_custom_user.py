"""A project with a custom user model (accounts.User, USERNAME_FIELD = "email", bigint ids):
authbridge started with AUTH_USER_TABLE=accounts_user USERNAME_FIELD=email must log users in by
email, write rows Django's ORM reads, and answer like Django's views for the same inputs."""
import json

import pytest

from cases import Ctx, all_cases
from checks import (
    assert_cli_user_is_django_user,
    assert_django_accepts,
    assert_migrate_leaves_django_schema,
    assert_obtain_body,
    assert_outstanding_row,
    assert_replay_rejected,
    assert_rotation,
)
from differential import check_case
from harness import claims, cli

SETTINGS_MODULE = "djproject.settings_custom_user"
AUTHBRIDGE_ENV = {"AUTH_USER_TABLE": "accounts_user", "USERNAME_FIELD": "email"}

USERS = [
    {"key": "alice", "login": "alice@example.com", "password": "ålice-pässword 🔑"},
    {"key": "inactive", "login": "ivan@example.com", "password": "ivan-password", "active": False},
    {"key": "gone", "login": "gone@example.com", "password": "gone-password", "delete": True},
    {"key": "carol", "login": "carol@example.com", "password": "carol-password"},
    {"key": "old", "login": "old@example.com", "password": "old-password", "hasher": "pbkdf2_sha256_600000"},
]

CASES = all_cases()


def test_custom_user_table_really_is_custom(stack):
    tables = stack.orm("result = connection.introspection.table_names()")
    assert "accounts_user" in tables and "auth_user" not in tables, tables


def test_migrate_adds_only_authbridge_tables(stack, ab):
    assert_migrate_leaves_django_schema(stack)


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_login_by_email(stack, ab, encoding):
    u = stack.user("carol")
    creds = {"email": u["login"], "password": u["password"]}
    r = ab.post_json("/api/token/", creds) if encoding == "json" else ab.post_form("/api/token/", creds)
    body = assert_obtain_body(r, u)
    assert_django_accepts(stack, body["access"], u)
    assert_outstanding_row(stack, body["refresh"], u["id"])


def test_username_key_is_not_the_login_field(stack, ab):
    u = stack.user("carol")
    r = ab.post_json("/api/token/", {"username": u["login"], "password": u["password"]})
    assert (r.status, r.body) == (400, b'{"email":["This field is required."]}'), r.describe()


def test_rotation_and_logout(stack, ab):
    u = stack.user("carol")
    r = ab.post_json("/api/token/", {"email": u["login"], "password": u["password"]})
    pair = assert_obtain_body(r, u)
    new = assert_rotation(stack, ab, u, pair)
    assert_replay_rejected(stack, ab, pair["refresh"])
    r = ab.post_json("/api/token/blacklist/", {"refresh": new["refresh"]})
    assert r.status == 200, r.describe()
    assert_outstanding_row(stack, new["refresh"], u["id"], blacklisted=True)


def test_django_minted_pair_refreshes_at_authbridge(stack, ab):
    u = stack.user("carol")
    pair = stack.orm(
        "r = RefreshToken.for_user(User.objects.get(pk=args['id']))\n"
        "result = {'refresh': str(r), 'access': str(r.access_token)}", id=u["id"])
    assert_rotation(stack, ab, u, pair)


def test_hash_upgrade_written_to_custom_table(stack, ab):
    u = stack.user("old")
    r = ab.post_json("/api/token/", {"email": u["login"], "password": u["password"]})
    assert_obtain_body(r, u)
    enc = stack.orm("result = User.objects.get(pk=args['id']).password", id=u["id"])
    assert enc.startswith("pbkdf2_sha256$1000000$"), enc
    ok = stack.orm("result = User.objects.get(pk=args['id']).check_password(args['pw'])",
                   id=u["id"], pw=u["password"])
    assert ok is True
    assert claims(r.json()["access"])["user_id"] == str(u["id"])


def test_createuser_cli_in_custom_table(stack, ab):
    p = cli(stack.env(), stack.workdir, "createuser", "dave@example.com", "--password-stdin",
            stdin="dave-password\n")
    assert p.returncode == 0, f"createuser failed:\n{p.stdout}\n{p.stderr}"
    assert_cli_user_is_django_user(stack, ab, "dave@example.com", "dave-password", email="dave@example.com")


@pytest.fixture(scope="module")
def ctx(stack, ab):
    c = Ctx(stack, ab)
    c.prepare()
    return c


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_answer_as_django(ctx, case):
    check_case(ctx, case)
