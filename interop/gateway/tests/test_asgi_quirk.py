"""The ASGI quirk of RemoteUserMiddleware in Django 5.2 (FACTS.md section 5), shown on the
installed Django, and that gwsite.middleware.XRemoteUserMiddleware (the subclass docs/gateway.md
gives) is right under both handlers. No authbridge involved: Django's own test clients."""
from __future__ import annotations

import json
import subprocess

from gw import GATEWAY_DIR, PYTHON, django_env, make_database, manage, rmtree, tmp_workdir


def test_header_only_subclass_is_wrong_under_asgi_and_ours_is_right():
    workdir = tmp_workdir("authbridge-gateway-quirk-")
    try:
        db = make_database("sqlite", workdir, "quirk")
        manage("gwsite.settings", db, "migrate", "--noinput", "-v0")
        proc = subprocess.run([PYTHON, str(GATEWAY_DIR / "tests" / "quirk_probe.py")], cwd=GATEWAY_DIR,
                              env=django_env("gwsite.settings", db), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        rmtree(workdir)
    assert seen == {
        # Django 5.2: under ASGI the header-only subclass reads HTTP_HTTP_X_REMOTE_USER.
        "header_only X-Remote-User": {"wsgi": True, "asgi": False},
        "header_only Http-X-Remote-User": {"wsgi": False, "asgi": True},
        # The subclass of docs/gateway.md: the same key under both.
        "gwsite X-Remote-User": {"wsgi": True, "asgi": True},
        "gwsite Http-X-Remote-User": {"wsgi": False, "asgi": False},
    }, seen
