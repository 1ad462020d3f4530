"""The same project with a custom user model (email as the login field).

`accounts` stands for a user's own app holding `AUTH_USER_MODEL`; authbridge is pointed at
it with AUTH_USER_TABLE=accounts_user USERNAME_FIELD=email.
"""
from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "accounts"]
AUTH_USER_MODEL = "accounts.User"
