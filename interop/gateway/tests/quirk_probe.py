"""Run inside Django (a subprocess of test_asgi_quirk.py): the same request through Django's
WSGI and ASGI handlers (Client, AsyncClient), once with a RemoteUserMiddleware subclass that only
sets `header` and once with gwsite.middleware.XRemoteUserMiddleware. Prints JSON."""
import asyncio
import json
import os
import sys

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # gwsite
django.setup()  # before the import below; again (a no-op) when Django imports this module

from django.contrib.auth.middleware import RemoteUserMiddleware  # noqa: E402


class HeaderOnlyRemoteUserMiddleware(RemoteUserMiddleware):
    """What Django's documentation suggests, and what an ASGI Django 5.2/6.0 gets wrong."""

    header = "HTTP_X_REMOTE_USER"


def main():
    from django.conf import settings
    from django.test import AsyncClient, Client, override_settings

    ours = "gwsite.middleware.XRemoteUserMiddleware"
    result = {}
    for label, cls in (("header_only", "quirk_probe.HeaderOnlyRemoteUserMiddleware"), ("gwsite", ours)):
        middleware = [cls if m == ours else m for m in settings.MIDDLEWARE]
        with override_settings(MIDDLEWARE=middleware):
            for header in ("X-Remote-User", "Http-X-Remote-User"):
                user = f"probe_{label}_{header.lower().replace('-', '_')}"
                wsgi = Client().get("/public/whoami", headers={header: user}).json()["user"]
                asgi = asyncio.run(AsyncClient().get("/public/whoami", headers={header: user})).json()["user"]
                result[f"{label} {header}"] = {"wsgi": wsgi is not None, "asgi": asgi is not None}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
