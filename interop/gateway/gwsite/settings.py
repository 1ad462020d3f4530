"""A Django project behind the authbridge gateway: it has no authentication code of its own.

The part a user copies is marked "gateway" below: sessions + auth middleware, the
RemoteUserMiddleware subclass (gwsite/middleware.py) after AuthenticationMiddleware, and
RemoteUserBackend. The rest is what any Django project has.

Environment:
  DATABASE_URL       the database authbridge serves (dj-database-url forms, sqlite and postgres)
  DJANGO_SECRET_KEY  SECRET_KEY
"""
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR.parent / "django"))
from djproject.settings import database_from_url  # noqa: E402  (interop/django's URL parser)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "gateway-insecure-dev-key-change-me-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gwsite.middleware.XRemoteUserMiddleware",  # gateway: after AuthenticationMiddleware
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.RemoteUserBackend",  # gateway
]

ROOT_URLCONF = "gwsite.urls"
WSGI_APPLICATION = None
DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
