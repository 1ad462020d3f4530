"""authbridge and a stock Django + simplejwt project sharing one database: each accepts the
other's tokens, and Django's ORM sees exactly the rows simplejwt itself would write."""
import json
import time

import pytest

from cases import BLACKLISTED, EMPTY, NO_ACCOUNT, NO_ACTIVE_FOR_TOKEN, compact
from checks import (
    assert_cli_user_is_django_user,
    assert_django_accepts,
    assert_migrate_leaves_django_schema,
    assert_obtain_body,
    assert_outstanding_row,
    assert_replay_rejected,
    assert_rotation,
    assert_token_format,
    outstanding,
    user_row,
)
from harness import claims, cli, mint, std_claims, unverified

UNICODE_PW = "pässwörd-ünïcöde-🔑"

USERS = [
    # one per hasher, for the login matrix
    {"key": "pbkdf2", "login": "paula", "password": "paula-password"},
    {"key": "pbkdf2_600k", "login": "sam", "password": "sam-password", "hasher": "pbkdf2_sha256_600000"},
    {"key": "argon2", "login": "arnold", "password": UNICODE_PW, "hasher": "argon2"},
    {"key": "bcrypt", "login": "betty", "password": "betty-password", "hasher": "bcrypt_sha256"},
    # hash upgrade: one twin logs in at authbridge, the other at Django; results must agree
    {"key": "up_600k_ab", "login": "up600a", "password": "up-600k", "hasher": "pbkdf2_sha256_600000"},
    {"key": "up_600k_dj", "login": "up600d", "password": "up-600k", "hasher": "pbkdf2_sha256_600000"},
    {"key": "up_argon2_ab", "login": "upargona", "password": "up-argon2", "hasher": "argon2"},
    {"key": "up_argon2_dj", "login": "upargond", "password": "up-argon2", "hasher": "argon2"},
    {"key": "up_bcrypt_ab", "login": "upbcrypta", "password": "up-bcrypt", "hasher": "bcrypt_sha256"},
    {"key": "up_bcrypt_dj", "login": "upbcryptd", "password": "up-bcrypt", "hasher": "bcrypt_sha256"},
    {"key": "wrong_600k", "login": "wrong600", "password": "right-one", "hasher": "pbkdf2_sha256_600000"},
    # state tests
    {"key": "inactive", "login": "ivan", "password": "ivan-password", "active": False},
    {"key": "flow", "login": "flow", "password": "flow-password"},
    {"key": "flipper", "login": "flipper", "password": "flipper-password"},
    {"key": "doomed", "login": "doomed", "password": "doomed-password"},
]

LOGIN_USERS = ["pbkdf2", "pbkdf2_600k", "argon2", "bcrypt"]


def login(stack, ab, key):
    u = stack.user(key)
    r = ab.post_json("/api/token/", stack.login_body(key))
    return assert_obtain_body(r, u)


def test_healthz(ab):
    r = ab.request("GET", "/healthz")
    assert r.status == 200, r.describe()


def test_migrate_adds_only_authbridge_tables(stack, ab):
    assert_migrate_leaves_django_schema(stack)


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize("key", LOGIN_USERS)
def test_login_and_django_accepts_token(stack, ab, key, encoding):
    u = stack.user(key)
    if encoding == "json":
        r = ab.post_json("/api/token/", stack.login_body(key))
    else:
        r = ab.post_form("/api/token/", stack.login_body(key))
    body = assert_obtain_body(r, u)
    assert claims(body["access"])["user_id"] == str(u["id"])
    assert_django_accepts(stack, body["access"], u)
    for tok in (body["access"], body["refresh"]):
        d = stack.agent.request("POST", "/api/token/verify/", json.dumps({"token": tok}).encode(),
                                "application/json")
        assert (d.status, d.body) == (200, EMPTY), d.describe()
    # UPDATE_LAST_LOGIN defaults to False: a JWT login never touches last_login.
    assert stack.orm("result = User.objects.get(pk=args['id']).last_login", id=u["id"]) is None


def test_token_format(stack, ab):
    u = stack.user("pbkdf2")
    t0 = int(time.time())
    body = login(stack, ab, "pbkdf2")
    rc = assert_token_format(body["refresh"], "refresh", u["id"])
    ac = assert_token_format(body["access"], "access", u["id"])
    assert t0 - 1 <= rc["iat"] <= time.time() + 1
    assert rc["exp"] == rc["iat"] + 86400
    # simplejwt: access.exp = refresh's current_time + lifetime; access.iat its own (maybe 1 s later).
    assert ac["exp"] == rc["iat"] + 300, (rc, ac)
    assert rc["iat"] <= ac["iat"] <= rc["iat"] + 1
    assert rc["jti"] != ac["jti"]
    # Django mints the same shape.
    dj = stack.orm(
        "r = RefreshToken.for_user(User.objects.get(pk=args['id']))\n"
        "result = [str(r), str(r.access_token)]", id=u["id"])
    assert_token_format(dj[0], "refresh", u["id"])
    assert_token_format(dj[1], "access", u["id"])


def test_outstanding_row_after_login(stack, ab):
    u = stack.user("flow")
    body = login(stack, ab, "flow")
    assert_outstanding_row(stack, body["refresh"], u["id"])
    # Access tokens are never stored.
    assert outstanding(stack, claims(body["access"])["jti"]) is None


def test_refresh_rotation_rows(stack, ab):
    u = stack.user("flow")
    pair = login(stack, ab, "flow")
    new = assert_rotation(stack, ab, u, pair)
    # The successor keeps working at authbridge, and the rotated token is refused by both.
    newer = assert_rotation(stack, ab, u, new)
    d = stack.agent.request("POST", "/api/token/refresh/", json.dumps({"refresh": pair["refresh"]}).encode(),
                            "application/json")
    assert (d.status, d.body) == (401, BLACKLISTED), d.describe()
    assert_replay_rejected(stack, ab, pair["refresh"])
    assert newer["refresh"] != new["refresh"]


def test_logout_row(stack, ab):
    u = stack.user("flow")
    pair = login(stack, ab, "flow")
    r = ab.post_json("/api/token/blacklist/", {"refresh": pair["refresh"]})
    assert (r.status, r.body) == (200, EMPTY), r.describe()
    assert r.headers.get("content-type") == "application/json"
    assert_outstanding_row(stack, pair["refresh"], u["id"], blacklisted=True)
    assert_replay_rejected(stack, ab, pair["refresh"])
    d = stack.agent.request("POST", "/api/token/refresh/", json.dumps({"refresh": pair["refresh"]}).encode(),
                            "application/json")
    assert (d.status, d.body) == (401, BLACKLISTED), d.describe()
    # simplejwt never blacklists access tokens: the access token lives on until exp, at both.
    assert_django_accepts(stack, pair["access"], u)
    r = ab.post_json("/api/token/verify/", {"token": pair["access"]})
    assert (r.status, r.body) == (200, EMPTY), r.describe()


def test_django_minted_pair_refreshes_at_authbridge(stack, ab):
    u = stack.user("flow")
    pair = stack.orm(
        "r = RefreshToken.for_user(User.objects.get(pk=args['id']))\n"
        "result = {'refresh': str(r), 'access': str(r.access_token)}", id=u["id"])
    r = ab.post_json("/api/token/verify/", {"token": pair["access"]})
    assert (r.status, r.body) == (200, EMPTY), r.describe()
    assert_rotation(stack, ab, u, pair)
    assert_replay_rejected(stack, ab, pair["refresh"])


def test_django_views_rotate_authbridge_tokens(stack, ab):
    u = stack.user("flow")
    pair = login(stack, ab, "flow")
    d = stack.agent.request("POST", "/api/token/refresh/", json.dumps({"refresh": pair["refresh"]}).encode(),
                            "application/json")
    assert d.status == 200, d.describe()
    dj_new = d.json()
    # Django blacklisted authbridge's token in the shared table; authbridge must see it.
    assert_replay_rejected(stack, ab, pair["refresh"])
    # ... and continue the chain from Django's successor.
    assert_rotation(stack, ab, u, dj_new)


def test_django_logout_of_authbridge_token(stack, ab):
    pair = login(stack, ab, "flow")
    d = stack.agent.request("POST", "/api/token/blacklist/", json.dumps({"refresh": pair["refresh"]}).encode(),
                            "application/json")
    assert (d.status, d.body) == (200, EMPTY), d.describe()
    assert_replay_rejected(stack, ab, pair["refresh"])
    r = ab.post_json("/api/token/blacklist/", {"refresh": pair["refresh"]})
    assert (r.status, r.body) == (401, BLACKLISTED), r.describe()


HASH_OF = "result = User.objects.get(pk=args['id']).password"
CHECK_PW = (
    "u = User.objects.get(pk=args['id'])\n"
    "enc = u.password\n"
    "ok = hashers.check_password(args['pw'], enc)\n"
    "result = {'ok': ok, 'must_update': hashers.identify_hasher(enc).must_update(enc),\n"
    "          'user_check': u.check_password(args['pw'])}"
)


def params_of(encoded: str) -> str:
    """Algorithm and work parameters of a Django hash, without salt and digest."""
    parts = encoded.split("$")
    if parts[0] == "pbkdf2_sha256":
        return "$".join(parts[:2])
    if parts[0] == "argon2":
        return "$".join(parts[:4])
    if parts[0] == "bcrypt_sha256":
        return "$".join(parts[:4])
    return parts[0]


@pytest.mark.parametrize("kind", ["600k", "argon2", "bcrypt"])
def test_hash_upgrade_matches_django(stack, ab, kind):
    ab_user, dj_user = stack.user(f"up_{kind}_ab"), stack.user(f"up_{kind}_dj")
    login(stack, ab, f"up_{kind}_ab")
    d = stack.agent.request("POST", "/api/token/", json.dumps(stack.login_body(f"up_{kind}_dj")).encode(),
                            "application/json")
    assert d.status == 200, d.describe()
    ab_hash = stack.orm(HASH_OF, id=ab_user["id"])
    dj_hash = stack.orm(HASH_OF, id=dj_user["id"])
    assert dj_hash != dj_user["hash"], "harness: Django did not upgrade the hash"
    assert ab_hash != ab_user["hash"], f"authbridge did not upgrade the {kind} hash: {ab_hash[:40]}..."
    assert params_of(ab_hash) == params_of(dj_hash) == "pbkdf2_sha256$1000000", (ab_hash, dj_hash)
    salt = ab_hash.split("$")[2]
    assert len(salt) >= 22 and salt.isalnum() and salt.isascii(), f"salt {salt!r}"
    assert len(ab_hash.split("$")[3]) == 44
    chk = stack.orm(CHECK_PW, id=ab_user["id"], pw=ab_user["password"])
    assert chk == {"ok": True, "must_update": False, "user_check": True}, chk
    # ... and authbridge logs in with the hash it wrote.
    login(stack, ab, f"up_{kind}_ab")


def test_pbkdf2_600k_upgraded_to_1m(stack, ab):
    u = stack.user("pbkdf2_600k")
    login(stack, ab, "pbkdf2_600k")
    enc = stack.orm(HASH_OF, id=u["id"])
    assert enc.startswith("pbkdf2_sha256$1000000$"), enc
    chk = stack.orm(CHECK_PW, id=u["id"], pw=u["password"])
    assert chk == {"ok": True, "must_update": False, "user_check": True}, chk


def test_current_hash_not_rewritten(stack, ab):
    u = stack.user("pbkdf2")
    login(stack, ab, "pbkdf2")
    assert stack.orm(HASH_OF, id=u["id"]) == u["hash"]


def test_wrong_password_leaves_hash_alone(stack, ab):
    u = stack.user("wrong_600k")
    r = ab.post_json("/api/token/", stack.login_body("wrong_600k", password="not-it"))
    assert (r.status, r.body) == (401, NO_ACCOUNT), r.describe()
    assert stack.orm(HASH_OF, id=u["id"]) == u["hash"]


def test_inactive_user_cannot_log_in(stack, ab):
    r = ab.post_json("/api/token/", stack.login_body("inactive"))
    assert (r.status, r.body) == (401, NO_ACCOUNT), r.describe()
    assert r.headers.get("www-authenticate") == 'Bearer realm="api"', r.describe()


def test_refresh_after_deactivation(stack, ab):
    """Deactivation ends every login of the user (issue 7's revocation): authbridge answers the
    refresh as simplejwt does, and blacklists the user's refresh tokens in Django's own table, so
    Django's simplejwt then refuses the token as blacklisted, and reactivation does not revive it."""
    u = stack.user("flipper")
    pair = login(stack, ab, "flipper")
    # Before the deactivation Django answers the inactive user as simplejwt does.
    stack.orm("User.objects.filter(pk=args['id']).update(is_active=False)", id=u["id"])
    try:
        other = login_pair_from_django(stack, u["id"])
        d = stack.agent.request("POST", "/api/token/refresh/",
                                json.dumps({"refresh": other}).encode(), "application/json")
        assert (d.status, d.body) == (401, NO_ACTIVE_FOR_TOKEN), d.describe()
        r = ab.post_json("/api/token/refresh/", {"refresh": pair["refresh"]})
        assert (r.status, r.body) == (401, NO_ACTIVE_FOR_TOKEN), r.describe()
        assert r.headers.get("www-authenticate") == 'Bearer realm="api"', r.describe()
        # The login is over, in Django's table too.
        assert_outstanding_row(stack, pair["refresh"], u["id"], blacklisted=True)
        d = stack.agent.request("POST", "/api/token/refresh/",
                                json.dumps({"refresh": pair["refresh"]}).encode(), "application/json")
        assert (d.status, d.body) == (401, BLACKLISTED), d.describe()
    finally:
        stack.orm("User.objects.filter(pk=args['id']).update(is_active=True)", id=u["id"])
    r = ab.post_json("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert (r.status, r.body) == (401, BLACKLISTED), r.describe()


def login_pair_from_django(stack, user_id):
    return stack.agent.exec(
        "result = str(RefreshToken.for_user(User.objects.get(pk=args['id'])))", id=user_id)


def test_refresh_of_deleted_user_is_401(stack, ab):
    """Documented difference: Django answers 500 (User.DoesNotExist escapes); authbridge 401."""
    u = stack.user("doomed")
    pair = login(stack, ab, "doomed")
    stack.orm("User.objects.filter(pk=args['id']).delete()", id=u["id"])
    r = ab.post_json("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert r.status == 401, r.describe()
    assert r.headers.get("content-type") == "application/json", r.describe()
    assert "detail" in r.json(), r.describe()
    # Django nulled the FK on delete (on_delete=SET_NULL); the row is still readable.
    row = outstanding(stack, claims(pair["refresh"])["jti"])
    assert row is not None and row["user_id"] is None, row


def test_refresh_without_jti_is_401(stack, ab):
    """Documented difference: Django answers 500 (KeyError in check_blacklist); authbridge 401."""
    tok = mint(std_claims("refresh", stack.user("flow")["id"], 3600, jti=None))
    r = ab.post_json("/api/token/refresh/", {"refresh": tok})
    assert r.status == 401, r.describe()
    assert r.headers.get("content-type") == "application/json", r.describe()


def test_grace_period_replay_returns_same_pair(stack, ab):
    """Documented difference: within REFRESH_TOKEN_GRACE_PERIOD a replayed refresh token gets
    the successor pair it got the first time (Django: 401 blacklisted)."""
    graceful = stack.start(log_name="authbridge-grace", SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD="10")
    u = stack.user("flow")
    r = graceful.post_json("/api/token/", stack.login_body("flow"))
    pair = assert_obtain_body(r, u)
    first = graceful.post_json("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert first.status == 200, first.describe()
    second = graceful.post_json("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert (second.status, second.body) == (200, first.body), second.describe()
    # The database says what Django would: the old token is blacklisted, the new outstanding.
    assert_outstanding_row(stack, pair["refresh"], u["id"], blacklisted=True)
    assert_outstanding_row(stack, first.json()["refresh"], u["id"], blacklisted=False)


def test_flushexpiredtokens_on_authbridge_rows(stack, ab):
    u = stack.user("flow")
    # Rows that expire naturally, written entirely by authbridge (a one-minute refresh lifetime:
    # long enough for the refresh below on a slow machine, long past when Django flushes).
    short = stack.start(log_name="authbridge-short", SIMPLE_JWT_REFRESH_TOKEN_LIFETIME="60")
    r = short.post_json("/api/token/", stack.login_body("flow"))
    p1 = assert_obtain_body(r, u)
    r = short.post_json("/api/token/refresh/", {"refresh": p1["refresh"]})
    assert r.status == 200, r.describe()
    p1b = r.json()
    r = short.post_json("/api/token/", stack.login_body("flow"))
    p2 = assert_obtain_body(r, u)
    r = short.post_json("/api/token/blacklist/", {"refresh": p2["refresh"]})
    assert r.status == 200, r.describe()
    natural = [p1["refresh"], p1b["refresh"], p2["refresh"]]
    for t in natural:
        c = claims(t)
        assert c["exp"] - c["iat"] == 60, f"SIMPLE_JWT_REFRESH_TOKEN_LIFETIME=60 not honoured: {c}"
    # A row made expired through the ORM, and rows that stay alive.
    made = login(stack, ab, "flow")["refresh"]
    stack.orm(
        "OutstandingToken.objects.filter(jti=args['jti']).update("
        "expires_at=timezone.now() - dt.timedelta(hours=1))", jti=claims(made)["jti"])
    alive = login(stack, ab, "flow")["refresh"]
    alive_bl = login(stack, ab, "flow")["refresh"]
    r = ab.post_json("/api/token/blacklist/", {"refresh": alive_bl})
    assert r.status == 200, r.describe()

    # Django's own flushexpiredtokens, run an hour from now on Django's clock (simplejwt's
    # `aware_utcnow`, as the command imports it) instead of waiting for the one-minute rows to
    # expire: past every `natural` expiry, well before the day the `alive` rows live.
    latest_exp = max(claims(t)["exp"] for t in natural)
    flushed_at = stack.orm(
        "from unittest import mock\n"
        "from rest_framework_simplejwt.token_blacklist.management.commands import flushexpiredtokens as cmd\n"
        "later = cmd.aware_utcnow() + dt.timedelta(hours=1)\n"
        "with mock.patch.object(cmd, 'aware_utcnow', lambda: later):\n"
        "    call_command('flushexpiredtokens')\n"
        "result = later.timestamp()")
    assert flushed_at > latest_exp + 3000, (flushed_at, latest_exp)

    for t in natural + [made]:
        assert outstanding(stack, _unverified_jti(t)) is None, "expired row survived flushexpiredtokens"
    gone_bl = stack.orm(
        "result = BlacklistedToken.objects.filter(token__jti__in=args['jtis']).count()",
        jtis=[_unverified_jti(t) for t in natural + [made]])
    assert gone_bl == 0
    assert_outstanding_row(stack, alive, u["id"], blacklisted=False)
    assert_outstanding_row(stack, alive_bl, u["id"], blacklisted=True)
    # authbridge keeps working on the flushed database.
    new = assert_rotation(stack, ab, u, {"refresh": alive, "access": None})
    assert_replay_rejected(stack, ab, alive)
    assert new["refresh"]


def _unverified_jti(token):
    return unverified(token)["jti"]


def test_createuser_cli_makes_a_django_user(stack, ab):
    pw = "newbie-pässwörd"
    p = cli(stack.env(), stack.workdir, "createuser", "newbie", "--email", "newbie@example.com",
            "--password-stdin", stdin=pw + "\n")
    assert p.returncode == 0, f"createuser failed:\n{p.stdout}\n{p.stderr}"
    assert_cli_user_is_django_user(stack, ab, "newbie", pw, email="newbie@example.com")


def test_createuser_cli_superuser(stack, ab):
    p = cli(stack.env(), stack.workdir, "createuser", "boss", "--email", "boss@example.com", "--superuser",
            "--password-stdin", stdin="boss-password\n")
    assert p.returncode == 0, f"createuser failed:\n{p.stdout}\n{p.stderr}"
    assert_cli_user_is_django_user(stack, ab, "boss", "boss-password", superuser=True)


def test_createuser_cli_refuses_existing_username(stack, ab):
    u = stack.user("bcrypt")
    before = user_row(stack, u["login"])
    p = cli(stack.env(), stack.workdir, "createuser", u["login"], "--password-stdin", stdin="other\n")
    assert p.returncode != 0, "createuser of an existing username succeeded"
    assert user_row(stack, u["login"]) == before


def test_changepassword_cli(stack, ab):
    p = cli(stack.env(), stack.workdir, "createuser", "changer", "--password-stdin", stdin="first-pw\n")
    assert p.returncode == 0, p.stderr
    p = cli(stack.env(), stack.workdir, "changepassword", "changer", "--password-stdin", stdin="second-pw\n")
    assert p.returncode == 0, f"changepassword failed:\n{p.stdout}\n{p.stderr}"
    assert user_row(stack, "changer", "first-pw")["check"] is False
    assert_cli_user_is_django_user(stack, ab, "changer", "second-pw")
