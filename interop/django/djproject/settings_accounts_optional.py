"""The anchor's second server ("O" in the wire probe): optional verification, allauth's backend
links (no templates), no confirmation cooldown."""
from .settings_accounts import *  # noqa: F401,F403

ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_CONFIRMATION_URL = ""
PASSWORD_RESET_CONFIRM_URL = ""
ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = 0
