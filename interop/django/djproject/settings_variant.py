"""The same project with most SIMPLE_JWT settings moved off their defaults (authbridge gets the
same values as SIMPLE_JWT_* environment variables): no rotation, HS512, audience and issuer,
renamed claims, leeway, CHECK_REVOKE_TOKEN and UPDATE_LAST_LOGIN."""
from datetime import timedelta

from .settings import *  # noqa: F401,F403
from .settings import SIMPLE_JWT

SIMPLE_JWT = {
    **SIMPLE_JWT,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=2),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=3),
    "ROTATE_REFRESH_TOKENS": False,
    "BLACKLIST_AFTER_ROTATION": False,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS512",
    "AUDIENCE": "authbridge-interop",
    "ISSUER": "https://issuer.example",
    "USER_ID_CLAIM": "uid",
    "TOKEN_TYPE_CLAIM": "kind",
    "JTI_CLAIM": "token_id",
    "LEEWAY": 30,
    "CHECK_REVOKE_TOKEN": True,
}
