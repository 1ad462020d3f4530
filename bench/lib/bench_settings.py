"""interop/django's settings with persistent database connections (bench/run --django-conn-max-age N).

The default benchmark uses djproject.settings untouched (CONN_MAX_AGE = 0: a new database
connection per request). This module only changes CONN_MAX_AGE, for a tuned-Django data point.
"""
import os

from djproject.settings import *  # noqa: F401,F403
from djproject.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
