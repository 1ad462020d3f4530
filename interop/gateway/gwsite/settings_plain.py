"""The benchmark's Django: the gateway settings without RemoteUserMiddleware, so Django does the
same work whether it is reached directly or through authbridge (the identity headers are there
but nothing reads them). What the benchmark measures is then authbridge's cost alone.
"""
from .settings import *  # noqa: F403

MIDDLEWARE = [m for m in MIDDLEWARE if m != "gwsite.middleware.XRemoteUserMiddleware"]  # noqa: F405
