"""Browser mode with the access token in a cookie too (`JWT_AUTH_COOKIE`), against dj-rest-auth
with the same setting: both cookies' names and attributes at login, refresh and logout."""
from test_browser_mode import (
    APP,
    AUTHBRIDGE_ENV as BASE_ENV,
    BLACKLIST,
    REFRESH,
    USERS,  # noqa: F401 (the conftest reads it from this module)
    assert_same_cookie_attributes,
    cookies,
    cors,
    login,
    send,
)

SETTINGS_MODULE = "djproject.settings_browser_access"
AUTHBRIDGE_ENV = {**BASE_ENV, "JWT_AUTH_COOKIE": "access"}


def test_access_cookie_at_login_refresh_and_logout(stack, ab):
    dj, a, _ = login(stack, ab)
    assert sorted(cookies(a)) == ["access", "refresh"], a.set_cookies
    assert_same_cookie_attributes(dj, a)
    jar = tuple(f"refresh={cookies(r)['refresh'][0]}" for r in (dj, a))
    dj, a = send(stack, ab, "POST", REFRESH, {}, {"Origin": APP}, cookies=jar)
    assert (dj.status, a.status) == (200, 200), (dj.describe(), a.describe())
    assert cors(a) == cors(dj)
    assert_same_cookie_attributes(dj, a)
    jar = tuple(f"refresh={cookies(r)['refresh'][0]}" for r in (dj, a))
    dj, a = send(stack, ab, "POST", BLACKLIST, {}, {"Origin": APP}, cookies=jar)
    assert (dj.status, a.status) == (200, 200), (dj.describe(), a.describe())
    assert_same_cookie_attributes(dj, a)
    assert {name: attrs["max-age"] for name, (_, attrs) in cookies(a).items()} == {"access": "0", "refresh": "0"}
