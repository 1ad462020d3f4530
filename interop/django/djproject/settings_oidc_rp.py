"""A Django relying party of authbridge's OpenID Connect provider: mozilla-django-oidc, unmodified,
configured with nothing but the provider's endpoints and a client registration (docs/oidc.md shows
these settings). Users are found by the userinfo `email` (mozilla-django-oidc's default) and never
created here: the RP shares the database with authbridge, so they are the same Django users.

Environment (besides settings.py's): OIDC_ISSUER, OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET,
OIDC_USE_PKCE ("1"), OIDC_TOKEN_USE_BASIC_AUTH ("1").
"""
import os

from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "mozilla_django_oidc"]
AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]
ROOT_URLCONF = "djproject.urls_oidc_rp"

ISSUER = os.environ["OIDC_ISSUER"]
OIDC_RP_CLIENT_ID = os.environ["OIDC_RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = os.environ["OIDC_RP_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/oauth2/jwks"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/oauth2/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/oauth2/token"
OIDC_OP_USER_ENDPOINT = f"{ISSUER}/oauth2/userinfo"
OIDC_RP_SCOPES = "openid email"
OIDC_CREATE_USER = False
OIDC_USE_PKCE = os.environ.get("OIDC_USE_PKCE") == "1"
OIDC_TOKEN_USE_BASIC_AUTH = os.environ.get("OIDC_TOKEN_USE_BASIC_AUTH") == "1"
LOGIN_REDIRECT_URL = "/whoami/"
LOGIN_REDIRECT_URL_FAILURE = "/login-failed/"
