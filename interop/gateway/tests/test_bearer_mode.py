"""Bearer mode: authbridge mints a short-lived simplejwt access token for each proxied request
and sends it as `Authorization: Bearer`. Django is the stock simplejwt tutorial setup
(gwsite/settings_bearer.py): JWTAuthentication, no RemoteUserMiddleware, no RemoteUserBackend."""
from __future__ import annotations

import jwt as pyjwt
import requests

from gw import SECRET, V5_COOKIE, gateway_config, mint_cookie

SETTINGS = "gwsite.settings_bearer"
GATEWAY = gateway_config(identity="bearer")


def drf_whoami(site, headers):
    r = requests.get(site.url + "/private/drf-whoami", headers=headers, timeout=60)
    assert r.status_code == 200, f"{r.status_code} {r.text[:300]}\n{site.gateway.log_tail(20)}"
    return r.json()


def test_cookie_session_becomes_a_bearer_token_django_accepts(site):
    alice = site.users["alice"]
    cookie = mint_cookie({"sub": str(alice["id"]), "refreshToken": site.tokens["alice"]["refresh"]})
    body = drf_whoami(site, {"Cookie": f"{V5_COOKIE}={cookie}"})
    assert body == {"user": "alice", "id": alice["id"], "email": alice["email"], "staff": False}


def test_client_bearer_token_user_reaches_drf(site):
    body = drf_whoami(site, site.bearer("staffer"))
    assert body["user"] == "staffer" and body["staff"] is True


def test_the_minted_token_is_short_lived_and_simplejwt_shaped(site):
    alice = site.users["alice"]
    cookie = mint_cookie({"sub": str(alice["id"]), "refreshToken": site.tokens["alice"]["refresh"]})
    r = requests.get(site.url + "/public/whoami", headers={"Cookie": f"{V5_COOKIE}={cookie}"}, timeout=60)
    meta = r.json()["meta"]
    assert set(meta) == {"HTTP_AUTHORIZATION"}, meta  # no X-Remote-User in this mode
    scheme, token = meta["HTTP_AUTHORIZATION"].split(" ", 1)
    assert scheme == "Bearer"
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])  # what simplejwt checks
    assert claims["token_type"] == "access" and str(claims["user_id"]) == str(alice["id"]), claims
    assert claims["exp"] - claims["iat"] <= 300, claims


def test_spoofed_headers_and_no_credentials(site):
    r = requests.get(site.url + "/public/drf-whoami", headers={"X-Remote-User": "admin"}, timeout=60)
    assert r.status_code == 200 and r.json()["user"] is None, r.text
    r = requests.get(site.url + "/private/drf-whoami", timeout=60)
    assert r.status_code == 401, r.text
