"""Django as a client of authbridge's OpenID Connect provider.

- mozilla-django-oidc, unmodified (djproject/settings_oidc_rp.py: endpoints and a client, nothing
  else), served by Django's runserver, logs a Django user in through authbridge's login page: it
  finds the user by the userinfo `email`. Once with its defaults (client_secret_post, no PKCE, as
  ordinary relying parties do), once with PKCE and client_secret_basic.
- simplejwt's stock JWTAuthentication (djproject/views.py `Me`, shared HS256 key) accepts the
  access token the provider issues to a client, and refuses a client_credentials token (no user).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import subprocess
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from harness import DJANGO_DIR, PYTHON, Authbridge, authbridge_cli, django_env

PASSWORD = "correct horse battery staple"
USERS = [{"key": "ada", "login": "ada", "email": "ada@example.com", "password": PASSWORD}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Forms(HTMLParser):
    """The forms of a page: action, method and the named fields (hidden ones included)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").upper(), "fields": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            self.forms[-1]["fields"].append((kind, a["name"], a.get("value") or ""))


def forms_of(resp) -> list[dict]:
    p = Forms()
    p.feed(resp.text)
    for f in p.forms:
        f["action"] = urljoin(resp.url, f["action"])
    return p.forms


def submit(session, resp, form, values, deny=False):
    data, clicked = {}, False
    for kind, name, value in form["fields"]:
        if kind == "submit":
            is_deny = any(w in f"{name} {value}".lower() for w in ("deny", "cancel", "reject", "decline"))
            if not clicked and is_deny == deny:
                data[name], clicked = value, True
            continue
        if kind in ("checkbox", "radio"):
            continue
        data[name] = value
    data.update(values)
    return session.request(form["method"], form["action"], data=data, allow_redirects=False,
                           headers={"Origin": f"{urlsplit(resp.url).scheme}://{urlsplit(resp.url).netloc}"})


def through_provider(session, url, issuer, username, password):
    """Follow the browser from `url` through authbridge's login (and consent) until it leaves the
    provider; returns the URL it is sent to."""
    resp = session.get(url, allow_redirects=False)
    for _ in range(20):
        if resp.is_redirect:
            nxt = urljoin(resp.url, resp.headers["location"])
            if not nxt.startswith(issuer):
                return nxt
            resp = session.get(nxt, allow_redirects=False)
            continue
        assert resp.status_code == 200, f"{resp.status_code} at {resp.url}: {resp.text[:1500]}"
        forms = forms_of(resp)
        login = next((f for f in forms if any(k == "password" for k, _, _ in f["fields"])), None)
        if login:
            user = next(n for k, n, _ in login["fields"] if k in ("text", "email"))
            pw = next(n for k, n, _ in login["fields"] if k == "password")
            resp = submit(session, resp, login, {user: username, pw: password})
        elif forms and urlsplit(resp.url).path.startswith("/consent"):
            resp = submit(session, resp, forms[0], {})
        else:
            raise AssertionError(f"stuck at {resp.url}: {resp.text[:1500]}")
    raise AssertionError("too many redirects")


@pytest.fixture(scope="module")
def oidc(stack):
    """authbridge as the provider (on a port known in advance: it is the issuer) and a running
    mozilla-django-oidc RP on the same database, for each of two client configurations."""
    port, rp_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{port}"
    rp_origin = f"http://localhost:{rp_port}"
    client = {
        "client_id": "django-rp",
        "client_secret": secrets.token_urlsafe(32),
        "redirect_uris": [f"{rp_origin}/oidc/callback/"],
        "client_name": "Django RP",
        "first_party": False,
    }
    env = stack.env(
        AUTHBRIDGE_OIDC_ENABLED="true",
        AUTHBRIDGE_PUBLIC_URL=issuer,
        AUTHBRIDGE_OIDC_clients=json.dumps([client]),
    )
    migrated = authbridge_cli(["migrate"], env, stack.workdir)
    assert migrated.returncode == 0, migrated.stderr
    ab = Authbridge(env, stack.workdir, log_name="authbridge-oidc", bind=f"127.0.0.1:{port}")
    stack._servers.append(ab)
    state = {"issuer": issuer, "client": client, "ab": ab, "rp_origin": rp_origin, "rp_port": rp_port, "rp": None}

    def start_rp(pkce: bool, basic: bool):
        stop_rp()
        rp_env = django_env("djproject.settings_oidc_rp", stack.db)
        rp_env.update(
            OIDC_ISSUER=issuer,
            OIDC_RP_CLIENT_ID=client["client_id"],
            OIDC_RP_CLIENT_SECRET=client["client_secret"],
            OIDC_USE_PKCE="1" if pkce else "0",
            OIDC_TOKEN_USE_BASIC_AUTH="1" if basic else "0",
        )
        log_path = stack.workdir / f"django-rp-{int(pkce)}{int(basic)}.log"
        log = open(log_path, "w")
        proc = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{rp_port}"],
            cwd=DJANGO_DIR, env=rp_env, stdout=log, stderr=subprocess.STDOUT,
        )
        state["rp"] = (proc, log)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{rp_origin}/whoami/", timeout=5)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise AssertionError(f"the Django RP did not start:\n{log_path.read_text()}")
                time.sleep(0.1)

    def stop_rp():
        if state["rp"]:
            proc, log = state["rp"]
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            state["rp"] = None

    state["start_rp"] = start_rp
    yield state
    stop_rp()


@pytest.mark.parametrize(
    "pkce,basic",
    [(False, False), (True, True)],
    ids=["defaults (client_secret_post, no PKCE)", "PKCE + client_secret_basic"],
)
def test_mozilla_django_oidc_logs_the_django_user_in(stack, oidc, pkce, basic):
    oidc["start_rp"](pkce, basic)
    s = requests.Session()
    rp = oidc["rp_origin"]
    assert s.get(f"{rp}/whoami/").status_code == 401
    start = s.get(f"{rp}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{oidc['issuer']}/oauth2/authorize?")
    assert ("code_challenge" in parse_qs(urlsplit(authorize).query)) == pkce
    back = through_provider(s, authorize, oidc["issuer"], "ada", PASSWORD)
    assert back.startswith(f"{rp}/oidc/callback/?"), back
    done = s.get(back, allow_redirects=False)
    assert done.status_code == 302 and done.headers["location"] == "/whoami/", (
        f"{done.status_code} {done.headers.get('location')}\n{oidc['ab'].log_tail(30)}"
    )
    me = s.get(f"{rp}/whoami/")
    assert me.status_code == 200, me.text
    assert me.json() == {"id": stack.user("ada")["id"], "username": "ada", "email": "ada@example.com"}


def _pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_simplejwt_accepts_the_providers_access_token(stack, oidc):
    """The access token a client gets is a simplejwt access token: Django's stock
    JWTAuthentication (same HS256 key) authenticates the user with it."""
    oidc["start_rp"](False, False)
    client, issuer = oidc["client"], oidc["issuer"]
    verifier, challenge = _pkce()
    q = urlencode({
        "client_id": client["client_id"], "redirect_uri": client["redirect_uris"][0], "response_type": "code",
        "scope": "openid email", "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256",
    })
    s = requests.Session()
    back = through_provider(s, f"{issuer}/oauth2/authorize?{q}", issuer, "ada", PASSWORD)
    code = parse_qs(urlsplit(back).query)["code"][0]
    tok = requests.post(f"{issuer}/oauth2/token", auth=(client["client_id"], client["client_secret"]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": client["redirect_uris"][0], "code_verifier": verifier,
    })
    assert tok.status_code == 200, tok.text
    access = tok.json()["access_token"]
    me = requests.get(f"{oidc['rp_origin']}/api/me/", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200, me.text
    assert me.json() == {"id": stack.user("ada")["id"], "username": "ada", "email": "ada@example.com", "is_staff": False}

    machine = requests.post(f"{issuer}/oauth2/token", auth=(client["client_id"], client["client_secret"]),
                            data={"grant_type": "client_credentials"})
    assert machine.status_code == 200, machine.text
    refused = requests.get(f"{oidc['rp_origin']}/api/me/", headers={"Authorization": f"Bearer {machine.json()['access_token']}"})
    assert refused.status_code == 401, f"a client_credentials token has no user: {refused.status_code} {refused.text}"
