"""Bearer mode: authbridge sends a short-lived simplejwt access token as `Authorization: Bearer`,
so a Django already on simplejwt changes nothing. This is the stock simplejwt tutorial setup:
no RemoteUserMiddleware, no RemoteUserBackend.
"""
from .settings import *  # noqa: F403

INSTALLED_APPS = INSTALLED_APPS + ["rest_framework"]  # noqa: F405
MIDDLEWARE = [m for m in MIDDLEWARE if m != "gwsite.middleware.XRemoteUserMiddleware"]  # noqa: F405
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
}
SIMPLE_JWT = {"SIGNING_KEY": SECRET_KEY}  # noqa: F405
