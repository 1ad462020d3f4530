"""Account flows across the two servers on ONE database: what Django (dj-rest-auth + allauth)
emails works at authbridge's endpoints and what authbridge emails works at Django's; a user who
signs up and confirms through one logs into the other (dj-rest-auth's login, Django's admin
login, authbridge's login and token API)."""
import json
from urllib.parse import urlencode

import pytest

from accounts_support import (
    FORM,
    JSON,
    Mailbox,
    authbridge_accounts_env,
    authbridge_migrate,
    django_accounts_env,
    mail_keys,
    mail_reset,
    migrated_database,
)
from harness import Authbridge, DjangoAgent, rmtree, tmp_workdir
from accounts_diff import MAIL_WAIT
from test_accounts import CONFIRM, LOGIN, PW, REG, RESET, VERIFY, reg

NEW_PW = "Cr0ss-Over-Secret!"
# Django's SECRET_KEY_FALLBACKS: a key authbridge no longer signs with but still accepts.
OLD_SECRET = "interop-old-secret-" + "0123456789abcdef" * 3

SIGN_WITH_CODE = r"""
from django.core import signing
from django.db import transaction
from allauth.account.models import EmailAddress
from allauth.account.forms import default_token_generator as gen
from allauth.account.utils import user_pk_to_url_str
with transaction.atomic():
    addr = EmailAddress.objects.get(email=args["email"])
    u = addr.user
    ts = gen._num_seconds(gen._now())
    result = {
        "key": signing.dumps(addr.pk, salt="account", key=args["secret"]),
        "uid": user_pk_to_url_str(u),
        "token": gen._make_token_with_timestamp(u, ts, args["secret"]),
    }
    transaction.set_rollback(True)
"""


class Shared:
    def __init__(self, backend):
        self.workdir = tmp_workdir(f"authbridge-accounts-cross-{backend}-")
        self.db = migrated_database(backend, self.workdir, "acc_cross")
        self.dj_box, self.ab_box = Mailbox().start(), Mailbox().start()
        self.agent = self.ab = None
        try:
            env = authbridge_accounts_env(self.db, self.ab_box.port, DJANGO_SECRET_KEY_FALLBACKS=OLD_SECRET)
            authbridge_migrate(self.db, self.workdir, env)
            self.agent = DjangoAgent("djproject.settings_accounts", self.db, self.workdir / "django-agent.log",
                                     extra_env=django_accounts_env(self.dj_box.port))
            self.ab = Authbridge(env, self.workdir)
        except BaseException:
            self.close()
            raise

    def django(self, path, obj, content_type=JSON):
        body = json.dumps(obj).encode() if content_type == JSON else urlencode(obj).encode()
        return self.agent.request("POST", path, body, content_type)

    def authbridge(self, path, obj):
        self.ab.session.cookies.clear()
        return self.ab.post_json(path, obj)

    def ab_mail(self):
        assert self.ab_box.wait_for(1, MAIL_WAIT), f"authbridge sent no email\n{self.ab.log_tail(30)}"
        mails = self.ab_box.take()
        assert len(mails) == 1, [m.body for m in mails]
        return mails[0]

    def dj_mail(self):
        mails = self.dj_box.take()
        assert len(mails) == 1, [m.body for m in mails]
        return mails[0]

    def row(self, email):
        return self.agent.exec(
            "from allauth.account.models import EmailAddress\n"
            "result = list(EmailAddress.objects.filter(email=args['e']).values('user_id', 'verified', 'primary'))",
            e=email,
        )

    def close(self):
        if self.ab is not None:
            self.ab.stop()
        if self.agent is not None:
            self.agent.close()
        self.dj_box.stop()
        self.ab_box.stop()
        try:
            self.db.drop()
        finally:
            rmtree(self.workdir)


@pytest.fixture(scope="module")
def shared(backend):
    s = Shared(backend)
    yield s
    s.close()


def ok(r, status=200):
    assert r.status == status, r.describe()
    return r.json() if r.body else None


def test_django_signup_confirmed_and_used_at_authbridge(shared):
    body = ok(shared.django(REG, reg("carol", "carol@example.com")), 201)
    assert body == {"detail": "Verification e-mail sent."}
    (key,) = mail_keys(shared.dj_mail())
    # Not yet confirmed: authbridge refuses the login as dj-rest-auth does.
    r = shared.authbridge(LOGIN, {"username": "carol", "password": PW})
    assert (r.status, r.json()) == (400, {"non_field_errors": ["E-mail is not verified."]}), r.describe()
    assert ok(shared.authbridge(VERIFY, {"key": key})) == {"detail": "ok"}
    assert [r["verified"] for r in shared.row("carol@example.com")] == [True]
    # The key is spent for both.
    assert shared.django(VERIFY, {"key": key}).status == 404
    user = ok(shared.authbridge(LOGIN, {"username": "carol", "password": PW}))["user"]
    assert user["username"] == "carol" and user["email"] == "carol@example.com"
    assert ok(shared.authbridge("/api/token/", {"username": "carol", "password": PW}))["access"]


def test_authbridge_signup_confirmed_and_used_at_django(shared):
    ok(shared.authbridge(REG, reg("dave", "Dave@Example.com")), 201)
    mail = shared.ab_mail()
    (key,) = mail_keys(mail)
    assert ok(shared.django(VERIFY, {"key": key})) == {"detail": "ok"}
    assert [(r["verified"], r["primary"]) for r in shared.row("dave@example.com")] == [(True, True)]
    assert shared.authbridge(VERIFY, {"key": key}).status == 404
    # dj-rest-auth's login, Django's own authenticate(), and the admin's login form.
    user = ok(shared.django(LOGIN, {"email": "dave@example.com", "password": PW}))["user"]
    assert user["username"] == "dave"
    assert shared.agent.exec(
        "from django.contrib.auth import authenticate\n"
        "result = authenticate(username='dave', password=args['p']) is not None", p=PW)
    shared.agent.exec("u = User.objects.get(username='dave'); u.is_staff = True; u.save(); result = None")
    r = shared.django("/admin/login/?next=/admin/", {"username": "dave", "password": PW, "next": "/admin/"}, FORM)
    assert (r.status, r.headers.get("location")) == (302, "/admin/"), r.describe()


def test_django_reset_token_at_authbridge(shared):
    assert ok(shared.django(RESET, {"email": "carol@example.com"}))
    ((uid, token),) = mail_reset(shared.dj_mail())
    body = {"uid": uid, "token": token, "new_password1": NEW_PW, "new_password2": NEW_PW}
    assert ok(shared.authbridge(CONFIRM, body)) == {"detail": "Password has been reset with the new password."}
    assert shared.django(CONFIRM, body).json() == {"token": ["Invalid value"]}  # spent for both
    ok(shared.django(LOGIN, {"username": "carol", "password": NEW_PW}))
    ok(shared.authbridge(LOGIN, {"username": "carol", "password": NEW_PW}))


def test_authbridge_reset_token_at_django(shared):
    assert ok(shared.authbridge(RESET, {"email": "dave@example.com"}))
    ((uid, token),) = mail_reset(shared.ab_mail())
    body = {"uid": uid, "token": token, "new_password1": NEW_PW, "new_password2": NEW_PW}
    assert ok(shared.django(CONFIRM, body)) == {"detail": "Password has been reset with the new password."}
    assert shared.authbridge(CONFIRM, body).json() == {"token": ["Invalid value"]}
    ok(shared.authbridge(LOGIN, {"username": "dave", "password": NEW_PW}))
    ok(shared.django(LOGIN, {"username": "dave", "password": NEW_PW}))


def test_a_login_at_one_side_spends_the_other_sides_reset_link(shared):
    """last_login is in the token: authbridge's login updates it as dj-rest-auth's does."""
    assert ok(shared.django(RESET, {"email": "carol@example.com"}))
    ((uid, token),) = mail_reset(shared.dj_mail())
    ok(shared.authbridge(LOGIN, {"username": "carol", "password": NEW_PW}))
    body = {"uid": uid, "token": token, "new_password1": PW, "new_password2": PW}
    r = shared.authbridge(CONFIRM, body)
    assert (r.status, r.json()) == (400, {"token": ["Invalid value"]}), r.describe()


def test_keys_and_tokens_signed_with_a_fallback_secret(shared):
    """DJANGO_SECRET_KEY_FALLBACKS: what a Django signed before its SECRET_KEY rotation still works
    at authbridge; a secret in neither list does not."""
    ok(shared.django(REG, reg("erin", "erin@example.com")), 201)
    shared.dj_box.take()
    for secret, accepted in (("some-other-secret-" + "x" * 40, False), (OLD_SECRET, True)):
        made = shared.agent.exec(SIGN_WITH_CODE, email="erin@example.com", secret=secret)
        r = shared.authbridge(VERIFY, {"key": made["key"]})
        assert r.status == (200 if accepted else 404), r.describe()
    assert [r["verified"] for r in shared.row("erin@example.com")] == [True]
    for secret, accepted in (("some-other-secret-" + "x" * 40, False), (OLD_SECRET, True)):
        made = shared.agent.exec(SIGN_WITH_CODE, email="erin@example.com", secret=secret)
        body = {"uid": made["uid"], "token": made["token"], "new_password1": NEW_PW, "new_password2": NEW_PW}
        r = shared.authbridge(CONFIRM, body)
        assert (r.status, r.json()) == ((200, {"detail": "Password has been reset with the new password."})
                                        if accepted else (400, {"token": ["Invalid value"]})), r.describe()
    ok(shared.authbridge(LOGIN, {"username": "erin", "password": NEW_PW}))
