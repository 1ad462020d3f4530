"""dj-rest-auth's URLs where authbridge serves them, plus the reset-confirm URL name dj-rest-auth's
default reset link reverses (without it a reset answers 500), the admin (the rows show there) and
the token API of urls.py."""
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from .urls import urlpatterns as token_urls

urlpatterns = [
    *token_urls,
    path("admin/", admin.site.urls),
    path("api/auth/", include("dj_rest_auth.urls")),
    path("api/auth/registration/", include("dj_rest_auth.registration.urls")),
    path(
        "password-reset/confirm/<uidb64>/<token>/",
        TemplateView.as_view(),
        name="password_reset_confirm",
    ),
]
