"""docs/accounts.md's Django side when authbridge serves the account API: settings.py plus only
what makes allauth's email addresses show in the admin (no URLs, no adapter, no Python)."""
from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.sites", "allauth", "allauth.account"]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
SITE_ID = 1
ROOT_URLCONF = "djproject.urls_accounts_admin"  # the test project's admin (any project has its own)
