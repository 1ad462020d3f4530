from django.http import JsonResponse
from django.urls import include, path

from .urls import urlpatterns as api_urlpatterns


def whoami(request):
    """Who the Django session (made by mozilla-django-oidc) belongs to."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"detail": "anonymous"}, status=401)
    return JsonResponse({"id": user.pk, "username": user.get_username(), "email": user.email})


def login_failed(request):
    return JsonResponse({"detail": "login failed"}, status=403)


urlpatterns = [
    *api_urlpatterns,
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("whoami/", whoami),
    path("login-failed/", login_failed),
]
