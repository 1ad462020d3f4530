"""The interop project with drf-spectacular: `manage.py spectacular` describes simplejwt's views
(and the `/api/me/` view) as OpenAPI 3.1, the shapes authbridge's `/api/schema/` must match."""
from .settings import *  # noqa: F401,F403
from .settings import INSTALLED_APPS, REST_FRAMEWORK

INSTALLED_APPS = [*INSTALLED_APPS, "drf_spectacular"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"OAS_VERSION": "3.1.0"}
