"""ASGI entry: Django for HTTP, and a raw-ASGI WebSocket echo (Django has no WebSocket support
of its own; Channels would take this place in a real project)."""
import json
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gwsite.settings")
django_app = get_asgi_application()

MAX_MESSAGES = 1000


async def websocket_echo(scope, receive, send):
    """Accept, send what identity headers the upgrade request carried, then echo each message."""
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    hello = {"path": scope["path"], "x-remote-user": headers.get("x-remote-user")}
    await send({"type": "websocket.send", "text": json.dumps(hello)})
    for _ in range(MAX_MESSAGES):
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") is not None:
            await send({"type": "websocket.send", "text": event["text"]})
        else:
            await send({"type": "websocket.send", "bytes": event.get("bytes") or b""})
    await send({"type": "websocket.close", "code": 1000})


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        await websocket_echo(scope, receive, send)
    else:
        await django_app(scope, receive, send)
