"""The account flows' differential: a step is one request sent to Django (dj-rest-auth + allauth)
and to authbridge, each on its own database with its own mail server; the answers (status, body,
key order, the headers that matter) and the emails (envelope, From/To, subject, type, body with
keys and tokens normalised) are compared, and authbridge's keys and tokens are checked by allauth
itself on authbridge's database.

Where Django's answer is known (shared/reference accounts_wire_probe), the step says so, and a
Django answer that differs stops the test: that is the harness, not authbridge."""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

from accounts_support import (
    CHECK_KEY_CODE,
    CHECK_RESET_CODE,
    FORM,
    JSON,
    Mail,
    Side,
    mail_keys,
    mail_reset,
    mail_view,
)
from harness import Resp, raw_segments

# How long authbridge may take to deliver an email Django delivered before answering, and how
# long an email-capable step waits for one Django did not send.
MAIL_WAIT = float(os.environ.get("ACCOUNTS_MAIL_WAIT", "10"))
MAIL_SETTLE = float(os.environ.get("ACCOUNTS_MAIL_SETTLE", "0.15"))

# Paths that may send email: after these, authbridge gets MAIL_SETTLE to send one Django did not.
MAILING = ("/api/auth/registration/", "/api/auth/password/reset/", "/api/auth/login/")

# What the differential did, for the run's summary (conftest.py prints it).
STATS = {"requests": 0, "probe_requests": 0, "emails": 0, "links_checked": 0, "row_snapshots": 0}

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@dataclass
class Step:
    name: str
    method: str
    path: str
    body: object = None  # dict/list/str/None as JSON, bytes as given, or callable(side) -> either
    content_type: str | None = JSON
    auth: Callable[[Side], str] | None = None  # the side's Bearer token
    status: int | None = None  # Django's answer in the wire probe
    expect: str | None = None  # Django's exact body in the wire probe
    emails: int | None = None  # Django's email count in the wire probe
    compare: str = "exact"  # "exact" | "jwt" (fresh tokens: key order, claims, user) | "status"
    after: Callable[[Side, Resp, list], None] | None = None
    note: str = ""


def post(name, path, body=None, **kw) -> Step:
    return Step(name, "POST", path, body, **kw)


def form(name, path, fields: dict, **kw) -> Step:
    return Step(name, "POST", path, urlencode(fields).encode(), content_type=FORM, **kw)


def get(name, path, **kw) -> Step:
    return Step(name, "GET", path, None, content_type=None, **kw)


def _build(step: Step, side: Side):
    body = step.body(side) if callable(step.body) else step.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    headers = {}
    if step.auth is not None:
        headers["Authorization"] = f"Bearer {step.auth(side)}"
    ctype = step.content_type if data or step.method not in ("GET", "DELETE") else None
    return data, ctype, headers


MATTER = ("content-type", "allow", "www-authenticate", "location", "x-frame-options", "x-content-type-options",
          "referrer-policy", "cross-origin-opener-policy")


def headers_view(r: Resp) -> dict:
    """The headers compared: content type, Allow, WWW-Authenticate, Location, Django's security
    middleware's four, and Vary without
    Cookie (Django's session middleware adds it; authbridge keeps no session)."""
    h = {k: r.headers[k] for k in MATTER if k in r.headers}
    vary = [v.strip() for v in r.headers.get("vary", "").split(",") if v.strip() and v.strip().lower() != "cookie"]
    if vary:
        h["vary"] = ", ".join(vary)
    return h


# Differences reported to the owning branch and not fixed yet: "[step] what" prefixes, each with
# its reason. They are printed, not failed on; one that no longer happens fails (strict), so the
# entry goes once the server is fixed.
KNOWN = {
    "[register_email_too_long] emails differ": "the address cut to 254 characters keeps a local part "
    "of 250 (over RFC 5321's 64): lettre refuses it, so authbridge sends no email; Django's smtplib "
    "sends it. The answer, the user and the address row match",
}


class Differences(list):
    """Every difference found, each with the request and both answers (the report to the lead)."""

    def add(self, step: Step, what: str, dj, ab, req: str = ""):
        self.append(f"[{step.name}] {what}\n    request   : {req}\n    django    : {dj}\n    authbridge: {ab}")

    def check(self, expected_known=()):
        """Fail on any difference but the KNOWN ones named in `expected_known`, and on a KNOWN one
        that did not happen."""
        known = [d for d in self if any(d.startswith(k) for k in expected_known)]
        for d in known:
            print("KNOWN DIFFERENCE (" + next(KNOWN[k] for k in expected_known if d.startswith(k)) + "):\n" + d)
        rest = [d for d in self if d not in known]
        assert not rest, f"{len(rest)} difference(s) from the anchor:\n" + "\n".join(rest)
        gone = [k for k in expected_known if not any(d.startswith(k) for d in known)]
        assert not gone, f"known differences that no longer happen (remove them from KNOWN): {gone}"


def jwt_problems(name: str, dj_token: str, ab_token: str) -> list[str]:
    """Same header bytes, same claims in the same order and with the same values, apart from jti
    and the issue time (the two requests run one after the other: iat within a minute, and the
    same lifetime exp - iat)."""
    try:
        dh, dp = raw_segments(dj_token)
        ah, ap = raw_segments(ab_token)
        dc = json.loads(dp, object_pairs_hook=list)
        ac = json.loads(ap, object_pairs_hook=list)
    except Exception as e:  # noqa: BLE001
        return [f"{name}: not a JWT ({e})"]
    if ah != dh:
        return [f"{name}: JWT header differs: {dh!r} / {ah!r}"]
    if [k for k, _ in ac] != [k for k, _ in dc]:
        return [f"{name}: claim order differs: {dp!r} / {ap!r}"]
    d, a = dict(dc), dict(ac)
    out = []
    for k in d:
        if k in ("jti", "exp", "iat"):
            if type(a[k]) is not type(d[k]):
                out.append(f"{name}: claim {k} type differs: {d[k]!r} / {a[k]!r}")
        elif a[k] != d[k] or type(a[k]) is not type(d[k]):
            out.append(f"{name}: claim {k} differs: {d[k]!r} / {a[k]!r}")
    if isinstance(d.get("iat"), int) and isinstance(a.get("iat"), int):
        if abs(a["iat"] - d["iat"]) > 60:
            out.append(f"{name}: iat {d['iat']} / {a['iat']}")
        if abs((a["exp"] - a["iat"]) - (d["exp"] - d["iat"])) > 1:
            out.append(f"{name}: lifetime differs: {d['exp'] - d['iat']} / {a['exp'] - a['iat']}")
    return out


def _body_problems(step: Step, dj: Resp, ab: Resp) -> list[str]:
    if step.compare == "status":
        return []
    if step.compare == "exact" or dj.status >= 400:
        return [] if dj.body == ab.body else ["body differs"]
    out = []
    try:
        dj_obj = json.loads(dj.body, object_pairs_hook=list)
        ab_obj = json.loads(ab.body, object_pairs_hook=list)
    except ValueError:
        return ["body is not JSON"]
    if [k for k, _ in ab_obj] != [k for k, _ in dj_obj]:
        return ["JSON keys differ (order included)"]
    d, a = dict(dj_obj), dict(ab_obj)
    for k in d:
        if k in ("access", "refresh"):
            if not d[k]:
                if a[k] != d[k]:
                    out.append(f"{k} differs")
                continue
            out.extend(jwt_problems(k, d[k], a[k]))
        elif k in ("access_expiration", "refresh_expiration"):
            if not (isinstance(a[k], str) and ISO_Z.match(a[k])):
                out.append(f"{k} is not ISO 8601 with microseconds and Z: {a[k]!r}")
            else:
                from datetime import datetime

                fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
                if abs((datetime.strptime(a[k], fmt) - datetime.strptime(d[k], fmt)).total_seconds()) > 60:
                    out.append(f"{k} differs by more than a minute")
        elif json.dumps(a[k]) != json.dumps(d[k]):  # the user object: values and key order
            out.append(f"{k} differs")
    return out


def run_step(dj: Side, ab: Side, step: Step, diffs: Differences) -> tuple[Resp, Resp, list, list]:
    late = ab.mailbox.take()  # sent after the previous step's wait: counted against it below
    if late:
        diffs.add(step, f"{len(late)} email(s) from authbridge arrived late or unasked, before this step",
                  "", json.dumps([mail_view(m) for m in late], indent=1))
    dj.mailbox.take()
    dj_req = _build(step, dj)
    d = dj.request(step.method, step.path, *dj_req)
    ab_req = _build(step, ab)
    a = ab.request(step.method, step.path, *ab_req)
    d_mails = dj.mailbox.take()  # Django's SMTP backend delivers before the view answers
    STATS["requests"] += 1
    STATS["probe_requests"] += step.status is not None and step.expect is not None

    # The harness: Django answers as the wire probe recorded.
    where = f"{step.name}: Django did not answer as the anchor did (harness): {d.describe()}"
    if step.status is not None:
        assert d.status == step.status, where
    if step.expect is not None:
        assert d.body.decode() == step.expect, where
    if step.emails is not None:
        assert len(d_mails) == step.emails, where + f" emails={[m.body for m in d_mails]}"

    ab.mailbox.wait_for(len(d_mails), MAIL_WAIT)
    if step.path.startswith(MAILING) and step.method == "POST":
        time.sleep(MAIL_SETTLE)
    a_mails = ab.mailbox.take()

    req = f"{step.method} {step.path} {ab_req[0][:300]!r}" + (f" ({step.note})" if step.note else "")
    if a.status != d.status:
        diffs.add(step, "status differs", d.describe(), a.describe(), req)
    else:
        for p in _body_problems(step, d, a):
            diffs.add(step, p, d.describe(), a.describe(), req)
        if headers_view(a) != headers_view(d):
            diffs.add(step, "headers differ", headers_view(d), headers_view(a), req)
    if a.set_cookies and ab.ab is not None:
        diffs.add(step, "authbridge set cookies (no session in body mode)", d.set_cookies, a.set_cookies, req)
    compare_mails(step, dj, ab, d_mails, a_mails, diffs, req)

    if step.after is not None:
        step.after(dj, d, d_mails)
        step.after(ab, a, a_mails)
    return d, a, d_mails, a_mails


def _sort_key(v: dict):
    return (v["To"] or "", v["body"])


def compare_mails(step, dj: Side, ab: Side, d_mails: list[Mail], a_mails: list[Mail], diffs, req):
    dv = sorted(map(mail_view, d_mails), key=_sort_key)
    av = sorted(map(mail_view, a_mails), key=_sort_key)
    if dv != av:
        diffs.add(step, f"emails differ ({len(d_mails)} from Django, {len(a_mails)} from authbridge)",
                  json.dumps(dv, indent=1), json.dumps(av, indent=1), req)
        return
    STATS["emails"] += len(d_mails)
    # Same text: now what the links hold must pass allauth's own checks, each on its database.
    for side, mails in ((dj, d_mails), (ab, a_mails)):
        for m in mails:
            for key in mail_keys(m):
                STATS["links_checked"] += 1
                got = side.orm(CHECK_KEY_CODE, key=key)
                if got is None:
                    msg = f"allauth refuses {side.name}'s confirmation key {key}"
                    if side.name == "django":
                        raise AssertionError(msg)
                    diffs.add(step, msg, "", m.body, req)
            for uid, token in mail_reset(m):
                STATS["links_checked"] += 1
                if not side.orm(CHECK_RESET_CODE, uid=uid, token=token):
                    msg = f"allauth refuses {side.name}'s reset token {uid}/{token}"
                    if side.name == "django":
                        raise AssertionError(msg)
                    diffs.add(step, msg, "", m.body, req)


def run_steps(dj: Side, ab: Side, steps: list[Step]) -> Differences:
    diffs = Differences()
    for step in steps:
        run_step(dj, ab, step, diffs)
    return diffs


def compare_rows(dj: Side, ab: Side, label: str, diffs: Differences, skip=()):
    from accounts_support import rows

    d, a = rows(dj), rows(ab)
    STATS["row_snapshots"] += 1
    for k in d:
        if k in skip:
            continue
        if d[k] != a[k]:
            step = Step(f"rows {label}", "-", "-")
            diffs.add(step, f"{k} differs", json.dumps(d[k]), json.dumps(a[k]))
