"""A project's settings plus drf-spectacular: `manage.py spectacular` then describes simplejwt's
views and the `/api/me/` view as OpenAPI 3.1, the shapes authbridge's `/api/schema/` must have.

Environment (tests/test_openapi_schema.py varies them):
  SCHEMA_BASE_SETTINGS  the settings module extended (default djproject.settings)
  SCHEMA_SIMPLE_JWT     JSON object merged into SIMPLE_JWT (ROTATE_REFRESH_TOKENS, AUTH_HEADER_*)
"""
import importlib
import json
import os

_base = importlib.import_module(os.environ.get("SCHEMA_BASE_SETTINGS", "djproject.settings"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "drf_spectacular"]
REST_FRAMEWORK = {**_base.REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SIMPLE_JWT = {**_base.SIMPLE_JWT, **json.loads(os.environ.get("SCHEMA_SIMPLE_JWT", "{}"))}
SPECTACULAR_SETTINGS = {"OAS_VERSION": "3.1.0"}
