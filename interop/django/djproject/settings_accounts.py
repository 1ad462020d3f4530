"""The account flows' anchor: dj-rest-auth 7.2.0's registration API on django-allauth 65.21.1, in
simplejwt's JWT mode (shared/reference ACCOUNTS.md, server "M" of its wire probe). authbridge serves
the same API from settings alone; the Python here (accounts_adapter.py: links built from two URL
templates) is what a Django project adds so its emails point at the frontend's pages.

Environment (besides settings.py's DATABASE_URL and DJANGO_SECRET_KEY):
  EMAIL_HOST, EMAIL_PORT          the SMTP server the test starts (aiosmtpd on 127.0.0.1)
  EMAIL_HOST_USER, EMAIL_HOST_PASSWORD  its login, when it asks for one
  ACCOUNT_EMAIL_VERIFICATION      "mandatory" (default) or "optional"
  ACCOUNT_EMAIL_CONFIRMATION_URL  link template with {key}; "" = allauth's backend link
  PASSWORD_RESET_CONFIRM_URL      link template with {uid} and {token}; "" = dj-rest-auth's link
  ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN  seconds (allauth's default 180)
  ACCOUNTS_TEMPLATES_DIR          a template directory searched first (allauth's email overrides)
"""
import os

from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS, MIDDLEWARE, TEMPLATES

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django.contrib.sites",
    "rest_framework.authtoken",
    "dj_rest_auth",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "dj_rest_auth.registration",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
ROOT_URLCONF = "djproject.urls_accounts"
SITE_ID = 1

# Django's model backend first (exact username), then allauth's (username iexact, or email).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Django's four default validators (startproject's list).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_AUTH = {
    "USE_JWT": True,
    "JWT_AUTH_HTTPONLY": False,
    "PASSWORD_RESET_SERIALIZER": "djproject.accounts_adapter.LinkTemplatePasswordResetSerializer",
}

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_ADAPTER = "djproject.accounts_adapter.LinkTemplateAdapter"
if os.environ.get("ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN"):
    ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = int(os.environ["ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN"])

# Not allauth or dj-rest-auth settings: the templates accounts_adapter.py formats (and the names
# authbridge reads).
ACCOUNT_EMAIL_CONFIRMATION_URL = os.environ.get(
    "ACCOUNT_EMAIL_CONFIRMATION_URL", "http://localhost:3000/verify-email/{key}"
)
PASSWORD_RESET_CONFIRM_URL = os.environ.get(
    "PASSWORD_RESET_CONFIRM_URL", "http://localhost:3000/password-reset/confirm/{uid}/{token}"
)

if os.environ.get("ACCOUNTS_TEMPLATES_DIR"):
    TEMPLATES = [{**TEMPLATES[0], "DIRS": [os.environ["ACCOUNTS_TEMPLATES_DIR"]]}]

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = "noreply@example.com"
