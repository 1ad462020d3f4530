"""Differential cases: the same request to Django's simplejwt views (in-process, on the same
database) and to authbridge, then status, body bytes and the relevant headers compared."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from harness import Resp, raw_segments

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Req:
    method: str
    path: str
    body: bytes = b""
    content_type: str | None = None
    headers: dict = field(default_factory=dict)

    def describe(self) -> str:
        ct = f" Content-Type: {self.content_type}" if self.content_type is not None else ""
        hdrs = f" {self.headers}" if self.headers else ""
        return f"{self.method} {self.path}{ct}{hdrs} body={self.body[:400]!r}"


def post_json(path, obj) -> Req:
    return Req("POST", path, json.dumps(obj).encode(), JSON)


def post_raw(path, body: bytes, content_type) -> Req:
    return Req("POST", path, body, content_type)


def post_form(path, fields: dict) -> Req:
    return Req("POST", path, urlencode(fields).encode(), FORM)


def multipart(path, fields: dict) -> Req:
    boundary = "----authbridgeinterop7MA4YWxkTrZu0gW"
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return Req("POST", path, body, f"multipart/form-data; boundary={boundary}")


@dataclass
class Case:
    id: str
    # Builds the request; called once per side (so state-changing cases get fresh tokens).
    make: Callable[[object], Req]
    # "exact": status, body bytes and headers must match. "shape": status and the JSON keys
    # (in order) must match (bodies holding fresh tokens), authbridge's extra obtain user_id aside.
    compare: str = "exact"
    # What Django itself must answer (from FACTS.md / wire_probe.md): guards the harness.
    expect_status: int | None = None
    expect_body: bytes | Callable[[object], bytes] | None = None


def send_both(ctx, case: Case) -> tuple[Req, Resp, Req, Resp]:
    """ctx has .agent (Django) and .ab (authbridge); case.make(ctx) builds each side's request."""
    dreq = case.make(ctx)
    dj = ctx.agent.request(dreq.method, dreq.path, dreq.body, dreq.content_type, dreq.headers)
    areq = case.make(ctx)
    got = ctx.ab.request(areq.method, areq.path, areq.body, areq.content_type, areq.headers)
    return dreq, dj, areq, got


def compare_jwt_shape(dj_token: str, ab_token: str, name: str, report: str, unique=("jti",)):
    """Two tokens issued for the same input: same header bytes, same claims in the same order,
    same values except the per-issue ones (jti, and exp/iat which may differ by a second)."""
    dh, dp = raw_segments(dj_token)
    ah, ap = raw_segments(ab_token)
    assert ah == dh, f"{name}: JWT header differs: django {dh!r} authbridge {ah!r}" + report
    dc = json.loads(dp, object_pairs_hook=list)
    ac = json.loads(ap, object_pairs_hook=list)
    assert [k for k, _ in ac] == [k for k, _ in dc], (
        f"{name}: claim order differs: django {dp!r} authbridge {ap!r}" + report
    )
    dd, ad = dict(dc), dict(ac)
    for k, v in dd.items():
        if k in unique:
            continue
        if k in ("exp", "iat") and isinstance(v, (int, float)) and isinstance(ad[k], (int, float)):
            assert type(ad[k]) is type(v) and abs(ad[k] - v) <= 2, (
                f"{name}: claim {k} django {v!r} authbridge {ad[k]!r}" + report
            )
            continue
        assert ad[k] == v and type(ad[k]) is type(v), f"{name}: claim {k} django {v!r} authbridge {ad[k]!r}" + report
    if "exp" in dd and "iat" in dd and isinstance(dd["iat"], int):
        assert abs((ad["exp"] - ad["iat"]) - (dd["exp"] - dd["iat"])) <= 1, (
            f"{name}: lifetime differs" + report
        )


def check_case(ctx, case: Case):
    dreq, dj, areq, got = send_both(ctx, case)
    report = (
        f"\n  request    : {areq.describe()}"
        f"\n  django     : {dj.describe()}"
        f"\n  authbridge : {got.describe()}"
    )
    if case.expect_status is not None:
        assert dj.status == case.expect_status, "harness: Django did not answer as documented" + report
    expect_body = case.expect_body(ctx) if callable(case.expect_body) else case.expect_body
    if expect_body is not None:
        assert dj.body == expect_body, "harness: Django did not answer as documented" + report

    if case.compare == "exact":
        assert got.status == dj.status, "status differs" + report
        assert got.body == dj.body, "body differs" + report
        assert got.compared_headers() == dj.compared_headers(), "headers differ" + report
    elif case.compare == "shape":
        assert got.status == dj.status, "status differs" + report
        dh = {k: v for k, v in dj.compared_headers().items() if k != "content-length"}
        ah = {k: v for k, v in got.compared_headers().items() if k != "content-length"}
        assert ah == dh, "headers differ" + report
        dkeys = list(json.loads(dj.body)) if dj.body else []
        akeys = list(json.loads(got.body)) if got.body else []
        if areq.path == "/api/token/" and dj.status == 200:
            # Documented difference: authbridge's obtain response adds user_id (after access).
            assert akeys == dkeys + ["user_id"], "JSON keys differ" + report
        else:
            assert akeys == dkeys, "JSON keys differ" + report
        if dj.status == 200:
            for key in dkeys:
                compare_jwt_shape(json.loads(dj.body)[key], json.loads(got.body)[key], key, report,
                                  unique=getattr(ctx, "unique_claims", ("jti",)))
    else:
        raise ValueError(case.compare)
    return dj, got


__all__ = [
    "Case",
    "Req",
    "check_case",
    "post_json",
    "post_raw",
    "post_form",
    "multipart",
    "JSON",
    "FORM",
]
