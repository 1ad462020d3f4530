"""The differential table: requests whose answers from Django's simplejwt views and from
authbridge must be identical (status, body bytes, Content-Type, WWW-Authenticate / Allow /
Location), or, for success bodies holding fresh tokens, have the same status and JSON keys.

Every `make` receives a Ctx and returns a Req; it is called once per side so that cases which
change state (a successful refresh or logout) use their own fresh token on each side.

Users every module using these cases must define (keys): "alice" (active), "inactive"
(is_active=False, correct password known), "gone" (created then deleted).
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from differential import FORM, JSON, Case, Req, multipart, post_form, post_json, post_raw
from harness import SECRET, mint, sign_raw, std_claims

OBTAIN = "/api/token/"
REFRESH = "/api/token/refresh/"
VERIFY = "/api/token/verify/"
BLACKLIST = "/api/token/blacklist/"

REQ = "This field is required."
BLANK = "This field may not be blank."
NULL = "This field may not be null."
NOTSTR = "Not a valid string."

NO_ACCOUNT = b'{"detail":"No active account found with the given credentials"}'
NO_ACTIVE_FOR_TOKEN = b'{"detail":"No active account found for the given token."}'
INVALID = b'{"detail":"Token is invalid","code":"token_not_valid"}'
EXPIRED = b'{"detail":"Token is expired","code":"token_not_valid"}'
BLACKLISTED = b'{"detail":"Token is blacklisted","code":"token_not_valid"}'
WRONG_TYPE = b'{"detail":"Token has wrong type","code":"token_not_valid"}'
NO_TYPE = b'{"detail":"Token has no type","code":"token_not_valid"}'
NO_EXP = b'{"detail":"Token has no \'exp\' claim","code":"token_not_valid"}'
NO_ID = b'{"detail":"Token has no id","code":"token_not_valid"}'
VERIFY_BLACKLISTED = b'{"non_field_errors":["Token is blacklisted"]}'
EMPTY = b"{}"


def compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def unsupported(ct: str) -> bytes:
    return compact({"detail": f'Unsupported media type "{ct}" in request.'})


def not_allowed(m: str) -> bytes:
    return compact({"detail": f'Method "{m}" not allowed.'})


class Ctx:
    """What case builders need: both servers, the users, and tokens prepared once."""

    def __init__(self, stack, ab):
        self.stack = stack
        self.agent = stack.agent
        self.ab = ab
        self.uf = stack.username_field
        self.tok: dict[str, str] = {}

    def uid(self, key):
        return self.stack.user(key)["id"]

    def login(self, key):
        return self.stack.user(key)["login"]

    def password(self, key):
        return self.stack.user(key)["password"]

    def creds(self, key="alice", **over):
        body = {self.uf: self.login(key), "password": self.password(key)}
        body.update(over)
        return body

    def for_user(self, key) -> dict:
        """A pair minted by Django's own RefreshToken.for_user (outstanding row written)."""
        return self.agent.exec(
            "r = RefreshToken.for_user(User.objects.get(pk=args['id']))\n"
            "result = {'refresh': str(r), 'access': str(r.access_token)}",
            id=self.uid(key),
        )

    def prepare(self):
        """Tokens in particular states, made once per module (both sides read them only)."""
        ab = self.ab
        # A refresh token rotated at authbridge (its row blacklisted by authbridge).
        r = ab.post_json(OBTAIN, self.creds())
        assert r.status == 200, r.describe()
        old = r.json()
        r = ab.post_json(REFRESH, {"refresh": old["refresh"]})
        assert r.status == 200, r.describe()
        self.tok["rotated_by_ab"] = old["refresh"]
        self.tok["access_of_rotated"] = old["access"]
        # A refresh token logged out at authbridge.
        r = ab.post_json(OBTAIN, self.creds())
        assert r.status == 200, r.describe()
        pair = r.json()
        r = ab.post_json(BLACKLIST, {"refresh": pair["refresh"]})
        assert r.status == 200, r.describe()
        self.tok["logged_out_at_ab"] = pair["refresh"]
        # A refresh token blacklisted by Django itself.
        self.tok["blacklisted_by_dj"] = self.agent.exec(
            "r = RefreshToken.for_user(User.objects.get(pk=args['id']))\n"
            "r.blacklist()\nresult = str(r)",
            id=self.uid("alice"),
        )
        # Tokens of the inactive user (for_user does not check is_active).
        p = self.for_user("inactive")
        self.tok["inactive_refresh"], self.tok["inactive_access"] = p["refresh"], p["access"]
        p = self.for_user("alice")
        self.tok["alice_access"], self.tok["alice_refresh"] = p["access"], p["refresh"]
        # Minted with PyJWT (simplejwt's own encoder), same key.
        a = self.uid("alice")
        self.tok["expired_refresh"] = mint(std_claims("refresh", a, -10, iat=int(time.time()) - 86410))
        self.tok["expired_access"] = mint(std_claims("access", a, -10, iat=int(time.time()) - 310))
        self.tok["gone_refresh"] = mint(std_claims("refresh", self.uid("gone"), 86400))
        self.tok["gone_access"] = mint(std_claims("access", self.uid("gone"), 300))

    # fresh tokens, per call
    def fresh_minted(self, key="alice", lifetime=86400, **over) -> str:
        """A refresh token for `key` signed with the shared key; `over` replaces claims in
        place (None removes one, new ones are appended)."""
        c = std_claims("refresh", self.uid(key) if key else None, lifetime)
        for k, v in over.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        return mint(c)


def T(name):
    return lambda c: c.tok[name]


def J(path, field, value_fn):
    return lambda c: post_json(path, {field: value_fn(c)})


def token_cases(path, field, prefix):
    """Failures shared by refresh / verify / blacklist (same token checks, same bodies)."""
    return [
        Case(f"{prefix}-missing", lambda c: post_json(path, {}), expect_status=400,
             expect_body=compact({field: [REQ]})),
        Case(f"{prefix}-blank", lambda c: post_json(path, {field: ""}), expect_status=400,
             expect_body=compact({field: [BLANK]})),
        Case(f"{prefix}-whitespace", lambda c: post_json(path, {field: "   "}), expect_status=400,
             expect_body=compact({field: [BLANK]})),
        Case(f"{prefix}-null", lambda c: post_json(path, {field: None}), expect_status=400,
             expect_body=compact({field: [NULL]})),
        Case(f"{prefix}-list", lambda c: post_json(path, {field: ["x"]}), expect_status=400,
             expect_body=compact({field: [NOTSTR]})),
        Case(f"{prefix}-integer", lambda c: post_json(path, {field: 5}), expect_status=401,
             expect_body=INVALID),
        Case(f"{prefix}-garbage", lambda c: post_json(path, {field: "abc"}), expect_status=401,
             expect_body=INVALID),
        Case(f"{prefix}-two-segments", lambda c: post_json(path, {field: "e30.e30"}),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-bad-signature",
             J(path, field, lambda c: mint(std_claims("refresh", c.uid("alice"), 3600),
                                          key="another-key-" + "x" * 40)),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-alg-none",
             J(path, field, lambda c: mint(std_claims("refresh", c.uid("alice"), 3600),
                                          key=None, algorithm="none")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-alg-hs512-same-key",
             J(path, field, lambda c: mint(std_claims("refresh", c.uid("alice"), 3600),
                                          algorithm="HS512")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-expired", J(path, field, T("expired_refresh")), expect_status=401,
             expect_body=EXPIRED),
        Case(f"{prefix}-iat-in-future",
             J(path, field, lambda c: c.fresh_minted(iat=int(time.time()) + 3600)),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-nbf-in-future",
             J(path, field, lambda c: c.fresh_minted(nbf=int(time.time()) + 3600)),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-exp-not-integer",
             J(path, field, lambda c: c.fresh_minted(exp="tomorrow")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-jti-not-string",
             J(path, field, lambda c: c.fresh_minted(jti=12345)),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-bearer-prefixed",
             J(path, field, lambda c: "Bearer " + c.fresh_minted()), expect_status=401,
             expect_body=INVALID),
        Case(f"{prefix}-malformed-json", lambda c: post_raw(path, b'{"' + field.encode() + b'": ', JSON),
             expect_status=400),
        Case(f"{prefix}-text-plain",
             lambda c: post_raw(path, json.dumps({field: c.tok["alice_refresh"]}).encode(), "text/plain"),
             expect_status=415, expect_body=unsupported("text/plain")),
        Case(f"{prefix}-get", lambda c: Req("GET", path), expect_status=405,
             expect_body=not_allowed("GET")),
        Case(f"{prefix}-head", lambda c: Req("HEAD", path), expect_status=405),
        Case(f"{prefix}-options", lambda c: Req("OPTIONS", path), expect_status=200),
        Case(f"{prefix}-accept-text-plain-only",
             lambda c: Req("POST", path, b"{}", JSON, {"Accept": "text/plain"}), expect_status=406),
        Case(f"{prefix}-json-null", lambda c: post_raw(path, b"null", JSON), expect_status=400),
        Case(f"{prefix}-json-array", lambda c: post_raw(path, b"[]", JSON), expect_status=400),
        Case(f"{prefix}-json-empty-body", lambda c: post_raw(path, b"", JSON), expect_status=400),
        Case(f"{prefix}-no-content-type",
             lambda c: post_raw(path, json.dumps({field: c.tok["alice_refresh"]}).encode(), None),
             expect_status=415, expect_body=unsupported("")),
        Case(f"{prefix}-form-missing", lambda c: post_form(path, {"other": "x"}), expect_status=400,
             expect_body=compact({field: [REQ]})),
        Case(f"{prefix}-sub-not-string", J(path, field, lambda c: c.fresh_minted(sub=42)),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-payload-not-object",
             J(path, field, lambda c: sign_raw(b'{"alg":"HS256","typ":"JWT"}', b"[1,2,3]")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-payload-not-json",
             J(path, field, lambda c: sign_raw(b'{"alg":"HS256","typ":"JWT"}', b"not json")),
             expect_status=401, expect_body=INVALID),
        # RFC 7515 critical headers and RFC 7797 unencoded payloads: PyJWT 2.15 refuses them.
        Case(f"{prefix}-crit-unknown",
             J(path, field, lambda c: sign_raw(b'{"alg":"HS256","typ":"JWT","crit":["exp"]}',
                                               compact(std_claims("refresh", c.uid("alice"), 3600)))),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-crit-empty",
             J(path, field, lambda c: sign_raw(b'{"alg":"HS256","typ":"JWT","crit":[]}',
                                               compact(std_claims("refresh", c.uid("alice"), 3600)))),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-b64-false",
             J(path, field, lambda c: sign_raw(b'{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}',
                                               compact(std_claims("refresh", c.uid("alice"), 3600)))),
             expect_status=401, expect_body=INVALID),
        # One spelling per signature: the standard alphabet, stray bits, over-padding.
        Case(f"{prefix}-sig-standard-alphabet",
             J(path, field, lambda c: respell_signature(c.fresh_minted(), "standard")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-sig-non-canonical",
             J(path, field, lambda c: respell_signature(c.fresh_minted(), "trailing-bits")),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-sig-double-padding", J(path, field, lambda c: c.fresh_minted() + "=="),
             expect_status=401, expect_body=INVALID),
        Case(f"{prefix}-sig-stray-character",
             J(path, field, lambda c: respell_signature(c.fresh_minted(), "stray")),
             expect_status=401, expect_body=INVALID),
        # DRF looks for a parser only when there is a body: field errors, not 415.
        *[Case(f"{prefix}-empty-body-{name}", lambda c, ct=ct: post_raw(path, b"", ct),
               expect_status=400, expect_body=compact({field: [REQ]}))
          for name, ct in (("no-content-type", None), ("text-plain", "text/plain"),
                           ("xml", "application/xml"), ("form", FORM),
                           ("multipart", "multipart/form-data; boundary=x"))],
        # A multipart field name with a control byte is one more unknown field.
        *[Case(f"{prefix}-multipart-control-byte-name-{i}",
               lambda c, name=name: multipart_raw(path, [(name, b"v"), (field.encode(), b"abc")]),
               expect_status=401, expect_body=INVALID)
          for i, name in enumerate((b"a\x1db", b"a\x01b", b"a\x7fb", b"a\nb", b"a\xffb"))],
        Case(f"{prefix}-header-not-json",
             J(path, field, lambda c: sign_raw(b"nope", compact(std_claims("refresh", c.uid("alice"), 3600)))),
             expect_status=401, expect_body=INVALID),
    ]


def tolerated_token_cases(path, field, prefix, compare, body=None):
    """Tokens PyJWT/simplejwt accept although they look unusual: each side gets a fresh one."""
    def tok(**over):
        return J(path, field, lambda c: c.fresh_minted(**over))

    def k(**kw):
        return dict(compare=compare, expect_status=200, expect_body=body, **kw)

    return [
        Case(f"{prefix}-ok-float-exp", tok(exp=int(time.time()) + 3600.5), **k()),
        Case(f"{prefix}-ok-float-iat", tok(iat=time.time() - 5.25), **k()),
        Case(f"{prefix}-ok-nbf-in-past", tok(nbf=int(time.time()) - 60), **k()),
        Case(f"{prefix}-ok-aud-claim-ignored", tok(aud="some-audience"), **k()),
        Case(f"{prefix}-ok-iss-claim-ignored", tok(iss="https://issuer.example"), **k()),
        Case(f"{prefix}-ok-sub-string", tok(sub="someone"), **k()),
        Case(f"{prefix}-ok-kid-header",
             J(path, field, lambda c: mint(std_claims("refresh", c.uid("alice"), 3600), headers={"kid": "k1"})),
             **k()),
        Case(f"{prefix}-ok-no-typ-header",
             J(path, field, lambda c: mint(std_claims("refresh", c.uid("alice"), 3600), headers={"typ": None})),
             **k()),
        Case(f"{prefix}-ok-padded-signature",
             J(path, field, lambda c: c.fresh_minted() + "="), **k()),
    ]


def obtain_cases():
    def body(c, **over):
        return c.creds(**over)

    return [
        # successes (fresh tokens: compare status and keys)
        Case("obtain-ok-json", lambda c: post_json(OBTAIN, c.creds()), compare="shape",
             expect_status=200),
        Case("obtain-ok-json-charset",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds()).encode(), "application/json; charset=utf-8"),
             compare="shape", expect_status=200),
        Case("obtain-ok-json-non-ascii-escaped",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds(), ensure_ascii=True).encode(), JSON),
             compare="shape", expect_status=200),
        Case("obtain-ok-json-raw-utf8",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds(), ensure_ascii=False).encode(), JSON),
             compare="shape", expect_status=200),
        Case("obtain-ok-form", lambda c: post_form(OBTAIN, c.creds()), compare="shape",
             expect_status=200),
        Case("obtain-ok-multipart", lambda c: multipart(OBTAIN, c.creds()), compare="shape",
             expect_status=200),
        Case("obtain-ok-trimmed-whitespace",
             lambda c: post_json(OBTAIN, {c.uf: "  " + c.login("alice") + " ",
                                          "password": " " + c.password("alice") + "\t"}),
             compare="shape", expect_status=200),
        Case("obtain-ok-extra-keys", lambda c: post_json(OBTAIN, c.creds(extra="ignored", is_staff=True)),
             compare="shape", expect_status=200),
        Case("obtain-ok-duplicate-keys-last-wins",
             lambda c: post_raw(OBTAIN, b'{"' + c.uf.encode() + b'": "nobody", ' + json.dumps(c.creds())[1:].encode(), JSON),
             compare="shape", expect_status=200),
        Case("obtain-ok-form-repeated-key-last-wins",
             lambda c: post_raw(OBTAIN, (urlencode(c.creds(password="wrong")) + "&" + urlencode({"password": c.password("alice")})).encode(), FORM),
             compare="shape", expect_status=200),
        Case("obtain-ok-ignores-authorization-header",
             lambda c: Req("POST", OBTAIN, json.dumps(c.creds()).encode(), JSON, {"Authorization": "Bearer garbage"}),
             compare="shape", expect_status=200),
        Case("obtain-ok-accept-json",
             lambda c: Req("POST", OBTAIN, json.dumps(c.creds()).encode(), JSON, {"Accept": "application/json"}),
             compare="shape", expect_status=200),
        # field validation
        Case("obtain-empty-object", lambda c: post_json(OBTAIN, {}), expect_status=400,
             expect_body=lambda c: compact({c.uf: [REQ], "password": [REQ]})),
        Case("obtain-only-username", lambda c: post_json(OBTAIN, {c.uf: c.login("alice")}),
             expect_status=400, expect_body=compact({"password": [REQ]})),
        Case("obtain-only-password", lambda c: post_json(OBTAIN, {"password": "x"}),
             expect_status=400, expect_body=lambda c: compact({c.uf: [REQ]})),
        Case("obtain-blank", lambda c: post_json(OBTAIN, {c.uf: "", "password": ""}),
             expect_status=400, expect_body=lambda c: compact({c.uf: [BLANK], "password": [BLANK]})),
        Case("obtain-whitespace-only", lambda c: post_json(OBTAIN, {c.uf: "  ", "password": " \t "}),
             expect_status=400, expect_body=lambda c: compact({c.uf: [BLANK], "password": [BLANK]})),
        Case("obtain-null", lambda c: post_json(OBTAIN, {c.uf: None, "password": None}),
             expect_status=400, expect_body=lambda c: compact({c.uf: [NULL], "password": [NULL]})),
        Case("obtain-list-password", lambda c: post_json(OBTAIN, c.creds(password=["x"])),
             expect_status=400, expect_body=compact({"password": [NOTSTR]})),
        Case("obtain-dict-username", lambda c: post_json(OBTAIN, {c.uf: {"a": 1}, "password": "x"}),
             expect_status=400),
        Case("obtain-bool-password", lambda c: post_json(OBTAIN, c.creds(password=True)),
             expect_status=400, expect_body=compact({"password": [NOTSTR]})),
        Case("obtain-nul-in-username", lambda c: post_json(OBTAIN, {c.uf: "al\u0000ice", "password": "x"}),
             expect_status=400),
        Case("obtain-int-password-coerced", lambda c: post_json(OBTAIN, c.creds(password=12345)),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-float-password-coerced", lambda c: post_json(OBTAIN, c.creds(password=1.5)),
             expect_status=401, expect_body=NO_ACCOUNT),
        # credentials
        Case("obtain-wrong-password", lambda c: post_json(OBTAIN, c.creds(password="nope")),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-unknown-user",
             lambda c: post_json(OBTAIN, {c.uf: "nobody-" + c.login("alice"), "password": "x"}),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-username-case-differs",
             lambda c: post_json(OBTAIN, c.creds(**{c.uf: c.login("alice").upper()})),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-inactive-correct-password", lambda c: post_json(OBTAIN, c.creds("inactive")),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-deleted-user", lambda c: post_json(OBTAIN, c.creds("gone")),
             expect_status=401, expect_body=NO_ACCOUNT),
        # body parsing
        Case("obtain-malformed-json-unterminated",
             lambda c: post_raw(OBTAIN, b'{"' + c.uf.encode() + b'": "alice"', JSON), expect_status=400),
        Case("obtain-malformed-json-open-brace", lambda c: post_raw(OBTAIN, b"{", JSON),
             expect_status=400),
        Case("obtain-malformed-json-trailing-comma",
             lambda c: post_raw(OBTAIN, b'{"password": "x",}', JSON), expect_status=400),
        Case("obtain-not-json", lambda c: post_raw(OBTAIN, b"username=alice", JSON), expect_status=400),
        Case("obtain-invalid-utf8", lambda c: post_raw(OBTAIN, b'{"password": "\xff"}', JSON),
             expect_status=400),
        Case("obtain-json-with-bom", lambda c: post_raw(OBTAIN, b"\xef\xbb\xbf" + json.dumps(c.creds()).encode(), JSON),
             expect_status=400),
        Case("obtain-json-nan", lambda c: post_raw(OBTAIN, b'{"password": NaN}', JSON), expect_status=400),
        Case("obtain-json-array", lambda c: post_raw(OBTAIN, b"[]", JSON), expect_status=400,
             expect_body=compact({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})),
        Case("obtain-json-string", lambda c: post_raw(OBTAIN, b'"alice"', JSON), expect_status=400),
        Case("obtain-json-null", lambda c: post_raw(OBTAIN, b"null", JSON), expect_status=400),
        Case("obtain-json-empty-body", lambda c: post_raw(OBTAIN, b"", JSON), expect_status=400),
        Case("obtain-text-plain",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds()).encode(), "text/plain"),
             expect_status=415, expect_body=unsupported("text/plain")),
        Case("obtain-no-content-type",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds()).encode(), None),
             expect_status=415, expect_body=unsupported("")),
        Case("obtain-vendor-json-type",
             lambda c: post_raw(OBTAIN, json.dumps(c.creds()).encode(), "application/vnd.api+json"),
             expect_status=415, expect_body=unsupported("application/vnd.api+json")),
        Case("obtain-form-blank", lambda c: post_form(OBTAIN, {c.uf: "", "password": ""}),
             expect_status=400),
        Case("obtain-form-missing-password", lambda c: post_form(OBTAIN, {c.uf: c.login("alice")}),
             expect_status=400, expect_body=compact({"password": [REQ]})),
        Case("obtain-form-wrong-password", lambda c: post_form(OBTAIN, c.creds(password="nope")),
             expect_status=401, expect_body=NO_ACCOUNT),
        Case("obtain-multipart-missing-password",
             lambda c: multipart(OBTAIN, {c.uf: c.login("alice")}), expect_status=400,
             expect_body=compact({"password": [REQ]})),
        # routing
        Case("obtain-get", lambda c: Req("GET", OBTAIN), expect_status=405,
             expect_body=not_allowed("GET")),
        Case("obtain-put", lambda c: Req("PUT", OBTAIN, json.dumps(c.creds()).encode(), JSON),
             expect_status=405, expect_body=not_allowed("PUT")),
        Case("obtain-delete", lambda c: Req("DELETE", OBTAIN), expect_status=405,
             expect_body=not_allowed("DELETE")),
        Case("obtain-head", lambda c: Req("HEAD", OBTAIN), expect_status=405),
        Case("obtain-options", lambda c: Req("OPTIONS", OBTAIN), expect_status=200),
        Case("obtain-accept-text-plain-only",
             lambda c: Req("POST", OBTAIN, json.dumps(c.creds()).encode(), JSON, {"Accept": "text/plain"}),
             expect_status=406),
        Case("obtain-no-trailing-slash", lambda c: post_json("/api/token", c.creds()),
             expect_status=301),
    ]


def refresh_cases():
    return token_cases(REFRESH, "refresh", "refresh") + tolerated_token_cases(
        REFRESH, "refresh", "refresh", "shape") + [
        Case("refresh-ok", lambda c: post_json(REFRESH, {"refresh": c.for_user("alice")["refresh"]}),
             compare="shape", expect_status=200),
        Case("refresh-ok-form", lambda c: post_form(REFRESH, {"refresh": c.for_user("alice")["refresh"]}),
             compare="shape", expect_status=200),
        Case("refresh-ok-padded-with-whitespace",
             lambda c: post_json(REFRESH, {"refresh": "  " + c.for_user("alice")["refresh"] + "\n"}),
             compare="shape", expect_status=200),
        Case("refresh-ok-not-outstanding", J(REFRESH, "refresh", lambda c: c.fresh_minted()),
             compare="shape", expect_status=200),
        Case("refresh-ok-int-user-id-claim",
             J(REFRESH, "refresh", lambda c: c.fresh_minted(user_id=c.uid("alice"))),
             compare="shape", expect_status=200),
        Case("refresh-ok-no-user-id-claim", J(REFRESH, "refresh", lambda c: c.fresh_minted(key=None)),
             compare="shape", expect_status=200),
        Case("refresh-ok-extra-claims",
             J(REFRESH, "refresh", lambda c: c.fresh_minted(extra_claim="kept", role=["a", "b"])),
             compare="shape", expect_status=200),
        Case("refresh-no-exp", J(REFRESH, "refresh", lambda c: c.fresh_minted(exp=None)),
             expect_status=401, expect_body=NO_EXP),
        Case("refresh-no-token-type", J(REFRESH, "refresh", lambda c: c.fresh_minted(token_type=None)),
             expect_status=401, expect_body=NO_TYPE),
        Case("refresh-with-access-token", J(REFRESH, "refresh", T("alice_access")), expect_status=401,
             expect_body=WRONG_TYPE),
        Case("refresh-sliding-type",
             J(REFRESH, "refresh", lambda c: c.fresh_minted(token_type="sliding")),
             expect_status=401, expect_body=WRONG_TYPE),
        Case("refresh-rotated-at-authbridge", J(REFRESH, "refresh", T("rotated_by_ab")),
             expect_status=401, expect_body=BLACKLISTED),
        Case("refresh-logged-out-at-authbridge", J(REFRESH, "refresh", T("logged_out_at_ab")),
             expect_status=401, expect_body=BLACKLISTED),
        Case("refresh-blacklisted-by-django", J(REFRESH, "refresh", T("blacklisted_by_dj")),
             expect_status=401, expect_body=BLACKLISTED),
        Case("refresh-inactive-user", J(REFRESH, "refresh", T("inactive_refresh")), expect_status=401,
             expect_body=NO_ACTIVE_FOR_TOKEN),
        Case("refresh-expired-access-token", J(REFRESH, "refresh", T("expired_access")),
             expect_status=401, expect_body=EXPIRED),
    ]


def verify_cases():
    return token_cases(VERIFY, "token", "verify") + tolerated_token_cases(
        VERIFY, "token", "verify", "exact", EMPTY) + [
        Case("verify-ok-access", J(VERIFY, "token", T("alice_access")), expect_status=200,
             expect_body=EMPTY),
        Case("verify-ok-refresh", J(VERIFY, "token", T("alice_refresh")), expect_status=200,
             expect_body=EMPTY),
        Case("verify-ok-form", lambda c: post_form(VERIFY, {"token": c.tok["alice_access"]}),
             expect_status=200, expect_body=EMPTY),
        Case("verify-ok-no-token-type", J(VERIFY, "token", lambda c: c.fresh_minted(token_type=None)),
             expect_status=200, expect_body=EMPTY),
        Case("verify-ok-no-user-id", J(VERIFY, "token", lambda c: c.fresh_minted(key=None)),
             expect_status=200, expect_body=EMPTY),
        Case("verify-ok-inactive-user", J(VERIFY, "token", T("inactive_access")), expect_status=200,
             expect_body=EMPTY),
        Case("verify-ok-deleted-user", J(VERIFY, "token", T("gone_access")), expect_status=200,
             expect_body=EMPTY),
        Case("verify-ok-access-of-rotated-refresh", J(VERIFY, "token", T("access_of_rotated")),
             expect_status=200, expect_body=EMPTY),
        Case("verify-no-exp", J(VERIFY, "token", lambda c: c.fresh_minted(exp=None)),
             expect_status=401, expect_body=NO_EXP),
        Case("verify-no-jti", J(VERIFY, "token", lambda c: c.fresh_minted(jti=None)),
             expect_status=401, expect_body=NO_ID),
        Case("verify-expired-access", J(VERIFY, "token", T("expired_access")), expect_status=401,
             expect_body=EXPIRED),
        Case("verify-rotated-at-authbridge", J(VERIFY, "token", T("rotated_by_ab")),
             expect_status=400, expect_body=VERIFY_BLACKLISTED),
        Case("verify-logged-out-at-authbridge", J(VERIFY, "token", T("logged_out_at_ab")),
             expect_status=400, expect_body=VERIFY_BLACKLISTED),
        Case("verify-blacklisted-by-django", J(VERIFY, "token", T("blacklisted_by_dj")),
             expect_status=400, expect_body=VERIFY_BLACKLISTED),
    ]


def blacklist_cases():
    return token_cases(BLACKLIST, "refresh", "blacklist") + tolerated_token_cases(
        BLACKLIST, "refresh", "blacklist", "exact", EMPTY) + [
        Case("blacklist-ok", lambda c: post_json(BLACKLIST, {"refresh": c.for_user("alice")["refresh"]}),
             expect_status=200, expect_body=EMPTY),
        Case("blacklist-ok-form", lambda c: post_form(BLACKLIST, {"refresh": c.for_user("alice")["refresh"]}),
             expect_status=200, expect_body=EMPTY),
        Case("blacklist-ok-not-outstanding", J(BLACKLIST, "refresh", lambda c: c.fresh_minted()),
             expect_status=200, expect_body=EMPTY),
        Case("blacklist-ok-deleted-user",
             J(BLACKLIST, "refresh", lambda c: c.fresh_minted(user_id=str(c.uid("gone")))),
             expect_status=200, expect_body=EMPTY),
        Case("blacklist-ok-inactive-user", lambda c: post_json(BLACKLIST, {"refresh": c.for_user("inactive")["refresh"]}),
             expect_status=200, expect_body=EMPTY),
        Case("blacklist-access-token", J(BLACKLIST, "refresh", T("alice_access")), expect_status=401,
             expect_body=WRONG_TYPE),
        Case("blacklist-no-exp", J(BLACKLIST, "refresh", lambda c: c.fresh_minted(exp=None)),
             expect_status=401, expect_body=NO_EXP),
        Case("blacklist-no-token-type", J(BLACKLIST, "refresh", lambda c: c.fresh_minted(token_type=None)),
             expect_status=401, expect_body=NO_TYPE),
        Case("blacklist-already-logged-out", J(BLACKLIST, "refresh", T("logged_out_at_ab")),
             expect_status=401, expect_body=BLACKLISTED),
        Case("blacklist-rotated-at-authbridge", J(BLACKLIST, "refresh", T("rotated_by_ab")),
             expect_status=401, expect_body=BLACKLISTED),
        Case("blacklist-blacklisted-by-django", J(BLACKLIST, "refresh", T("blacklisted_by_dj")),
             expect_status=401, expect_body=BLACKLISTED),
    ]


def respell_signature(token: str, how: str) -> str:
    """The same signature bytes spelled another way (PyJWT 2.15 accepts only the canonical one)."""
    import base64
    message, sig = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    if how == "standard":
        std = base64.b64encode(raw).rstrip(b"=").decode()
        # Force a character that differs between the alphabets if this signature has none.
        return f"{message}.{std if std != sig else std[:-1] + '+'}"
    if how == "trailing-bits":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return f"{message}.{sig[:-1]}{alphabet[alphabet.index(sig[-1]) ^ 1]}"
    return f"{message}.{sig[:5]}!{sig[5:]}"


def multipart_raw(path, parts) -> Req:
    boundary = b"----authbridgeinteropRAW"
    body = b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + n + b'"\r\n\r\n'
                    + v + b"\r\n" for n, v in parts) + b"--" + boundary + b"--\r\n"
    return Req("POST", path, body, "multipart/form-data; boundary=" + boundary.decode())


ME = "/api/me/"
NOT_PROVIDED = b'{"detail":"Authentication credentials were not provided."}'


def me_cases():
    """simplejwt's JWTAuthentication on a DRF view with IsAuthenticated, every method, with no,
    bad and good credentials: authentication runs before the method check."""
    cases = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        cases.append(Case(f"me-{method.lower()}-no-credentials", lambda c, m=method: Req(m, ME),
                          expect_status=401, expect_body=None if method == "HEAD" else NOT_PROVIDED))
        cases.append(Case(f"me-{method.lower()}-bad-token",
                          lambda c, m=method: Req(m, ME, headers={"Authorization": "Bearer abc"}),
                          expect_status=401))
        cases.append(Case(f"me-{method.lower()}-wrong-scheme",
                          lambda c, m=method: Req(m, ME, headers={"Authorization": "Token abc"}),
                          expect_status=401))
        ok = {"GET": 200, "HEAD": 200, "OPTIONS": 200}.get(method, 405)
        cases.append(Case(f"me-{method.lower()}-authenticated",
                          lambda c, m=method: Req(m, ME, headers={"Authorization": "Bearer " + c.tok["alice_access"]}),
                          expect_status=ok))
        cases.append(Case(f"me-{method.lower()}-refresh-token",
                          lambda c, m=method: Req(m, ME, headers={"Authorization": "Bearer " + c.tok["alice_refresh"]}),
                          expect_status=401))
    for name, body, ct in (("json", b"{}", JSON), ("empty", b"", None), ("text", b"x", "text/plain")):
        cases.append(Case(f"me-post-no-credentials-{name}-body", lambda c, b=body, t=ct: Req("POST", ME, b, t),
                          expect_status=401, expect_body=NOT_PROVIDED))
    return cases


def all_cases():
    return obtain_cases() + refresh_cases() + verify_cases() + blacklist_cases() + me_cases()
