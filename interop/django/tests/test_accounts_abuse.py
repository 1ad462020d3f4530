"""Abuse: password reset and resend answer the same for known, unknown and inactive addresses and
email only the first; the rate limits of sign-up, resend and reset answer as configured; known and
unknown addresses take about the same time. Django (the anchor) gets the same requests where it
has an answer to compare: it emails an inactive user's unverified address on resend, authbridge
does not (on purpose)."""
import statistics
import time

import pytest

from accounts_diff import MAIL_SETTLE, MAIL_WAIT, headers_view
from accounts_support import CREATE_USER_CODE, Pair
from test_accounts import PW, REG, RESEND, RESET, reg

RATES = {
    "AUTHBRIDGE_SIGNUP_CLIENT_RATE": "3/h",
    "AUTHBRIDGE_SIGNUP_ADDRESS_RATE": "off",
    "AUTHBRIDGE_RESEND_ADDRESS_RATE": "2/h",
    "AUTHBRIDGE_RESEND_CLIENT_RATE": "off",
    "AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE": "3/h",
    "AUTHBRIDGE_PASSWORD_RESET_CLIENT_RATE": "off",
}


@pytest.fixture(scope="module")
def pair(backend):
    p = Pair(backend, "acc_abuse", ab_extra=RATES)
    for side in p.both():
        for i in range(6):
            side.orm(CREATE_USER_CODE, username=f"known{i}", email=f"known{i}@example.com", password=PW,
                     emailaddress=True, verified=True)
        side.orm(CREATE_USER_CODE, username="ivan", email="ivan@example.com", password=PW, active=False,
                 emailaddress=True, verified=False)
        side.orm(CREATE_USER_CODE, username="una", email="una@example.com", password=PW, emailaddress=True,
                 verified=False)
    yield p
    p.close()


def send(side, path, obj, expect=0):
    """One request; the emails it caused. authbridge sends after answering: wait for the
    `expect`ed ones, then a little more for any other."""
    left = side.mailbox.take()
    assert not left, f"emails from an earlier request: {[m.rcpt_tos for m in left]}"
    r = side.post(path, obj)
    if side.ab is not None:
        if expect:
            side.mailbox.wait_for(expect, MAIL_WAIT)
        time.sleep(MAIL_SETTLE * 2)
    return r, side.mailbox.take()


def view(r):
    return (r.status, r.body, headers_view(r))


def test_reset_answers_the_same_and_mails_only_the_known(pair):
    ab = pair.ab
    known, k_mails = send(ab, RESET, {"email": "known0@example.com"}, expect=1)
    unknown, u_mails = send(ab, RESET, {"email": "nobody@example.com"})
    inactive, i_mails = send(ab, RESET, {"email": "ivan@example.com"})
    assert known.status == 200, known.describe()
    assert view(unknown) == view(known) and view(inactive) == view(known)
    assert [m.rcpt_tos for m in k_mails] == [["known0@example.com"]]
    assert u_mails == [] and i_mails == []


def test_resend_answers_the_same_and_mails_only_the_known(pair):
    """A difference on purpose (issue 10): authbridge sends nothing to an inactive user's unverified
    address, with the same answer; the anchor emails it."""
    got = {}
    for side in pair.both():
        inactive = 0 if side.name == "authbridge" else 1
        got[side.name] = [send(side, RESEND, {"email": e}, expect=n) for e, n in
                          (("una@example.com", 1), ("nobody@example.com", 0), ("ivan@example.com", inactive))]
    (una, una_m), (nobody, nobody_m), (ivan, ivan_m) = got["authbridge"]
    assert una.status == 200, una.describe()
    assert view(nobody) == view(una) and view(ivan) == view(una)
    assert [m.rcpt_tos for m in una_m] == [["una@example.com"]]
    assert nobody_m == [] and ivan_m == []
    # The anchor emails the inactive user's unverified address (ResendEmailVerificationView does
    # not look at is_active): a difference on purpose.
    assert [len(m) for _, m in got["django"]] == [1, 0, 1]


def test_reset_rate_per_address(pair):
    """AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE=3/h: the 4th request for one address is refused,
    known or unknown alike, and sends nothing."""
    answers = {}
    for email in ("known1@example.com", "ghost@example.com"):
        known = email.startswith("known")
        answers[email] = [send(pair.ab, RESET, {"email": email}, expect=int(known and i < 3)) for i in range(4)]
    for email, results in answers.items():
        assert [r.status for r, _ in results[:3]] == [200] * 3, [r.describe() for r, _ in results]
        refused, mails = results[3]
        assert refused.status == 429, refused.describe()
        assert mails == []
        assert refused.headers.get("retry-after"), refused.describe()
    k, g = answers["known1@example.com"][3][0], answers["ghost@example.com"][3][0]
    assert (k.status, k.json().keys()) == (g.status, g.json().keys())
    assert sum(len(m) for _, m in answers["known1@example.com"]) == 3
    assert sum(len(m) for _, m in answers["ghost@example.com"]) == 0
    # Another address is not limited by these.
    assert send(pair.ab, RESET, {"email": "known2@example.com"}, expect=1)[0].status == 200


def test_resend_rate_per_address(pair):
    """AUTHBRIDGE_RESEND_ADDRESS_RATE=2/h (una used one above)."""
    r, mails = send(pair.ab, RESEND, {"email": "una@example.com"}, expect=1)
    assert r.status == 200 and len(mails) == 1, r.describe()
    r, mails = send(pair.ab, RESEND, {"email": "una@example.com"})
    assert r.status == 429 and mails == [], r.describe()
    r, _ = send(pair.ab, RESEND, {"email": "UNA@example.com"})
    assert r.status == 429, "the address is counted lower-cased: " + r.describe()


def test_signup_rate_per_client(pair):
    """AUTHBRIDGE_SIGNUP_CLIENT_RATE=3/h: the 4th sign-up from one client is refused, whatever
    the address, and writes nothing."""
    statuses = [send(pair.ab, REG, reg(f"newbie{i}", f"newbie{i}@example.com"), expect=int(i < 3))[0]
                for i in range(4)]
    assert [r.status for r in statuses[:3]] == [201] * 3, [r.describe() for r in statuses]
    assert statuses[3].status == 429, statuses[3].describe()
    assert pair.ab.orm("result = User.objects.filter(username='newbie3').exists()") is False


def test_known_and_unknown_addresses_take_the_same_time(pair):
    """No enumeration by timing: the median answer time of a reset for a known address and for an
    unknown one differ by less than 100 ms (the email is written to the outbox, not sent inline)."""
    known, unknown = [], []
    for i in range(3, 6):
        for email, times in ((f"known{i}@example.com", known), (f"nobody{i}@example.com", unknown)):
            started = time.monotonic()
            r = pair.ab.post(RESET, {"email": email})
            times.append(time.monotonic() - started)
            assert r.status == 200, r.describe()
    pair.ab.mailbox.wait_for(3, MAIL_WAIT)
    pair.ab.mailbox.take()
    diff = abs(statistics.median(known) - statistics.median(unknown))
    print(f"reset answer time: known median {statistics.median(known) * 1000:.1f} ms, unknown "
          f"{statistics.median(unknown) * 1000:.1f} ms")
    assert diff < 0.1, (known, unknown)
