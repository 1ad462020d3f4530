"""Assertions shared by the default-user and custom-user modules."""
from __future__ import annotations

import datetime as dt
import json
import re
import time

from cases import BLACKLISTED, EMPTY, VERIFY_BLACKLISTED, compact
from harness import claims, manage, raw_segments

HEADER = b'{"alg":"HS256","typ":"JWT"}'
CLAIM_ORDER = ["token_type", "exp", "iat", "jti", "user_id"]
JTI_RE = re.compile(r"^[0-9a-f]{32}$")
# Django's SQLite DateTimeField text (USE_TZ=True: UTC, no offset, microseconds only if non-zero).
SQLITE_DT_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")


def ts(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def assert_migrate_leaves_django_schema(stack, expect_new_tables=True):
    runs = stack.migrate_runs
    assert runs is not None, "the ab fixture did not run `authbridge migrate`"
    for i, r in enumerate(runs, 1):
        assert r.returncode == 0, (
            f"`authbridge migrate` run {i} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        )
    before, after = stack.schema_before, stack.schema_after
    added = sorted(set(after["tables"]) - set(before["tables"]))
    removed = sorted(set(before["tables"]) - set(after["tables"]))
    assert not removed, f"authbridge migrate dropped tables: {removed}"
    bad = [t for t in added if not t.startswith("authbridge_")]
    assert not bad, f"authbridge migrate created non-authbridge_ tables: {bad}"
    if expect_new_tables:
        assert added, "authbridge migrate created no authbridge_* table at all"
    for key in before:
        if key == "tables":
            continue
        assert after[key] == before[key], (
            f"authbridge migrate changed Django's schema ({key}):\n"
            f"before: {json.dumps(before[key], default=str)[:3000]}\n"
            f"after:  {json.dumps(after[key], default=str)[:3000]}"
        )
    # Django still considers its migrations complete.
    manage(stack.settings_module, stack.db, "migrate", "--check")


def assert_token_format(token: str, token_type: str, user_id):
    header, payload = raw_segments(token)
    assert header == HEADER, f"JWT header bytes: {header!r}"
    parsed = json.loads(payload, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in parsed]
    assert keys == CLAIM_ORDER, f"claim order {keys} in {payload!r}"
    c = dict(parsed)
    assert payload == compact(c), f"payload JSON is not compact: {payload!r}"
    assert c["token_type"] == token_type
    assert isinstance(c["exp"], int) and isinstance(c["iat"], int), payload
    assert JTI_RE.match(c["jti"]), f"jti {c['jti']!r} is not 32 lowercase hex chars"
    assert c["user_id"] == str(user_id) and isinstance(c["user_id"], str), (
        f"user_id claim {c['user_id']!r} (simplejwt 5.5.1 emits str(pk) = {str(user_id)!r})"
    )
    for seg in token.split("."):
        assert re.fullmatch(r"[A-Za-z0-9_-]+", seg), f"segment not unpadded base64url: {seg!r}"
    verified = claims(token)  # PyJWT, signature + exp checked, like simplejwt
    assert verified == c
    return c


def assert_obtain_body(resp, user) -> dict:
    assert resp.status == 200, resp.describe()
    assert resp.headers.get("content-type") == "application/json", resp.describe()
    body = resp.json()
    assert list(body) == ["refresh", "access", "user_id"], f"obtain keys {list(body)}"
    assert str(body["user_id"]) == str(user["id"]), body["user_id"]
    return body


def assert_django_accepts(stack, access: str, user):
    r = stack.agent.me(access)
    assert r.status == 200, f"Django JWTAuthentication rejected the access token: {r.describe()}"
    # Users created by the fixtures are not staff; user_row() reads the flag.
    want = {"id": user["id"], "username": user["login"], "email": user["email"], "is_staff": user.get("is_staff", False)}
    assert r.body == compact(want), r.body


def outstanding(stack, jti):
    return stack.orm(
        "t = OutstandingToken.objects.filter(jti=args['jti']).first()\n"
        "result = None if t is None else {'user_id': t.user_id, 'token': t.token, 'jti': t.jti,\n"
        "  'created_at': t.created_at, 'expires_at': t.expires_at,\n"
        "  'blacklisted_at': getattr(getattr(t, 'blacklistedtoken', None), 'blacklisted_at', None)}",
        jti=jti,
    )


def raw_sqlite_datetimes(stack, jti):
    return stack.orm(
        "result = sql(\"SELECT typeof(created_at), created_at || '', typeof(expires_at), expires_at || '',"
        " typeof(user_id) FROM token_blacklist_outstandingtoken WHERE jti = %s\", [args['jti']])",
        jti=jti,
    )


def assert_outstanding_row(stack, refresh: str, user_id, blacklisted=False):
    c = claims(refresh)
    row = outstanding(stack, c["jti"])
    assert row is not None, f"no token_blacklist_outstandingtoken row for jti {c['jti']}"
    assert row["user_id"] == user_id, row
    assert row["token"] == refresh, "outstanding.token is not the issued refresh JWT"
    assert ts(row["expires_at"]) == c["exp"], f"expires_at {row['expires_at']} != exp {c['exp']}"
    assert row["created_at"] is not None, "created_at is NULL (simplejwt sets it)"
    assert dt.datetime.fromisoformat(row["created_at"]).utcoffset() == dt.timedelta(0)
    assert c["iat"] - 1 <= ts(row["created_at"]) < c["iat"] + 2, (row["created_at"], c["iat"])
    if blacklisted:
        assert row["blacklisted_at"] is not None, f"jti {c['jti']} is not blacklisted"
    else:
        assert row["blacklisted_at"] is None, f"jti {c['jti']} is unexpectedly blacklisted"
    if stack.vendor == "sqlite":
        (t_created, created, t_exp, exp, t_uid), = raw_sqlite_datetimes(stack, c["jti"])
        assert (t_created, t_exp) == ("text", "text"), (t_created, t_exp)
        assert SQLITE_DT_RE.match(created), f"created_at stored as {created!r} (Django: 'YYYY-MM-DD HH:MM:SS[.ffffff]')"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", exp), (
            f"expires_at stored as {exp!r} (Django stores exp as 'YYYY-MM-DD HH:MM:SS')"
        )
        assert t_uid == "integer", f"user_id stored with SQLite type {t_uid}"
    return row


def assert_rotation(stack, ab, user, old_pair):
    """Refresh at authbridge; check the rows Django sees and the tokens Django accepts."""
    before = time.time()
    r = ab.post_json("/api/token/refresh/", {"refresh": old_pair["refresh"]})
    assert r.status == 200, r.describe()
    assert r.headers.get("content-type") == "application/json", r.describe()
    new = r.json()
    assert list(new) == ["access", "refresh"], f"refresh keys {list(new)}"
    old_c, new_c = claims(old_pair["refresh"]), claims(new["refresh"])
    assert new_c["jti"] != old_c["jti"]
    assert_token_format(new["refresh"], "refresh", user["id"])
    assert_token_format(new["access"], "access", user["id"])
    # Rotation re-issues exp from now (sliding window).
    assert int(before) - 1 <= new_c["iat"] <= time.time() + 1
    assert new_c["exp"] == new_c["iat"] + 86400, new_c
    # Django sees: old blacklisted, new outstanding (same user).
    assert_outstanding_row(stack, old_pair["refresh"], user["id"], blacklisted=True)
    assert_outstanding_row(stack, new["refresh"], user["id"], blacklisted=False)
    row = outstanding(stack, old_c["jti"])
    assert before - 2 <= ts(row["blacklisted_at"]) <= time.time() + 2, row
    assert_django_accepts(stack, new["access"], user)
    # Django's own views agree the old token is dead.
    d = stack.agent.request("POST", "/api/token/verify/", json.dumps({"token": old_pair["refresh"]}).encode(),
                            "application/json")
    assert (d.status, d.body) == (400, VERIFY_BLACKLISTED), d.describe()
    d = stack.agent.request("POST", "/api/token/verify/", json.dumps({"token": new["refresh"]}).encode(),
                            "application/json")
    assert (d.status, d.body) == (200, EMPTY), d.describe()
    return new


def assert_replay_rejected(stack, ab, refresh):
    r = ab.post_json("/api/token/refresh/", {"refresh": refresh})
    assert (r.status, r.body) == (401, BLACKLISTED), r.describe()
    assert r.headers.get("www-authenticate") == 'Bearer realm="api"', r.describe()


USER_ROW = r"""
u = User.objects.get(**{User.USERNAME_FIELD: args['login']})
enc = u.password
result = {
    'id': u.pk, 'login': u.get_username(), 'email': u.email, 'is_active': u.is_active,
    'is_staff': u.is_staff, 'is_superuser': u.is_superuser,
    'first_name': getattr(u, 'first_name', None), 'last_name': getattr(u, 'last_name', None),
    'date_joined': u.date_joined, 'last_login': u.last_login, 'hash': enc,
    'check': u.check_password(args['pw']) if args.get('pw') is not None else None,
    'must_update': hashers.identify_hasher(enc).must_update(enc) if hashers.is_password_usable(enc) else None,
}
"""


def user_row(stack, login, pw=None):
    return stack.orm(USER_ROW, login=login, pw=pw)


def assert_cli_user_is_django_user(stack, ab, login, pw, superuser=False, email=None):
    """A user written by `authbridge createuser` is a normal Django user."""
    row = user_row(stack, login, pw)
    assert row["check"] is True, f"Django's check_password rejects the CLI-set password: {row}"
    assert row["hash"].startswith("pbkdf2_sha256$1000000$") and row["must_update"] is False, row["hash"]
    assert row["is_active"] is True
    assert row["is_staff"] is superuser and row["is_superuser"] is superuser, row
    if email is not None:
        assert row["email"] == email, row
    if stack.username_field == "username":
        assert (row["first_name"], row["last_name"]) == ("", ""), row
    assert row["last_login"] is None, row
    assert abs(ts(row["date_joined"]) - time.time()) < 120, row
    assert dt.datetime.fromisoformat(row["date_joined"]).utcoffset() == dt.timedelta(0)
    if stack.vendor == "sqlite":
        table = "accounts_user" if stack.username_field == "email" else "auth_user"
        (t_dj, dj_text, t_active, active), = stack.orm(
            f"result = sql(\"SELECT typeof(date_joined), date_joined || '', typeof(is_active), is_active"
            f" FROM {table} WHERE id = %s\", [args['id']])", id=row["id"])
        assert t_dj == "text" and SQLITE_DT_RE.match(dj_text), f"date_joined stored as {t_dj} {dj_text!r}"
        assert (t_active, active) == ("integer", 1), (t_active, active)
    # Django logs the user in with its own views, and so does authbridge.
    body = {stack.username_field: login, "password": pw}
    d = stack.agent.request("POST", "/api/token/", json.dumps(body).encode(), "application/json")
    assert d.status == 200, d.describe()
    user = {"id": row["id"], "login": login, "email": row["email"], "is_staff": row["is_staff"]}
    assert_django_accepts(stack, d.json()["access"], user)
    r = ab.post_json("/api/token/", body)
    assert_obtain_body(r, user)
    return row
