"""authbridge as the gateway in front of a real Django, once under gunicorn (WSGI) and once under
uvicorn (ASGI): Django's RemoteUserMiddleware sees the user authbridge authenticated, never one a
client claims; bodies stream both ways; WebSockets pass; policies answer in the right format."""
from __future__ import annotations

import hashlib
import http.client
import json
import time

import pytest
import requests

from gw import V5_COOKIE, DjangoServer, Gateway, free_port, mint_cookie

TEN_MB = 10 * 1024 * 1024
PATTERN = bytes(range(256))

# Every way a client could spell an identity header so that Django files it under a key the
# middleware (or an app) reads: case variants, "_" for "-" (gunicorn >= 22 and Django's ASGI
# handler drop such names today; older gunicorn and other servers passed them on), and
# `Http-X-Remote-User`, which an ASGI Django 5.2/6.0 reads.
SPOOFS = [
    "X-Remote-User", "x-remote-user", "X-REMOTE-USER", "x-Remote-user",
    "X_Remote_User", "x_remote_user", "X-Remote_User", "X_Remote-User",
    "Http-X-Remote-User", "HTTP_X_REMOTE_USER", "http-x-remote-user", "Http_X_Remote_User",
]
SPOOFS_ID = ["X-Remote-User-Id", "x_remote_user_id", "X-Remote_User-Id", "Http-X-Remote-User-Id"]
SPOOFS_EMAIL = ["X-Remote-User-Email", "X_REMOTE_USER_EMAIL", "Http-X-Remote-User-Email"]


def get(site, path, headers=None, **kw):
    return requests.get(site.url + path, headers=headers or {}, allow_redirects=False, timeout=60, **kw)


def whoami(site, headers=None, prefix="private"):
    r = get(site, f"/{prefix}/whoami", headers)
    assert r.status_code == 200, f"{r.status_code} {r.text[:300]}\n{site.gateway.log_tail(20)}"
    return r.json()


def raw_get(url: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """One request whose header names go out exactly as written (requests folds duplicates)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("GET", path)
    for k, v in headers:
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def assert_alice(site, body, what):
    alice = site.users["alice"]
    assert body["user"] == "alice", f"{what}: {body}"
    assert body["id"] == alice["id"] and body["email"] == alice["email"] and body["staff"] is False, f"{what}: {body}"
    # What Django got on the wire: exactly authbridge's three headers, no other identity header
    # (the client's own Authorization is passed on in this mode, as documented).
    remote = {k: v for k, v in body["meta"].items() if "REMOTE_USER" in k}
    assert remote == {
        "HTTP_X_REMOTE_USER": "alice",
        "HTTP_X_REMOTE_USER_ID": str(alice["id"]),
        "HTTP_X_REMOTE_USER_EMAIL": alice["email"],
    }, f"{what}: {body['meta']}"


# --- identity ---------------------------------------------------------------------------------


def test_bearer_token_user_reaches_django(site):
    body = whoami(site, site.bearer("alice"))
    assert body["server"] == site.kind
    assert_alice(site, body, "Bearer")


def test_authjs_v5_cookie_minted_by_auth_core_reaches_django(site):
    alice = site.users["alice"]
    cookie = mint_cookie({"sub": str(alice["id"]), "name": "alice", "email": alice["email"],
                          "refreshToken": site.tokens["alice"]["refresh"]})
    body = whoami(site, {"Cookie": f"{V5_COOKIE}={cookie}"})
    assert_alice(site, body, "Auth.js v5 cookie")
    # The same cookie on a public path: the user is known, so Django sees it there too.
    assert_alice(site, whoami(site, {"Cookie": f"{V5_COOKIE}={cookie}"}, prefix="public"), "public + cookie")


def test_staff_flag_and_staff_policy(site):
    body = whoami(site, site.bearer("staffer"), prefix="staff")
    assert body["user"] == "staffer" and body["staff"] is True, body


def test_anonymous_on_public_path_has_no_identity(site):
    body = whoami(site, {}, prefix="public")
    assert body["user"] is None and body["meta"] == {}, body


@pytest.mark.parametrize("name", SPOOFS + SPOOFS_ID + SPOOFS_EMAIL)
def test_spoofed_identity_header_is_ignored(site, name):
    # Anonymous: nothing of it reaches Django.
    status, raw = raw_get(site.url, "/public/whoami", [(name, "admin")])
    assert status == 200, raw
    body = json.loads(raw)
    assert body["user"] is None and body["meta"] == {}, f"{name}: {body}"
    # Authenticated as alice: Django sees alice, and only authbridge's values.
    status, raw = raw_get(site.url, "/private/whoami", [(name, "admin"), *site.bearer("alice").items()])
    assert status == 200, raw
    assert_alice(site, json.loads(raw), f"Bearer alice + {name}: admin")


def test_every_spoof_at_once_is_ignored(site):
    headers = [(n, "admin") for n in SPOOFS] + [(n, "1") for n in SPOOFS_ID] + [(n, "a@x") for n in SPOOFS_EMAIL]
    status, raw = raw_get(site.url, "/public/whoami", headers)
    assert status == 200 and json.loads(raw)["meta"] == {}, raw
    status, raw = raw_get(site.url, "/private/whoami", headers + list(site.bearer("alice").items()))
    assert status == 200, raw
    assert_alice(site, json.loads(raw), "all spoofs + Bearer alice")


def test_django_session_cookie_does_not_outlive_the_gateway_identity(site):
    """RemoteUserMiddleware logs the user into a Django session; without authbridge's header
    the next request must be anonymous again (force_logout_if_no_header)."""
    r = get(site, "/private/whoami", site.bearer("alice"))
    assert r.status_code == 200 and r.json()["user"] == "alice"
    sessionid = r.cookies.get("sessionid")
    assert sessionid, f"RemoteUserMiddleware set no session cookie: {r.headers}"
    body = whoami(site, {"Cookie": f"sessionid={sessionid}"}, prefix="public")
    assert body["user"] is None, body


# --- policies -----------------------------------------------------------------------------------


def test_authenticated_policy_answers_401_in_simplejwt_json(site):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Cookie": f"{V5_COOKIE}=garbage"}):
        r = get(site, "/private/whoami", headers)
        assert r.status_code == 401, f"{headers}: {r.status_code} {r.text[:200]}"
        assert r.headers["content-type"].startswith("application/json"), r.headers
        assert isinstance(r.json().get("detail"), str), r.text


def test_staff_policy_answers_403_to_a_non_staff_user(site):
    r = get(site, "/staff/whoami", site.bearer("alice"))
    assert r.status_code == 403, f"{r.status_code} {r.text[:200]}"
    assert isinstance(r.json().get("detail"), str), r.text
    assert get(site, "/staff/whoami").status_code == 401


def test_html_path_redirects_to_login(site):
    r = get(site, "/pages/page?x=1", {"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code in (302, 303), f"{r.status_code} {r.text[:200]}"
    assert r.headers["location"].startswith("/login"), r.headers
    ok = get(site, "/pages/page", {"Accept": "text/html", **site.bearer("alice")})
    assert ok.status_code == 200 and "hello alice" in ok.text, ok.text


# --- proxying -----------------------------------------------------------------------------------


def test_forwarded_headers_are_set_and_client_copies_not_believed(site):
    r = get(site, "/public/whoami", {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example",
                                     "X-Forwarded-Proto": "https"})
    fwd = r.json()["forwarded"]
    assert fwd["HTTP_X_FORWARDED_FOR"] == "127.0.0.1", fwd
    assert fwd["HTTP_X_FORWARDED_PROTO"] == "http", fwd
    assert fwd["HTTP_X_FORWARDED_HOST"] == f"127.0.0.1:{site.gateway.port}", fwd


def test_hop_by_hop_headers_are_removed(site):
    status, raw = raw_get(site.url, "/app/headers", [("Connection", "keep-alive, X-Drop-Me"), ("X-Drop-Me", "1"),
                                                     ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("X-Keep", "2")])
    assert status == 200, raw
    seen = json.loads(raw)
    assert seen.get("HTTP_X_KEEP") == "2", seen
    for k in ("HTTP_X_DROP_ME", "HTTP_PROXY_AUTHORIZATION"):
        assert k not in seen, seen


def pattern_stream(size: int, chunk=256 * 1024):
    block = PATTERN * (chunk // 256)
    full, rest = divmod(size, chunk)
    for _ in range(full):
        yield block
    if rest:
        yield block[:rest]


def pattern_sha256(size: int) -> str:
    h = hashlib.sha256()
    for piece in pattern_stream(size):
        h.update(piece)
    return h.hexdigest()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_10mb_upload_streams_through(site, framing):
    if framing == "chunked" and site.kind == "wsgi":
        pytest.skip("Django under WSGI reads CONTENT_LENGTH bytes of a body: a chunked one is empty to it")
    data = pattern_stream(TEN_MB)
    headers = {**site.bearer("alice"), "Content-Type": "application/octet-stream"}
    if framing == "content-length":
        data = b"".join(data)
    r = requests.post(site.url + "/private/upload", data=data, headers=headers, timeout=120)
    assert r.status_code == 200, f"{r.status_code} {r.text[:300]}\n{site.gateway.log_tail(20)}"
    assert r.json() == {"bytes": TEN_MB, "sha256": pattern_sha256(TEN_MB), "user": "alice"}


def test_10mb_download_streams_through(site):
    h = hashlib.sha256()
    n = 0
    with requests.get(site.url + f"/private/download?size={TEN_MB}", headers=site.bearer("alice"), stream=True,
                      timeout=120) as r:
        assert r.status_code == 200, r.text[:300]
        for chunk in r.iter_content(256 * 1024):
            n += len(chunk)
            h.update(chunk)
    assert n == TEN_MB and h.hexdigest() == pattern_sha256(TEN_MB)


def test_websocket_echo_through_the_gateway(site):
    if site.kind != "asgi":
        pytest.skip("WebSockets need the ASGI server")
    from websockets.sync.client import connect

    ws_url = site.url.replace("http://", "ws://") + "/ws/echo"
    with connect(ws_url, additional_headers=site.bearer("alice"), open_timeout=10, close_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello == {"path": "/ws/echo", "x-remote-user": "alice"}, hello
        for msg in ("hello", "x" * 100_000, "last"):
            ws.send(msg)
            assert ws.recv(timeout=10) == msg
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=10) == b"\x00\x01binary"


def test_websocket_upgrade_needs_authentication(site):
    if site.kind != "asgi":
        pytest.skip("WebSockets need the ASGI server")
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_url = site.url.replace("http://", "ws://") + "/ws/echo"
    with pytest.raises(InvalidStatus) as err:
        with connect(ws_url, additional_headers={"X-Remote-User": "admin"}, open_timeout=10):
            pass
    assert err.value.response.status_code == 401


def test_django_stopped_gives_502_within_a_second(site):
    """A second Django and gateway of their own (the module's keep serving): Django answers,
    is stopped, and the next request through authbridge is a 502 in under a second."""
    django = DjangoServer(site.kind, site.settings, site.db, site.workdir)
    gateway = Gateway(site.db, site.workdir, {"gateway": {}}, upstream=django.url, name="authbridge-502")
    try:
        assert requests.get(gateway.url + "/app/small", timeout=30).status_code == 200
        django.stop()
        started = time.monotonic()
        r = requests.get(gateway.url + "/app/small", timeout=10)
        elapsed = time.monotonic() - started
        assert r.status_code == 502, f"{r.status_code} {r.text[:200]}"
        assert elapsed < 1.0, f"502 after {elapsed:.2f}s"
    finally:
        gateway.stop()
        django.stop()


def test_nothing_listening_upstream_gives_502_within_a_second(site):
    gateway = Gateway(site.db, site.workdir, {"gateway": {}}, upstream=f"http://127.0.0.1:{free_port()}",
                      name="authbridge-nothing")
    try:
        started = time.monotonic()
        r = requests.get(gateway.url + "/anything", timeout=10)
        assert r.status_code == 502 and time.monotonic() - started < 1.0, r.status_code
    finally:
        gateway.stop()
