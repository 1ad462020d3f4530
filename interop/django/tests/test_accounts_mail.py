"""Mail for real: authbridge's EMAIL_* settings pointed at an aiosmtpd the test starts.

- The mail server is down at first (a closed port): sign-up and reset answer at once, the emails
  wait in the outbox (`authbridge outbox` shows them), and each arrives once after the server
  comes up on that port.
- PostgreSQL: two authbridge instances on one database, the server down while N sign-ups are
  spread over both, then up: N emails, each received exactly once."""
import os
import threading
import time

import pytest

from accounts_support import (
    CHECK_KEY_CODE,
    Mailbox,
    authbridge_accounts_env,
    authbridge_migrate,
    django_accounts_env,
    mail_keys,
    mail_reset,
    migrated_database,
)
from harness import Authbridge, DjangoAgent, authbridge_cli, rmtree, tmp_workdir
from accounts_diff import MAIL_WAIT
from accounts_support import Pair
from test_accounts import REG, RESET, reg

# The longest the outbox may take to deliver once the server is back (its backoff included).
DELIVERY_TIMEOUT = float(os.environ.get("ACCOUNTS_DELIVERY_TIMEOUT", "60"))


class Down:
    """One database, a mail server that is not started yet, authbridge instances on both."""

    def __init__(self, backend):
        self.workdir = tmp_workdir(f"authbridge-accounts-mail-{backend}-")
        self.db = migrated_database(backend, self.workdir, "acc_mail")
        self.box = Mailbox()  # a free port, nothing listening
        self.servers, self.agent = [], None
        try:
            # Retries every second or two (the defaults: 30 s growing to an hour).
            self.env = authbridge_accounts_env(self.db, self.box.port, AUTHBRIDGE_OUTBOX_RETRY_BASE="1",
                                               AUTHBRIDGE_OUTBOX_RETRY_MAX="2", AUTHBRIDGE_OUTBOX_POLL_INTERVAL="1")
            authbridge_migrate(self.db, self.workdir, self.env)
            self.agent = DjangoAgent("djproject.settings_accounts", self.db, self.workdir / "django-agent.log",
                                     extra_env=django_accounts_env(self.box.port))
        except BaseException:
            self.close()
            raise

    def start(self, name) -> Authbridge:
        ab = Authbridge(self.env, self.workdir, log_name=name)
        self.servers.append(ab)
        return ab

    def outbox(self) -> dict:
        rows = self.agent.exec("result = sql('SELECT state, count(*) FROM authbridge_email_outbox GROUP BY state')")
        return {state: n for state, n in rows}

    def close(self):
        for s in self.servers:
            s.stop()
        if self.agent is not None:
            self.agent.close()
        self.box.stop()
        try:
            self.db.drop()
        finally:
            rmtree(self.workdir)


@pytest.fixture
def down(backend):
    d = Down(backend)
    yield d
    d.close()


def post(ab, path, obj):
    ab.session.cookies.clear()
    started = time.monotonic()
    r = ab.post_json(path, obj)
    return r, time.monotonic() - started


def test_mail_server_down_then_up(down):
    ab = down.start("authbridge")
    r, took = post(ab, REG, reg("mia", "mia@example.com"))
    assert r.status == 201 and r.json() == {"detail": "Verification e-mail sent."}, r.describe()
    assert took < 3, f"sign-up waited {took:.1f}s for a mail server that is down"
    # Nothing lost: the email waits in the database, and the CLI shows it.
    time.sleep(1.0)  # a first attempt against the closed port has failed by now
    assert down.outbox().get("pending") == 1, down.outbox()
    cli = authbridge_cli(["outbox"], down.env, down.workdir)
    assert cli.returncode == 0, cli.stderr
    assert "mia@example.com" in cli.stdout and "pending" in cli.stdout, cli.stdout
    # The server comes up on that port: the email arrives, once.
    down.box.start()
    assert down.box.wait_for(1, DELIVERY_TIMEOUT), f"not delivered in {DELIVERY_TIMEOUT}s\n{ab.log_tail(30)}"
    time.sleep(2)
    mails = down.box.take()
    assert [m.rcpt_tos for m in mails] == [["mia@example.com"]], [m.rcpt_tos for m in mails]
    assert mails[0].subject == "[example.com] Please Confirm Your Email Address"
    (key,) = mail_keys(mails[0])
    assert down.agent.exec(CHECK_KEY_CODE, key=key)["email"] == "mia@example.com"
    assert down.outbox() == {"sent": 1}, down.outbox()
    cli = authbridge_cli(["outbox"], down.env, down.workdir)
    assert cli.returncode == 0 and "pending" not in cli.stdout.replace("0 pending", ""), cli.stdout


def test_reset_while_down_is_answered_at_once_and_sent_later(down):
    down.agent.exec("from allauth.account.models import EmailAddress\n"
                    "u = User.objects.create_user('nina', 'nina@example.com', 'x-Passw0rd!')\n"
                    "EmailAddress.objects.create(user=u, email='nina@example.com', verified=True, primary=True)\n"
                    "result = u.pk")
    ab = down.start("authbridge")
    r, took = post(ab, RESET, {"email": "nina@example.com"})
    assert r.status == 200 and took < 3, (r.describe(), took)
    down.box.start()
    assert down.box.wait_for(1, DELIVERY_TIMEOUT), ab.log_tail(30)
    time.sleep(1)
    mails = down.box.take()
    assert len(mails) == 1 and mails[0].subject == "[example.com] Password Reset Email"
    ((uid, token),) = mail_reset(mails[0])
    assert uid and token


def test_two_instances_send_each_email_once(down, backend):
    if backend != "postgres":
        pytest.skip("several instances on one database: PostgreSQL")
    a, b = down.start("authbridge-a"), down.start("authbridge-b")
    n = 12
    answers = []

    def signup(i):
        ab = (a, b)[i % 2]
        # one session per thread: requests.Session is not thread-safe
        import requests

        r = requests.post(ab.url + REG, json=reg(f"user{i}", f"user{i}@example.com"), timeout=60)
        answers.append(r.status_code)

    threads = [threading.Thread(target=signup, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * n, answers
    assert down.outbox().get("pending") == n, down.outbox()
    down.box.start()
    assert down.box.wait_for(n, DELIVERY_TIMEOUT), f"{len(down.box.messages)} of {n}\n{a.log_tail(20)}"
    time.sleep(3)  # a duplicate would come now
    got = sorted(r for m in down.box.take() for r in m.rcpt_tos)
    assert got == sorted(f"user{i}@example.com" for i in range(n)), got
    assert down.outbox() == {"sent": n}, down.outbox()


def test_smtp_login_with_django_settings(backend):
    """EMAIL_HOST_USER / EMAIL_HOST_PASSWORD: a relay that requires AUTH (advertised without TLS
    here) gets the same login from Django's SMTP backend and from authbridge."""
    creds = ("relay-user", "relay-secret-8f3k")  # ASCII: smtplib encodes AUTH PLAIN as ASCII
    pair = Pair(backend, "acc_smtp_auth",
                ab_extra={"EMAIL_HOST_USER": creds[0], "EMAIL_HOST_PASSWORD": creds[1]},
                dj_extra={"EMAIL_HOST_USER": creds[0], "EMAIL_HOST_PASSWORD": creds[1]},
                boxes=lambda: Mailbox(credentials=creds))
    try:
        for side in pair.both():
            r = side.post(REG, reg("sam", "sam@example.com"))
            assert r.status == 201, r.describe()
            assert side.mailbox.wait_for(1, MAIL_WAIT), f"{side.name}: nothing delivered\n{side.log_tail()}"
            assert side.mailbox.logins == [creds[0]], side.mailbox.logins
    finally:
        pair.close()
