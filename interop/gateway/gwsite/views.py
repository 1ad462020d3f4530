"""Views of the Django project behind the gateway. None of them authenticates anybody: the user
is whatever Django's auth machinery made of the request (RemoteUserMiddleware, or simplejwt in
bearer mode)."""
import hashlib

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.decorators import api_view
from rest_framework.response import Response

CHUNK = 64 * 1024
MAX_DOWNLOAD = 4 * 1024**3  # the benchmark streams 1 GB
PATTERN = bytes(range(256)) * (CHUNK // 256)


def _user(user):
    if not user.is_authenticated:
        return {"user": None, "id": None, "email": None, "staff": False}
    return {"user": user.get_username(), "id": user.pk, "email": user.email, "staff": user.is_staff}


def _identity_meta(request):
    """Every request.META key that looks like an identity header (to see what got through)."""
    return {k: v for k, v in request.META.items() if "REMOTE_USER" in k or k == "HTTP_AUTHORIZATION"}


def whoami(request):
    body = _user(request.user)
    body["meta"] = _identity_meta(request)
    body["server"] = "asgi" if isinstance(request, ASGIRequest) else "wsgi"
    body["forwarded"] = {
        k: request.META.get(k)
        for k in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "REMOTE_ADDR")
    }
    return JsonResponse(body)


@api_view(["GET"])
def whoami_drf(request):
    """Bearer mode: DRF's request.user comes from simplejwt's stock JWTAuthentication."""
    return Response(_user(request.user))


def small(request):
    return JsonResponse({"ok": True, "items": [1, 2, 3], "name": "small"})


@csrf_exempt
def upload(request):
    """Counts the body as it reads it, 64 KiB at a time (never request.body)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    h = hashlib.sha256()
    n = 0
    while chunk := request.read(CHUNK):
        n += len(chunk)
        h.update(chunk)
    return JsonResponse({"bytes": n, "sha256": h.hexdigest(), "user": _user(request.user)["user"]})


def _pieces(size):
    full, rest = divmod(size, CHUNK)
    for _ in range(full):
        yield PATTERN
    if rest:
        yield PATTERN[:rest]


async def _apieces(size):
    for piece in _pieces(size):
        yield piece


def download(request):
    """`size` bytes of a repeating 0..255 pattern, streamed 64 KiB at a time (async iterator
    under ASGI: Django buffers a sync iterator there)."""
    try:
        size = int(request.GET.get("size", 10 * 1024 * 1024))
    except ValueError:
        return JsonResponse({"detail": "size"}, status=400)
    if not 0 <= size <= MAX_DOWNLOAD:
        return JsonResponse({"detail": "size"}, status=400)
    content = _apieces(size) if isinstance(request, ASGIRequest) else _pieces(size)
    resp = StreamingHttpResponse(content, content_type="application/octet-stream")
    resp["Content-Length"] = str(size)
    return resp


def page(request):
    """An HTML page (the `/login` redirect policy is for these)."""
    who = request.user.get_username() if request.user.is_authenticated else "anonymous"
    return HttpResponse(f"<!doctype html><title>page</title><p>hello {who}</p>")


def echo_headers(request):
    """Every HTTP_* key, for hop-by-hop and forwarding checks."""
    return JsonResponse({k: v for k, v in request.META.items() if k.startswith("HTTP_")})


