"""The same views under several prefixes, one per gateway policy the tests configure:
public/ (pass through), private/ (authenticated, API: 401 JSON), staff/ (staff only),
pages/ (authenticated, HTML: redirect to /login). app/ is what the benchmark loads."""
from django.urls import path

from . import views

urlpatterns = [
    path("app/small", views.small),
    path("app/headers", views.echo_headers),
    path("app/upload", views.upload),
    path("app/download", views.download),
]
for prefix in ("public", "private", "staff", "pages"):
    urlpatterns += [
        path(f"{prefix}/whoami", views.whoami),
        path(f"{prefix}/upload", views.upload),
        path(f"{prefix}/download", views.download),
        path(f"{prefix}/page", views.page),
        path(f"{prefix}/drf-whoami", views.whoami_drf),
    ]
