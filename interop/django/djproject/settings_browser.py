"""The project as a single-page app's backend: django-cors-headers in front and dj-rest-auth's JWT
cookie mode (the anchor of authbridge's browser mode, docs/browser.md). authbridge gets the same
values as environment variables (tests/test_browser_mode.py)."""
from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS, MIDDLEWARE

APP_ORIGIN = "http://app.example.test"

INSTALLED_APPS = [*INSTALLED_APPS, "corsheaders", "rest_framework.authtoken", "dj_rest_auth"]
# django-cors-headers' documented place: as high as possible, before CommonMiddleware.
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "djproject.urls_browser"

CORS_ALLOWED_ORIGINS = [APP_ORIGIN]
CORS_ALLOW_CREDENTIALS = True

REST_AUTH = {
    "USE_JWT": True,
    "SESSION_LOGIN": False,
    "JWT_AUTH_REFRESH_COOKIE": "refresh",
    # authbridge's default path (dj-rest-auth's is "/"): set explicitly so the two agree.
    "JWT_AUTH_REFRESH_COOKIE_PATH": "/api/token/",
    "JWT_AUTH_HTTPONLY": True,
    "JWT_AUTH_SAMESITE": "Lax",
    "JWT_AUTH_SECURE": False,
}
