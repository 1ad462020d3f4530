"""Account flows with optional verification, live (the wire probe's server "O":
djproject/settings_accounts_optional.py, no link templates, no cooldown): sign-up answers tokens
and the user, login works before the address is confirmed, and the links in the emails are the
libraries' own backend links on the request's host."""
import pytest

from accounts_diff import compare_rows, post, run_steps
from accounts_support import Pair
from test_accounts import LOGIN, PW, PW3, REG, RESEND, RESET, CONFIRM, VERIFY, OK, RESET_SENT, reg, reset_body, \
    save_key, save_reset, save_tokens


@pytest.fixture(scope="module")
def pair(backend):
    p = Pair(backend, "acc_o", settings_module="djproject.settings_accounts_optional", verification="optional",
             links=False)
    yield p
    p.close()


def test_optional_verification(pair):
    steps = [
        post("register_ok_optional", REG, reg("olga", "olga@example.com"), status=201, compare="jwt", emails=1,
             after=save_key("olga_key")),
        post("login_unverified_optional", LOGIN, {"username": "olga", "password": PW}, status=200, compare="jwt",
             after=save_tokens("o1")),
        post("resend_email_unverified_no_cooldown", RESEND, {"email": "olga@example.com"}, status=200, expect=OK,
             emails=1),
        post("register_same_email_no_cooldown", REG, reg("olga2", "olga@example.com"), status=201, compare="jwt",
             emails=1, note="cooldown 0: the second sign-up's email is sent"),
        post("verify_email_backend_key_optional", VERIFY, lambda s: {"key": s.state["olga_key"]}, status=200,
             expect=OK),
        post("login_verified_email_optional", LOGIN, {"email": "olga@example.com", "password": PW}, status=200,
             compare="jwt"),
        post("password_reset_backend_link", RESET, {"email": "olga@example.com"}, status=200, expect=RESET_SENT,
             emails=2, after=save_reset("o_reset", "olga"), note="olga and olga2 share the address"),
        post("reset_confirm_backend_link", CONFIRM, reset_body("o_reset"), status=200),
        post("login_after_reset_optional", LOGIN, {"username": "olga", "password": PW3}, status=200, compare="jwt"),
    ]
    diffs = run_steps(pair.dj, pair.ab, steps)
    # The reset blacklists the user's earlier refresh tokens at authbridge (on purpose): the token
    # tables differ from there.
    compare_rows(pair.dj, pair.ab, "optional mode", diffs, skip=("outstanding_tokens", "blacklisted_tokens"))
    diffs.check()
