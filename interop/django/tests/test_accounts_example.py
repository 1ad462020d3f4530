"""examples/nextjs-accounts/lib/accounts.mjs (what the example's pages and Auth.js's authorize()
call) run by Node against a live authbridge: sign-up, the emailed link's key, confirmation, login
by username and by email through authorize(), reset request, the emailed link's uid and token,
reset confirm, password change, logout. The links land on the example's page routes."""
import json
import re
import shutil
import subprocess

import pytest

from accounts_diff import MAIL_WAIT
from accounts_support import Mailbox, authbridge_accounts_env, authbridge_migrate, mail_keys, mail_reset, migrated_database
from harness import REPO, Authbridge, rmtree, tmp_workdir

LIB = REPO / "examples" / "nextjs-accounts" / "lib" / "accounts.mjs"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (the Auth.js suites install it)")

PW = "Ex4mple-Passw0rd!"
PW_NEW = "Ex4mple-Passw0rd!-new"


@pytest.fixture(scope="module")
def live(backend):
    workdir = tmp_workdir(f"authbridge-accounts-example-{backend}-")
    db = migrated_database(backend, workdir, "acc_example")
    box = Mailbox().start()
    ab = None
    try:
        env = authbridge_accounts_env(db, box.port)
        authbridge_migrate(db, workdir, env)
        ab = Authbridge(env, workdir)
        yield ab, box
    finally:
        if ab is not None:
            ab.stop()
        box.stop()
        try:
            db.drop()
        finally:
            rmtree(workdir)


def node(ab, fn, *args):
    code = (
        f"import * as lib from {json.dumps(LIB.as_uri())};\n"
        f"const r = await lib[{json.dumps(fn)}](...{json.dumps(list(args))}, {{ baseUrl: {json.dumps(ab.url)} }});\n"
        "process.stdout.write(JSON.stringify(r));\n"
    )
    proc = subprocess.run([NODE, "--input-type=module", "-e", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def one_mail(box):
    assert box.wait_for(1, MAIL_WAIT), "no email"
    (mail,) = box.take()
    return mail


def test_the_example_pages_calls(live):
    ab, box = live
    bad = node(ab, "signUp", {"username": "ed", "email": "ed@example.com", "password1": "1234"})
    assert bad["status"] == 400
    errors = subprocess.run(
        [NODE, "--input-type=module", "-e",
         f"import {{ fieldErrors }} from {json.dumps(LIB.as_uri())};"
         f"process.stdout.write(JSON.stringify(fieldErrors({json.dumps(bad['data'])})))"],
        capture_output=True, text=True, timeout=60,
    )
    assert json.loads(errors.stdout) == {"password1": "This password is too short. It must contain at least 8 "
                                         "characters. This password is too common. This password is entirely numeric."}

    r = node(ab, "signUp", {"username": "ed", "email": "ed@example.com", "password1": PW})
    assert (r["ok"], r["status"], r["data"]) == (True, 201, {"detail": "Verification e-mail sent."})
    mail = one_mail(box)
    (link,) = [link for link in mail.links() if "/verify-email/" in link]
    assert re.fullmatch(r"http://localhost:3000/verify-email/[^/]+", link), link  # app/verify-email/[key]
    (key,) = mail_keys(mail)
    assert node(ab, "authorize", {"username": "ed", "password": PW}) is None  # not confirmed yet
    assert node(ab, "verifyEmail", key)["data"] == {"detail": "ok"}
    assert node(ab, "verifyEmail", key)["status"] == 404

    by_name = node(ab, "authorize", {"username": "ed", "password": PW})
    by_email = node(ab, "authorize", {"username": "ED@example.com", "password": PW})
    assert by_name["id"] == by_email["id"] and by_name["name"] == "ed" and by_name["email"] == "ed@example.com"
    assert by_name["token"] and by_name["refresh"]
    assert node(ab, "authorize", {"username": "ed", "password": "wrong"}) is None

    assert node(ab, "requestPasswordReset", "ed@example.com")["ok"]
    mail = one_mail(box)
    (link,) = [link for link in mail.links() if "/password-reset/confirm/" in link]
    assert re.fullmatch(r"http://localhost:3000/password-reset/confirm/[0-9a-z]+/[0-9a-z]+-[0-9a-f]{32}", link), link
    ((uid, token),) = mail_reset(mail)
    r = node(ab, "confirmPasswordReset", {"uid": uid, "token": token, "new_password1": PW_NEW})
    assert r["data"] == {"detail": "Password has been reset with the new password."}, r
    assert node(ab, "authorize", {"username": "ed", "password": PW}) is None

    user = node(ab, "authorize", {"email": "ed@example.com", "password": PW_NEW})
    assert node(ab, "changePassword", user["token"], PW, PW)["data"] == {"detail": "New password has been saved."}
    user = node(ab, "authorize", {"username": "ed", "password": PW})
    assert node(ab, "logOut", user["refresh"])["data"] == {"detail": "Successfully logged out."}
    assert node(ab, "logOut", user["refresh"])["status"] == 401
