"""Forward-auth: a real nginx (`auth_request`) and a real Caddy (`forward_auth`) in front of
Django, asking authbridge's `GET /auth/check`; their configuration is the snippet in
interop/gateway/snippets/, which docs/gateway.md shows verbatim. Django runs under uvicorn
(ASGI), where a forgotten `Http-X-Remote-User` would matter."""
from __future__ import annotations

import json
import re

import pytest
import requests

from gw import REPO, SNIPPETS, V5_COOKIE, Caddy, Nginx, gateway_config, install_debian_package, mint_cookie
from test_gateway import SPOOFS, SPOOFS_EMAIL, SPOOFS_ID, assert_alice, raw_get

KINDS = ("asgi",)
UPSTREAM = False  # authbridge only answers /auth/check and its own routes
# The proxy's X-Original-URI (the path whose policy applies) is believed from these only.
AUTHBRIDGE_ENV = {"AUTHBRIDGE_TRUSTED_PROXIES": "127.0.0.1"}
GATEWAY = gateway_config()
PROXIES = ["nginx", "caddy"]


@pytest.fixture(scope="module", params=PROXIES)
def proxy(request, site):
    binary = install_debian_package(request.param, request.param)
    if binary is None:
        if request.param == "nginx":
            pytest.fail("nginx is missing and `apt-get install -y nginx` failed")
        pytest.skip("Debian's caddy package could not be installed")
    cls = Nginx if request.param == "nginx" else Caddy
    p = cls(binary, site.workdir, site.gateway.port, site.django.port)
    p.name = request.param
    yield p
    p.stop()


def test_bearer_user_reaches_django(site, proxy):
    r = requests.get(proxy.url + "/private/whoami", headers=site.bearer("alice"), timeout=30)
    assert r.status_code == 200, f"{proxy.name}: {r.status_code} {r.text[:300]}"
    assert_alice(site, r.json(), f"{proxy.name} + Bearer")


def test_authjs_cookie_user_reaches_django(site, proxy):
    alice = site.users["alice"]
    cookie = mint_cookie({"sub": str(alice["id"]), "refreshToken": site.tokens["alice"]["refresh"]})
    r = requests.get(proxy.url + "/private/whoami", headers={"Cookie": f"{V5_COOKIE}={cookie}"}, timeout=30)
    assert r.status_code == 200, f"{proxy.name}: {r.status_code} {r.text[:300]}"
    assert_alice(site, r.json(), f"{proxy.name} + cookie")


def test_no_credentials_is_401(site, proxy):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-Remote-User": "admin"}):
        r = requests.get(proxy.url + "/private/whoami", headers=headers, timeout=30)
        assert r.status_code == 401, f"{proxy.name} {headers}: {r.status_code} {r.text[:200]}"


def test_login_through_the_proxy(site, proxy):
    alice = site.users["alice"]
    r = requests.post(proxy.url + "/api/token/", json={"username": "alice", "password": alice["password"]}, timeout=60)
    assert r.status_code == 200 and {"access", "refresh"} <= set(r.json()), r.text


def test_spoofed_identity_headers_never_reach_django(site, proxy):
    headers = [(n, "admin") for n in SPOOFS] + [(n, "1") for n in SPOOFS_ID] + [(n, "a@x") for n in SPOOFS_EMAIL]
    for name, value in headers:
        status, raw = raw_get(proxy.url, "/private/whoami", [(name, value), *site.bearer("alice").items()])
        assert status == 200, f"{proxy.name} {name}: {status} {raw[:200]!r}"
        assert_alice(site, json.loads(raw), f"{proxy.name}: Bearer alice + {name}")
    status, raw = raw_get(proxy.url, "/private/whoami", headers + list(site.bearer("alice").items()))
    assert status == 200, raw
    assert_alice(site, json.loads(raw), f"{proxy.name}: Bearer alice + all spoofs")


def test_docs_show_the_tested_snippets_verbatim():
    """docs/gateway.md carries each snippet exactly as tested (placeholders filled the same way)."""
    docs = (REPO / "docs" / "gateway.md").read_text()
    blocks = re.findall(r"```(?:nginx|caddyfile)\n(.*?)```", docs, re.S)
    for name, placeholders in (
        ("nginx.conf", {"LISTEN": "80", "AUTHBRIDGE": "127.0.0.1:8080", "DJANGO": "127.0.0.1:8000"}),
        ("Caddyfile", {"LISTEN": "app.example.com", "AUTHBRIDGE": "127.0.0.1:8080", "DJANGO": "127.0.0.1:8000"}),
    ):
        text = (SNIPPETS / name).read_text()
        for k, v in placeholders.items():
            text = text.replace("{{" + k + "}}", v)
        assert text in blocks, f"docs/gateway.md does not show snippets/{name} as tested:\n{text}"


def test_post_through_the_proxy(site, proxy):
    """nginx's auth_request subrequest keeps the original method: /auth/check must answer a POST
    (the body itself goes to Django only)."""
    data = bytes(range(256)) * 4096
    r = requests.post(proxy.url + "/private/upload", data=data, timeout=60,
                      headers={**site.bearer("alice"), "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, f"{proxy.name}: {r.status_code} {r.text[:300]}"
    assert r.json()["bytes"] == len(data) and r.json()["user"] == "alice", r.text
