"""The one piece of Python a Django project behind the authbridge gateway needs.

Django's RemoteUserMiddleware reads `request.META[header]`, a WSGI environ key. authbridge sends
the user as the HTTP header `X-Remote-User`, which Django files under `HTTP_X_REMOTE_USER`.

Under ASGI, Django 5.2 and 6.0 read `request.META["HTTP_" + header]` instead (the async path adds
the prefix a second time), so with `header = "HTTP_X_REMOTE_USER"` an ASGI Django looks for
`HTTP_HTTP_X_REMOTE_USER`: the gateway's header is ignored, and a client that reaches Django
directly with `Http-X-Remote-User: admin` is logged in as admin. `aprocess_request` below runs the
synchronous code path, which reads the right key, on every Django version (6.1 fixes the async
path; this override stays correct there).
"""
from asgiref.sync import sync_to_async
from django.contrib.auth.middleware import RemoteUserMiddleware


class XRemoteUserMiddleware(RemoteUserMiddleware):
    header = "HTTP_X_REMOTE_USER"

    async def aprocess_request(self, request):
        await sync_to_async(self.process_request, thread_sensitive=True)(request)
