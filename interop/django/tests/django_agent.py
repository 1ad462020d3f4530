"""A long-lived Django process the tests drive over stdin/stdout (one JSON object per line).

Run as `python tests/django_agent.py` from interop/django with DJANGO_SETTINGS_MODULE,
DATABASE_URL and DJANGO_SECRET_KEY set. It keeps one configured Django (settings can only be
set up once per process, and each test module wants its own database and settings), and
answers:

  {"op": "exec", "code": "...", "args": {...}}
      exec()s the code with `args`, the Django models and helpers in scope; replies with the
      value the code assigned to `result` (JSON; datetimes as ISO strings).
  {"op": "request", "method": "POST", "path": "/api/token/", "body_b64": "...",
   "content_type": "application/json" | null, "headers": {...}}
      runs the request through Django's full stack in-process (django.test.Client, with
      middleware, DRF and simplejwt's stock views) and replies with status, headers and body.

Replies: {"ok": true, "result": ...} or {"ok": false, "error": "<traceback>"}.
"""
import base64
import datetime as dt
import json
import os
import sys
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Replies go to the real stdout; anything Django or the code prints goes to stderr.
_reply = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
sys.stdout = sys.stderr

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.token_blacklist.models import (  # noqa: E402
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken  # noqa: E402

User = get_user_model()


def _default(o):
    if isinstance(o, (dt.datetime, dt.date, dt.time)):
        return o.isoformat()
    if isinstance(o, uuid.UUID):
        return str(o)
    if isinstance(o, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(o)).decode()
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def sql(query, params=()):
    """Raw SQL on Django's connection; returns rows as lists."""
    with connection.cursor() as cur:
        cur.execute(query, params)
        if cur.description is None:
            return None
        return [list(r) for r in cur.fetchall()]


def request(method, path, body_b64="", content_type=None, headers=None):
    client = Client(raise_request_exception=False)
    body = base64.b64decode(body_b64) if body_b64 else b""
    extra = {}
    kwargs = {}
    if content_type is not None:
        kwargs["content_type"] = content_type
        if not body:
            extra["CONTENT_TYPE"] = content_type
    elif body:
        # No Content-Type header at all (what a client sending raw bytes does).
        kwargs["content_type"] = ""
    resp = client.generic(method, path, data=body, headers=headers or {}, **kwargs, **extra)
    return {
        "status": resp.status_code,
        "headers": {k.lower(): v for k, v in resp.headers.items()},
        # Cookies are not in resp.headers: each is one Set-Cookie line as Django's handler writes it.
        "set_cookies": [m.OutputString() for m in resp.cookies.values()],
        "body_b64": base64.b64encode(resp.content).decode(),
    }


SCOPE = {
    "settings": settings,
    "User": User,
    "hashers": hashers,
    "call_command": call_command,
    "connection": connection,
    "timezone": timezone,
    "OutstandingToken": OutstandingToken,
    "BlacklistedToken": BlacklistedToken,
    "RefreshToken": RefreshToken,
    "AccessToken": AccessToken,
    "UntypedToken": UntypedToken,
    "sql": sql,
    "dt": dt,
    "json": json,
}


def handle(msg):
    op = msg["op"]
    if op == "exec":
        ns = dict(SCOPE)
        ns["args"] = msg.get("args") or {}
        exec(compile(msg["code"], "<agent-exec>", "exec"), ns)
        return ns.get("result")
    if op == "request":
        return request(
            msg["method"],
            msg["path"],
            msg.get("body_b64", ""),
            msg.get("content_type"),
            msg.get("headers"),
        )
    if op == "ping":
        return "pong"
    raise ValueError(f"unknown op {op!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, "result": handle(json.loads(line))}
            text = json.dumps(reply, default=_default)
        except Exception:  # noqa: BLE001 - reported to the test
            text = json.dumps({"ok": False, "error": traceback.format_exc()})
        finally:
            connection.close_if_unusable_or_obsolete()
        _reply.write(text + "\n")
        _reply.flush()


if __name__ == "__main__":
    main()
