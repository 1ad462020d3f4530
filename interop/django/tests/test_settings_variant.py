"""SIMPLE_JWT settings off their defaults, set the Django way (settings_variant.py) and the
authbridge way (SIMPLE_JWT_* environment variables) to the same values: both must still answer
alike and accept each other's tokens."""
import json
import time
import uuid

import pytest

from cases import BLACKLISTED, EMPTY, EXPIRED, INVALID, NO_ID, NO_TYPE, Ctx, compact
from checks import assert_django_accepts, ts, user_row
from differential import Case, check_case, post_json
from harness import SECRET, mint, raw_segments

SETTINGS_MODULE = "djproject.settings_variant"
AUD, ISS = "authbridge-interop", "https://issuer.example"
AUTHBRIDGE_ENV = {
    "SIMPLE_JWT_ACCESS_TOKEN_LIFETIME": "120",
    "SIMPLE_JWT_REFRESH_TOKEN_LIFETIME": "10800",
    "SIMPLE_JWT_ROTATE_REFRESH_TOKENS": "false",
    "SIMPLE_JWT_BLACKLIST_AFTER_ROTATION": "false",
    "SIMPLE_JWT_UPDATE_LAST_LOGIN": "true",
    "SIMPLE_JWT_ALGORITHM": "HS512",
    "SIMPLE_JWT_AUDIENCE": AUD,
    "SIMPLE_JWT_ISSUER": ISS,
    "SIMPLE_JWT_USER_ID_CLAIM": "uid",
    "SIMPLE_JWT_TOKEN_TYPE_CLAIM": "kind",
    "SIMPLE_JWT_JTI_CLAIM": "token_id",
    "SIMPLE_JWT_LEEWAY": "30",
    "SIMPLE_JWT_CHECK_REVOKE_TOKEN": "true",
}

USERS = [
    {"key": "alice", "login": "alice", "password": "alice-password"},
    {"key": "changer", "login": "changer", "password": "changer-password"},
    {"key": "inactive", "login": "ivan", "password": "ivan-password", "active": False},
    {"key": "gone", "login": "gone", "password": "gone-password", "delete": True},
]

OBTAIN, REFRESH, VERIFY, BLACKLIST = "/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/"


def vmint(c, kind="refresh", lifetime=10800, key="alice", drop=(), algorithm="HS512", **over):
    """A token the variant settings would issue (claim names, HS512, aud and iss last)."""
    now = int(time.time())
    p = {"kind": kind, "exp": now + lifetime, "iat": now, "token_id": uuid.uuid4().hex, "uid": str(c.uid(key))}
    p.update({k: v for k, v in over.items() if k not in ("aud", "iss")})
    p["aud"] = over.get("aud", AUD)
    p["iss"] = over.get("iss", ISS)
    for d in drop:
        p.pop(d, None)
    return mint(p, algorithm=algorithm)


class VCtx(Ctx):
    unique_claims = ("token_id",)

    def prepare(self):
        r = self.ab.post_json(OBTAIN, self.creds())
        assert r.status == 200, r.describe()
        pair = r.json()
        r = self.ab.post_json(BLACKLIST, {"refresh": pair["refresh"]})
        assert r.status == 200, r.describe()
        self.tok["logged_out_at_ab"] = pair["refresh"]
        self.tok["reusable"] = self.for_user("alice")["refresh"]


def changed_password_refresh(c):
    """A Django-issued pair (with hash_password), then the password changes."""
    # Same stored hash on both sides first, so hash_password claims are comparable.
    c.agent.exec("User.objects.filter(pk=args['id']).update(password=args['enc'])",
                 id=c.uid("changer"), enc=c.stack.user("changer")["hash"])
    pair = c.for_user("changer")
    c.agent.exec("u = User.objects.get(pk=args['id']); u.set_password(args['pw']); u.save()",
                 id=c.uid("changer"), pw=uuid.uuid4().hex)
    return post_json(REFRESH, {"refresh": pair["refresh"]})


def J(path, field, fn):
    return lambda c: post_json(path, {field: fn(c)})


CASES = [
    Case("obtain-ok", lambda c: post_json(OBTAIN, c.creds()), compare="shape", expect_status=200),
    Case("obtain-inactive", lambda c: post_json(OBTAIN, c.creds("inactive")), expect_status=401),
    Case("refresh-ok-no-rotation", lambda c: post_json(REFRESH, {"refresh": c.for_user("alice")["refresh"]}),
         compare="shape", expect_status=200),
    Case("refresh-ok-same-token-again", J(REFRESH, "refresh", lambda c: c.tok["reusable"]),
         compare="shape", expect_status=200),
    Case("refresh-ok-after-password-change", changed_password_refresh, compare="shape", expect_status=200),
    Case("refresh-ok-minted", J(REFRESH, "refresh", lambda c: vmint(c)), compare="shape", expect_status=200),
    Case("refresh-ok-expired-within-leeway", J(REFRESH, "refresh", lambda c: vmint(c, lifetime=-10)),
         compare="shape", expect_status=200),
    Case("refresh-expired-beyond-leeway", J(REFRESH, "refresh", lambda c: vmint(c, lifetime=-60)),
         expect_status=401, expect_body=EXPIRED),
    Case("refresh-ok-iat-in-future-within-leeway",
         J(REFRESH, "refresh", lambda c: vmint(c, iat=int(time.time()) + 10)), compare="shape", expect_status=200),
    Case("refresh-nbf-beyond-leeway", J(REFRESH, "refresh", lambda c: vmint(c, nbf=int(time.time()) + 120)),
         expect_status=401, expect_body=INVALID),
    Case("refresh-no-aud", J(REFRESH, "refresh", lambda c: vmint(c, drop=("aud",))), expect_status=401,
         expect_body=INVALID),
    Case("refresh-wrong-aud", J(REFRESH, "refresh", lambda c: vmint(c, aud="someone-else")), expect_status=401,
         expect_body=INVALID),
    Case("refresh-ok-aud-list-containing-ours", J(REFRESH, "refresh", lambda c: vmint(c, aud=["x", AUD])),
         compare="shape", expect_status=200),
    Case("refresh-no-iss", J(REFRESH, "refresh", lambda c: vmint(c, drop=("iss",))), expect_status=401,
         expect_body=INVALID),
    Case("refresh-wrong-iss", J(REFRESH, "refresh", lambda c: vmint(c, iss="https://evil.example")),
         expect_status=401, expect_body=INVALID),
    Case("refresh-hs256", J(REFRESH, "refresh", lambda c: vmint(c, algorithm="HS256")), expect_status=401,
         expect_body=INVALID),
    Case("refresh-default-type-claim-name",
         J(REFRESH, "refresh", lambda c: vmint(c, drop=("kind",), token_type="refresh")), expect_status=401,
         expect_body=NO_TYPE),
    Case("refresh-inactive-user", J(REFRESH, "refresh", lambda c: vmint(c, key="inactive")), expect_status=401),
    Case("refresh-logged-out", J(REFRESH, "refresh", lambda c: c.tok["logged_out_at_ab"]), expect_status=401,
         expect_body=BLACKLISTED),
    Case("verify-ok-access", J(VERIFY, "token", lambda c: c.for_user("alice")["access"]), expect_status=200,
         expect_body=EMPTY),
    # BLACKLIST_AFTER_ROTATION=False: verify does not look at the blacklist.
    Case("verify-ok-logged-out-refresh", J(VERIFY, "token", lambda c: c.tok["logged_out_at_ab"]),
         expect_status=200, expect_body=EMPTY),
    Case("verify-no-id", J(VERIFY, "token", lambda c: vmint(c, drop=("token_id",))), expect_status=401,
         expect_body=NO_ID),
    Case("verify-wrong-aud", J(VERIFY, "token", lambda c: vmint(c, aud="nope")), expect_status=401,
         expect_body=INVALID),
    Case("blacklist-ok", J(BLACKLIST, "refresh", lambda c: c.for_user("alice")["refresh"]), expect_status=200,
         expect_body=EMPTY),
    Case("blacklist-again", J(BLACKLIST, "refresh", lambda c: c.tok["logged_out_at_ab"]), expect_status=401,
         expect_body=BLACKLISTED),
    Case("blacklist-access", J(BLACKLIST, "refresh", lambda c: vmint(c, kind="access", lifetime=120)),
         expect_status=401),
]


@pytest.fixture(scope="module")
def ctx(stack, ab):
    c = VCtx(stack, ab)
    c.prepare()
    return c


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_answer_as_django(ctx, case):
    check_case(ctx, case)


def test_tokens_follow_the_settings(stack, ab):
    u = stack.user("alice")
    r = ab.post_json(OBTAIN, stack.login_body("alice"))
    assert r.status == 200, r.describe()
    body = r.json()
    md5 = stack.orm("from rest_framework_simplejwt.utils import get_md5_hash_password\n"
                    "result = get_md5_hash_password(User.objects.get(pk=args['id']).password)", id=u["id"])
    for name, kind, life in (("refresh", "refresh", 10800), ("access", "access", 120)):
        header, payload = raw_segments(body[name])
        assert header == b'{"alg":"HS512","typ":"JWT"}', header
        p = json.loads(payload, object_pairs_hook=list)
        assert [k for k, _ in p] == ["kind", "exp", "iat", "token_id", "uid", "hash_password", "aud", "iss"], payload
        d = dict(p)
        assert (d["kind"], d["uid"], d["hash_password"], d["aud"], d["iss"]) == (kind, str(u["id"]), md5, AUD, ISS)
        assert d["exp"] - d["iat"] in (life, life - 1), d
    import jwt

    jwt.decode(body["access"], SECRET, algorithms=["HS512"], audience=AUD, issuer=ISS)


def test_update_last_login(stack, ab):
    before = time.time()
    r = ab.post_json(OBTAIN, stack.login_body("alice"))
    assert r.status == 200, r.describe()
    row = user_row(stack, "alice")
    assert row["last_login"] is not None, "UPDATE_LAST_LOGIN=True but last_login is NULL"
    assert before - 2 <= ts(row["last_login"]) <= time.time() + 2, row


def test_revoke_check_across_implementations(stack, ab):
    """Django's JWTAuthentication (CHECK_REVOKE_TOKEN) accepts authbridge's hash_password claim,
    and rejects it once the password changes."""
    # (the differential cases above may have changed this user's password)
    stack.orm("u = User.objects.get(username='changer'); u.set_password('changer-password'); u.save()")
    r = ab.post_json(OBTAIN, {"username": "changer", "password": "changer-password"})
    assert r.status == 200, r.describe()
    access = r.json()["access"]
    u = stack.user("changer")
    assert_django_accepts(stack, access, u)
    stack.orm("u = User.objects.get(username='changer'); u.set_password('another-one'); u.save()")
    d = stack.agent.me(access)
    assert (d.status, d.body) == (
        401, compact({"detail": "The user's password has been changed.", "code": "password_changed"})
    ), d.describe()
