"""The account flows' test support: a real SMTP server (aiosmtpd) that keeps what it receives,
the settings both sides get, row and email snapshots, and the comparison of two answers.

Used by tests/test_accounts*.py. Django runs in a DjangoAgent (django.test.Client in-process, its
SMTP backend sending for real); authbridge is the real binary. Each side has its own database and
its own mail server, so every email is attributed to the side that sent it."""
from __future__ import annotations

import atexit
import email
import email.policy
import json
import logging
import re
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

from harness import Authbridge, Database, DjangoAgent, Resp, authbridge_cli, authbridge_env, manage

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Link templates of the anchor's server M (accounts_wire_probe.md).
CONFIRM_URL = "http://localhost:3000/verify-email/{key}"
RESET_URL = "http://localhost:3000/password-reset/confirm/{uid}/{token}"
FROM = "noreply@example.com"

# --------------------------------------------------------------------------------------------
# Mail


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list
    headers: dict  # the headers that matter, as received
    content_type: str
    charset: str | None
    body: str  # text/plain part, line ends as \n
    html: str | None
    received_at: float

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "")

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.body)


class _Handler:
    def __init__(self, box: "Mailbox"):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        body = plain.get_content() if plain is not None else ""
        mail = Mail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            headers={k: str(msg[k]) for k in ("Subject", "From", "To", "Cc", "Bcc", "Reply-To") if msg[k] is not None},
            content_type=msg.get_content_type(),
            charset=(plain.get_content_charset() if plain is not None else None),
            body=body.replace("\r\n", "\n"),
            html=html.get_content().replace("\r\n", "\n") if html is not None else None,
            received_at=time.monotonic(),
        )
        self.box._add(mail)
        return "250 Message accepted for delivery"


class Mailbox:
    """aiosmtpd on 127.0.0.1:<port>. `start()`/`stop()` may be called again (a server that is
    down, then up on the same port)."""

    def __init__(self, port: int | None = None, credentials: tuple[str, str] | None = None):
        self.port = port or free_port()
        self.credentials = credentials  # (user, password): AUTH required, as a provider's relay does
        self.logins: list[str] = []  # users that authenticated
        self.messages: list[Mail] = []
        self._cond = threading.Condition()
        self._ctl: Controller | None = None

    def start(self) -> "Mailbox":
        if self._ctl is None:
            kw = {}
            if self.credentials is not None:
                kw = dict(authenticator=self._authenticate, auth_required=True, auth_require_tls=False)
            self._ctl = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kw)
            with warnings.catch_warnings():
                # AUTH without TLS, on the loopback: what the test wants.
                warnings.simplefilter("ignore", UserWarning)
                logging.getLogger("mail.log").setLevel(logging.ERROR)
                self._ctl.start()
        return self

    def stop(self):
        if self._ctl is not None:
            self._ctl.stop()
            self._ctl = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    @property
    def running(self) -> bool:
        return self._ctl is not None

    def _add(self, mail: Mail):
        with self._cond:
            self.messages.append(mail)
            self._cond.notify_all()

    def take(self) -> list[Mail]:
        with self._cond:
            out, self.messages = self.messages, []
        return out

    def wait_for(self, n: int, timeout: float) -> bool:
        """Until at least n messages are here (True) or timeout (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


# Keys and tokens in links: allauth's HMAC confirmation key (signing.dumps(id, salt="account")) and
# the reset token (<base36 seconds>-<32 hex>), and the scheme+host of backend links.
KEY_RE = re.compile(r"(?P<id>[A-Za-z0-9_-]+):(?P<ts>[0-9A-Za-z]{4,8}):(?P<sig>[A-Za-z0-9_-]{43})")
TOKEN_RE = re.compile(r"""/(?P<uid>[0-9a-z]+)/(?P<ts>[0-9a-z]{4,8})-(?P<hash>[0-9a-f]{32})(?=[/\s"'<]|$)""")
HOST_RE = re.compile(r"http://(testserver|127\.0\.0\.1:\d+|localhost:\d+)(?=/api/|/password-reset/)")


def normalise_body(body: str) -> str:
    body = KEY_RE.sub(lambda m: f"{m['id']}:<ts>:<sig>", body)
    body = TOKEN_RE.sub(lambda m: f"/{m['uid']}/<ts36>-<hash>", body)
    return HOST_RE.sub("http://<host>", body)


def mail_keys(mail: Mail) -> list[str]:
    return [m.group(0) for m in KEY_RE.finditer(mail.body)]


def mail_reset(mail: Mail) -> list[tuple[str, str]]:
    return [(m["uid"], f"{m['ts']}-{m['hash']}") for m in TOKEN_RE.finditer(mail.body)]


def mail_view(mail: Mail) -> dict:
    """What is compared between the two sides' emails."""
    return {
        "envelope_from": mail.mail_from,
        "envelope_to": mail.rcpt_tos,
        "From": mail.headers.get("From"),
        "To": mail.headers.get("To"),
        "Subject": mail.subject,
        "content_type": mail.content_type,
        "charset": (mail.charset or "").lower(),
        "body": normalise_body(mail.body),
        "html": None if mail.html is None else normalise_body(mail.html),
    }


# --------------------------------------------------------------------------------------------
# The two sides


def authbridge_accounts_env(db: Database, smtp_port: int, verification="mandatory", links=True, **extra) -> dict:
    """authbridge configured as the anchor is (Django's and allauth's setting names)."""
    env = dict(
        AUTHBRIDGE_ACCOUNTS="true",
        ACCOUNT_EMAIL_VERIFICATION=verification,
        ACCOUNT_LOGIN_METHODS="username,email",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="10",
        DEFAULT_FROM_EMAIL=FROM,
        # The differential sends more failures than the lockout allows; the throttles are tested
        # on their own (test_accounts_mail_abuse.py).
        AUTHBRIDGE_LOGIN_FAILURES="0",
        AUTHBRIDGE_LOGIN_ADDRESS_FAILURES="0",
        **{f"AUTHBRIDGE_{a}_{w}_RATE": "off" for a in ("SIGNUP", "RESEND", "PASSWORD_RESET") for w in ("ADDRESS", "CLIENT")},
    )
    if links:
        env.update(ACCOUNT_EMAIL_CONFIRMATION_URL=CONFIRM_URL, PASSWORD_RESET_CONFIRM_URL=RESET_URL)
    else:
        env.update(ACCOUNT_EMAIL_CONFIRMATION_URL=None, PASSWORD_RESET_CONFIRM_URL=None)
    if verification == "optional":
        env.update(ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN="0")
    env.update(extra)
    return authbridge_env(db, **env)


def django_accounts_env(smtp_port: int) -> dict:
    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}


@dataclass
class Side:
    """One server under test: Django (its agent serves the requests) or authbridge (its agent
    only reads and checks rows). Each on its own database, with its own mail server."""

    name: str  # "django" | "authbridge"
    db: Database
    agent: DjangoAgent
    mailbox: Mailbox
    ab: Authbridge | None = None
    state: dict = field(default_factory=dict)

    def request(self, method, path, body=b"", content_type=None, headers=None) -> Resp:
        if self.ab is None:
            return self.agent.request(method, path, body, content_type, headers)
        self.ab.session.cookies.clear()  # no session: each request stands alone, as a fetch() would
        return self.ab.request(method, path, body, content_type, headers)

    def post(self, path, obj, headers=None) -> Resp:
        return self.request("POST", path, json.dumps(obj).encode(), JSON, headers)

    def orm(self, code, **args):
        return self.agent.exec(code, **args)

    def log_tail(self) -> str:
        return self.ab.log_tail(40) if self.ab is not None else ""


# Django's migrate runs once per settings module and backend; each test database is a copy of that
# (a file copy, or PostgreSQL's CREATE DATABASE ... TEMPLATE): the same rows and sequences as a
# fresh migrate, seconds faster.
_TEMPLATES: dict = {}
_TEMPLATES_LOCK = threading.Lock()


def _template(backend: str, settings_module: str) -> Database:
    from harness import make_database, tmp_workdir

    key = (backend, settings_module)
    with _TEMPLATES_LOCK:
        if key not in _TEMPLATES:
            workdir = tmp_workdir("authbridge-accounts-template-")
            db = make_database(backend, workdir, "acc_template")
            manage(settings_module, db, "migrate", "--noinput")
            _TEMPLATES[key] = (db, workdir)
            if len(_TEMPLATES) == 1:
                atexit.register(_drop_templates)
        return _TEMPLATES[key][0]


def _drop_templates():
    from harness import rmtree

    for db, workdir in _TEMPLATES.values():
        try:
            db.drop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        rmtree(workdir)


def migrated_database(backend: str, workdir: Path, label: str, settings_module="djproject.settings_accounts"):
    """A fresh database of `backend`, as `manage.py migrate` with `settings_module` leaves it."""
    from harness import make_database

    template = _template(backend, settings_module)
    if backend == "sqlite":
        import shutil

        db = make_database("sqlite", workdir, label)
        shutil.copyfile(template.path, db.path)
        return db
    import psycopg

    db = make_database("postgres", workdir, label)
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{db.name}"')
        conn.execute(f'CREATE DATABASE "{db.name}" TEMPLATE "{template.name}"')
        conn.execute(f"ALTER DATABASE \"{db.name}\" SET timezone TO 'Asia/Kolkata'")
    return db


def authbridge_migrate(db: Database, workdir: Path, env: dict):
    proc = authbridge_cli(["migrate"], env, workdir)
    assert proc.returncode == 0, f"authbridge migrate: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


# --------------------------------------------------------------------------------------------
# Rows

ROWS_CODE = r"""
from allauth.account.models import EmailAddress
users = []
for u in User.objects.order_by("id"):
    algo = u.password.split("$")
    users.append({
        "id": u.id, "username": u.username, "email": u.email, "is_active": u.is_active,
        "is_staff": u.is_staff, "is_superuser": u.is_superuser,
        "first_name": u.first_name, "last_name": u.last_name,
        "password": "$".join(algo[:2]) if len(algo) > 2 else u.password,
        "usable_password": u.has_usable_password(),
        "last_login_set": u.last_login is not None,
        "date_joined_recent": abs((timezone.now() - u.date_joined).total_seconds()) < 3600,
    })
emails = list(EmailAddress.objects.order_by("id").values("id", "user_id", "email", "verified", "primary"))
result = {
    "auth_user": users,
    "account_emailaddress": emails,
    "outstanding_tokens": OutstandingToken.objects.count(),
    "blacklisted_tokens": BlacklistedToken.objects.count(),
    "account_emailconfirmation": sql("SELECT count(*) FROM account_emailconfirmation")[0][0],
}
"""


def rows(side: Side) -> dict:
    return side.orm(ROWS_CODE)


CREATE_USER_CODE = r"""
u = User.objects.create_user(username=args["username"], email=args["email"], password=args["password"])
u.is_active = args.get("active", True)
u.save()
if args.get("emailaddress"):
    from allauth.account.models import EmailAddress
    EmailAddress.objects.create(user=u, email=args["email"].lower(), verified=args.get("verified", False),
                                primary=True)
result = u.pk
"""

# Does allauth, in Django, accept this confirmation key / reset token? Nothing is written: the
# checks run in a transaction that is rolled back (allauth's token check inserts a missing
# email-address row as a side effect).
CHECK_KEY_CODE = r"""
from django.db import transaction
from allauth.account.models import EmailConfirmationHMAC
with transaction.atomic():
    conf = EmailConfirmationHMAC.from_key(args["key"])
    result = None if conf is None else {"emailaddress_id": conf.email_address.pk,
                                         "email": conf.email_address.email}
    transaction.set_rollback(True)
"""

CHECK_RESET_CODE = r"""
from django.db import transaction
from allauth.account.forms import default_token_generator
from allauth.account.utils import url_str_to_user_pk
with transaction.atomic():
    try:
        user = User.objects.get(pk=url_str_to_user_pk(args["uid"]))
    except Exception:
        user = None
    result = bool(user is not None and default_token_generator.check_token(user, args["token"]))
    transaction.set_rollback(True)
"""

# Keys and tokens no server would send: expired, other salt, Django's own generator.
FORGE_CODE = r"""
import time
from unittest import mock
from django.core import signing
from django.db import transaction
from allauth.account.forms import default_token_generator as allauth_gen
from django.contrib.auth.tokens import default_token_generator as django_gen


def forge(kind, pk):
    if kind == "expired_key":
        with mock.patch("django.core.signing.time.time", return_value=time.time() - 4 * 86400):
            return signing.dumps(pk, salt="account")
    if kind == "other_salt_key":
        return signing.dumps(pk, salt="other")
    if kind == "expired_token":
        u = User.objects.get(pk=pk)
        ts = allauth_gen._num_seconds(allauth_gen._now()) - settings.PASSWORD_RESET_TIMEOUT - 60
        return allauth_gen._make_token_with_timestamp(u, ts, allauth_gen.secret)
    if kind == "django_token":
        return django_gen.make_token(User.objects.get(pk=pk))
    raise ValueError(kind)


with transaction.atomic():
    result = forge(args["kind"], args["pk"])
    transaction.set_rollback(True)
"""


# --------------------------------------------------------------------------------------------
# A pair: Django and authbridge, each on its own fresh database of one kind


# INTEROP_ACCOUNTS_SELF_CHECK=1: Django answers on both sides (checks the harness itself).
SELF_CHECK = __import__("os").environ.get("INTEROP_ACCOUNTS_SELF_CHECK") == "1"


class Pair:
    def __init__(self, backend: str, label: str, settings_module="djproject.settings_accounts",
                 verification="mandatory", links=True, ab_extra: dict | None = None, dj_extra: dict | None = None,
                 boxes=Mailbox):
        from harness import rmtree, tmp_workdir

        self.backend = backend
        self.workdir = tmp_workdir(f"authbridge-accounts-{label}-{backend}-")
        self._rmtree = rmtree
        self.dbs: list[Database] = []
        self.boxes: list[Mailbox] = []
        self.agents: list[DjangoAgent] = []
        self.servers: list[Authbridge] = []
        self.dj_extra = dj_extra or {}
        self._new_box = boxes
        try:
            dj_db = self._db(backend, f"{label}_dj", settings_module)
            ab_db = self._db(backend, f"{label}_ab", settings_module)
            dj_box, ab_box = self._box(), self._box()
            dj_agent = self._agent(settings_module, dj_db, "django-agent", dj_box.port)
            ab_agent = self._agent(settings_module, ab_db, "django-agent-on-authbridge-db", ab_box.port)
            self.ab_env = authbridge_accounts_env(ab_db, ab_box.port, verification, links, **(ab_extra or {}))
            self.dj = Side("django", dj_db, dj_agent, dj_box)
            if SELF_CHECK:
                # The harness checked against itself: Django on both sides (no difference expected).
                self.ab = Side("authbridge", ab_db, ab_agent, ab_box)
                return
            authbridge_migrate(ab_db, self.workdir, self.ab_env)
            server = Authbridge(self.ab_env, self.workdir, log_name="authbridge")
            self.servers.append(server)
            self.ab = Side("authbridge", ab_db, ab_agent, ab_box, ab=server)
        except BaseException:
            self.close()
            raise

    def _db(self, backend, label, settings_module):
        db = migrated_database(backend, self.workdir, label, settings_module)
        self.dbs.append(db)
        return db

    def _box(self) -> Mailbox:
        box = self._new_box()
        self.boxes.append(box)
        box.start()
        return box

    def _agent(self, settings_module, db, log, smtp_port) -> DjangoAgent:
        agent = DjangoAgent(settings_module, db, self.workdir / f"{log}.log",
                            extra_env={**django_accounts_env(smtp_port), **self.dj_extra})
        self.agents.append(agent)
        return agent

    def both(self):
        return (self.dj, self.ab)

    def close(self):
        import os

        for s in self.servers:
            s.stop()
        for a in self.agents:
            a.close()
        for b in self.boxes:
            b.stop()
        for db in self.dbs:
            try:
                db.drop()
            except Exception:  # noqa: BLE001 - keep closing the rest
                pass
        if os.environ.get("INTEROP_KEEP_TMP") != "1":
            self._rmtree(self.workdir)
