"""Bench data, made by Django itself (run from interop/django with the bench's environment).

    python django_prepare.py setup OUTDIR POOL_NAME=COUNT ...
        Creates the bench user with Django's create_user (so the password hash is Django's
        PBKDF2, 1,000,000 iterations), writes OUTDIR/user.json, OUTDIR/access.txt (an access
        token from simplejwt's AccessToken.for_user, its lifetime stretched to 2 hours with
        simplejwt's own set_exp so that long runs never see it expire) and, for every POOL_NAME,
        OUTDIR/pool-POOL_NAME.txt with COUNT refresh tokens.

        A refresh token is exactly what RefreshToken.for_user(user) makes (simplejwt's
        RefreshToken() plus the user_id claim, signed with SIGNING_KEY) and its
        token_blacklist_outstandingtoken row is the one for_user would insert; the rows are
        bulk-inserted, 5,000 at a time, instead of one INSERT per token, to keep minting fast.

    python django_prepare.py journal
        Prints the journal mode Django's connection sees (sqlite) or the server version.
"""
import json
import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djproject.settings")
django.setup()

from datetime import timedelta  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework_simplejwt.settings import api_settings  # noqa: E402
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken  # noqa: E402
from rest_framework_simplejwt.utils import datetime_from_epoch  # noqa: E402


def journal():
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("PRAGMA journal_mode")
            mode = c.fetchone()[0]
            c.execute("PRAGMA synchronous")
            sync = c.fetchone()[0]
        print(f"sqlite journal_mode={mode} synchronous={sync} (as Django's connection sees it)")
    else:
        with connection.cursor() as c:
            c.execute("SHOW server_version")
            print(f"postgresql {c.fetchone()[0]}")


def mint_pool(user, count, path):
    """count refresh tokens as RefreshToken.for_user(user) makes them, rows bulk-inserted."""
    claim = api_settings.USER_ID_CLAIM
    uid = str(getattr(user, api_settings.USER_ID_FIELD))
    batch, done = [], 0
    with open(path, "w") as f, transaction.atomic():
        for _ in range(count):
            token = RefreshToken()  # jti, iat, exp, token_type, as simplejwt sets them
            token[claim] = uid
            raw = str(token)
            f.write(raw + "\n")
            batch.append(
                OutstandingToken(
                    user=user,
                    jti=token[api_settings.JTI_CLAIM],
                    token=raw,
                    created_at=token.current_time,
                    expires_at=datetime_from_epoch(token["exp"]),
                )
            )
            if len(batch) >= 5000:
                OutstandingToken.objects.bulk_create(batch)
                done += len(batch)
                batch = []
        if batch:
            OutstandingToken.objects.bulk_create(batch)


def setup(outdir, pools):
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    User = get_user_model()
    username = os.environ.get("BENCH_USERNAME", "bench")
    password = os.environ["BENCH_PASSWORD"]
    t0 = time.monotonic()
    user = User.objects.create_user(username, email=f"{username}@example.com", password=password)
    (out / "user.json").write_text(
        json.dumps({"id": user.pk, "username": username, "password_algorithm": user.password.split("$")[0],
                    "password_iterations": user.password.split("$")[1]})
    )
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=timedelta(hours=2))
    (out / "access.txt").write_text(str(access) + "\n")
    t1 = time.monotonic()
    total = 0
    for spec in pools:
        name, _, count = spec.partition("=")
        mint_pool(user, int(count), out / f"pool-{name}.txt")
        total += int(count)
    t2 = time.monotonic()
    print(
        f"django_prepare: user {username!r} id={user.pk} ({user.password.split('$')[0]}, "
        f"{t1 - t0:.1f}s); {total} refresh tokens minted in {t2 - t1:.1f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "setup":
        setup(sys.argv[2], sys.argv[3:])
    elif cmd == "journal":
        journal()
    else:
        sys.exit(__doc__)
