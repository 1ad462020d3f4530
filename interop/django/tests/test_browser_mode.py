"""Browser mode against its anchors, live: django-cors-headers in front of Django, dj-rest-auth's
JWT cookie mode behind it (djproject/settings_browser.py), and authbridge given the same settings.
The same requests go to both (preflights, credentialed requests, cookie login / refresh / logout,
a refresh from an origin CORS does not allow); status, the CORS headers, `Vary`, the cookies'
attributes and the bodies are compared.

Where authbridge answers otherwise on purpose, the test names the difference and asserts both
sides' answers exactly (docs/compatibility.md, "Browser mode", says why): it keeps simplejwt's
bodies on simplejwt's endpoints, and it checks the origin of cookie-carrying requests."""
import json

import pytest

from harness import Resp

SETTINGS_MODULE = "djproject.settings_browser"
APP = "http://app.example.test"  # settings_browser.APP_ORIGIN
OTHER = "http://other.example.test"
AUTHBRIDGE_ENV = {
    "CORS_ALLOWED_ORIGINS": APP,
    "CORS_ALLOW_CREDENTIALS": "true",
    "JWT_AUTH_REFRESH_COOKIE": "refresh",
    "JWT_AUTH_REFRESH_COOKIE_PATH": "/api/token/",
    "JWT_AUTH_HTTPONLY": "true",
    "JWT_AUTH_SAMESITE": "Lax",
    "JWT_AUTH_SECURE": "false",
}
USERS = [{"key": "alice", "login": "alice", "password": "alice-password"}]
OBTAIN, REFRESH, BLACKLIST, ME = "/api/token/", "/api/token/refresh/", "/api/token/blacklist/", "/api/me/"


def send(stack, ab, method, path, body=None, headers=None, cookies=(None, None)) -> tuple[Resp, Resp]:
    """The same request to Django and to authbridge; `cookies` is each side's Cookie header."""
    data = b"" if body is None else json.dumps(body).encode()
    ctype = None if body is None else "application/json"
    out = []
    for side, cookie in zip(("django", "authbridge"), cookies):
        hdrs = dict(headers or {})
        if cookie:
            hdrs["Cookie"] = cookie
        if side == "django":
            out.append(stack.agent.request(method, path, data, ctype, hdrs))
        else:
            ab.session.cookies.clear()  # only the Cookie header given here
            out.append(ab.request(method, path, data, ctype, hdrs))
    return out[0], out[1]


def cors(r: Resp) -> dict:
    """The headers browser mode is about: Access-Control-*, and Vary as a set of names."""
    h = {k: v for k, v in r.headers.items() if k.startswith("access-control-")}
    h["vary"] = sorted(v.strip().lower() for v in r.headers.get("vary", "").split(",") if v.strip())
    return h


def parse_cookie(line: str) -> tuple[str, str, dict]:
    pair, *attrs = [p.strip() for p in line.split(";")]
    name, _, value = pair.partition("=")
    parsed = {}
    for a in attrs:
        k, _, v = a.partition("=")
        parsed[k.lower()] = v
    return name, value, parsed


def cookies(r: Resp) -> dict:
    return {name: (value, attrs) for name, value, attrs in map(parse_cookie, r.set_cookies)}


def assert_same_cookie_attributes(dj: Resp, ab: Resp):
    """Same cookie names and attributes; `expires` is the clock's, Max-Age within a second."""
    dc, ac = cookies(dj), cookies(ab)
    assert sorted(dc) == sorted(ac), (dj.set_cookies, ab.set_cookies)
    for name, (dval, dattrs) in dc.items():
        aval, aattrs = ac[name]
        assert sorted(dattrs) == sorted(aattrs), (name, dj.set_cookies, ab.set_cookies)
        for k in dattrs:
            if k == "expires":
                continue
            if k == "max-age":
                assert abs(int(dattrs[k]) - int(aattrs[k])) <= 1, (name, dattrs, aattrs)
            else:
                assert dattrs[k] == aattrs[k], (name, k, dj.set_cookies, ab.set_cookies)
        assert (dval in ("", '""')) == (aval in ("", '""')), (name, dval, aval)


def login(stack, ab):
    """A cookie login on each side (each with its own token), answers and Cookie headers."""
    dj, a = send(stack, ab, "POST", OBTAIN, stack.login_body("alice"), {"Origin": APP})
    assert dj.status == 200, dj.describe()
    assert a.status == 200, a.describe()
    return dj, a, tuple(f"refresh={cookies(r)['refresh'][0]}" for r in (dj, a))


@pytest.mark.parametrize("path", [OBTAIN, REFRESH, BLACKLIST, ME])
@pytest.mark.parametrize("origin", [APP, OTHER])
def test_preflight(stack, ab, path, origin):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization, x-csrftoken",
    }
    dj, a = send(stack, ab, "OPTIONS", path, headers=headers)
    assert (a.status, cors(a), a.body) == (dj.status, cors(dj), dj.body), (dj.describe(), a.describe())


@pytest.mark.parametrize("origin", [APP, OTHER, None])
def test_credentialed_request_and_error(stack, ab, origin):
    headers = {"Origin": origin} if origin else {}
    _, a_login, _ = login(stack, ab)
    bearer = {"Authorization": f"Bearer {a_login.json()['access']}"}
    for extra in (bearer, {}):  # 200 with the token, simplejwt's 401 without
        dj, a = send(stack, ab, "GET", ME, headers={**headers, **extra})
        assert (a.status, cors(a), a.json()) == (dj.status, cors(dj), dj.json()), (dj.describe(), a.describe())


def test_login_sets_the_same_cookie(stack, ab):
    dj, a, _ = login(stack, ab)
    assert cors(a) == cors(dj)
    assert_same_cookie_attributes(dj, a)
    # On purpose: authbridge keeps simplejwt's obtain body (plus user_id, as in body mode);
    # dj-rest-auth's LoginView answers its own shape. Neither hands the refresh token to the page.
    assert sorted(dj.json()) == ["access", "refresh", "user"] and dj.json()["refresh"] == ""
    assert sorted(a.json()) == ["access", "user_id"]


def test_refresh_through_the_cookie(stack, ab):
    _, _, jar = login(stack, ab)
    dj, a = send(stack, ab, "POST", REFRESH, {}, {"Origin": APP}, cookies=jar)
    assert (dj.status, a.status) == (200, 200), (dj.describe(), a.describe())
    assert cors(a) == cors(dj)
    assert_same_cookie_attributes(dj, a)  # rotation: a new refresh cookie on both
    # On purpose: dj-rest-auth adds access_expiration to simplejwt's refresh body; authbridge
    # answers simplejwt's body unchanged.
    assert sorted(dj.json()) == ["access", "access_expiration"]
    assert sorted(a.json()) == ["access"]


def test_refresh_without_cookie(stack, ab):
    dj, a = send(stack, ab, "POST", REFRESH, {}, {"Origin": APP})
    assert cors(a) == cors(dj)
    # On purpose: with neither body nor cookie authbridge answers simplejwt's own 400 (the
    # request is incomplete); dj-rest-auth's serializer raises InvalidToken.
    assert (dj.status, dj.json()) == (401, {"detail": "No valid refresh token found.", "code": "token_not_valid"})
    assert (a.status, a.json()) == (400, {"refresh": ["This field is required."]})


def test_logout_clears_the_cookie_and_blacklists(stack, ab):
    _, _, jar = login(stack, ab)
    dj, a = send(stack, ab, "POST", BLACKLIST, {}, {"Origin": APP}, cookies=jar)
    assert (dj.status, a.status) == (200, 200), (dj.describe(), a.describe())
    assert cors(a) == cors(dj)
    assert_same_cookie_attributes(dj, a)
    assert cookies(a)["refresh"][1]["max-age"] == "0"
    # On purpose: authbridge keeps simplejwt's blacklist body; dj-rest-auth's LogoutView its own.
    assert (dj.json(), a.json()) == ({"detail": "Successfully logged out."}, {})
    # The old cookie is dead on both sides, with the same answer.
    dj, a = send(stack, ab, "POST", REFRESH, {}, {"Origin": APP}, cookies=jar)
    assert (a.status, cors(a), a.json()) == (dj.status, cors(dj), dj.json()), (dj.describe(), a.describe())


def test_cookie_refresh_from_an_origin_cors_does_not_allow(stack, ab):
    _, _, jar = login(stack, ab)
    dj, a = send(stack, ab, "POST", REFRESH, {}, {"Origin": OTHER}, cookies=jar)
    assert cors(a) == cors(dj)
    # On purpose: dj-rest-auth's refresh view has no CSRF check (a same-site page CORS does not
    # allow can make the browser send the cookie; it cannot read the answer, but a logout would
    # work). authbridge refuses cookie-carrying requests from untrusted origins.
    assert dj.status == 200, dj.describe()
    assert a.status == 403, a.describe()
    assert a.json() == {
        "detail": f"CSRF Failed: Origin checking failed - {OTHER} does not match any trusted origins."
    }
