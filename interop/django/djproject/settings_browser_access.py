"""settings_browser.py with the access token in a cookie too (dj-rest-auth's JWT_AUTH_COOKIE)."""
from .settings_browser import *  # noqa: F401,F403
from .settings_browser import REST_AUTH

REST_AUTH = {**REST_AUTH, "JWT_AUTH_COOKIE": "access"}
