"""authbridge first, Django later: `authbridge migrate` on an empty database creates Django's
tables exactly as Django 5.2's own `migrate` leaves them, so that a Django project added later
migrates cleanly on top and both keep working on the shared tables."""
import json

import pytest

from checks import assert_django_accepts, assert_migrate_leaves_django_schema, assert_obtain_body, assert_rotation
from harness import DjangoAgent, make_database, manage, schema_snapshot

MIGRATE_WITH = "authbridge"
USERS = [{"key": "alice", "login": "alice", "password": "alice-password"}]


@pytest.fixture(scope="module")
def reference(stack):
    """The schema a plain `manage.py migrate` produces on an empty database of the same kind."""
    db = make_database(stack.backend, stack.workdir, "reference")
    agent = None
    try:
        manage(stack.settings_module, db, "migrate", "--noinput")
        agent = DjangoAgent(stack.settings_module, db, stack.workdir / "reference-agent.log")
        return schema_snapshot(agent)
    finally:
        if agent is not None:
            agent.close()
        db.drop()


def restrict(snap: dict, vendor: str, tables: set) -> dict:
    """The parts of a schema snapshot that belong to the given tables."""
    if vendor == "sqlite":
        return {
            "objects": [o for o in snap["objects"] if o[2] in tables],
            "columns": {t: c for t, c in snap["columns"].items() if t in tables},
        }
    return {
        "columns": [r for r in snap["columns"] if r[0] in tables],
        "indexes": [r for r in snap["indexes"] if r[0] in tables],
        "constraints": [r for r in snap["constraints"] if r[0] in tables],
        "triggers": [r for r in snap["triggers"] if r[0] in tables],
    }


def django_tables(snap):
    return {t for t in snap["tables"] if not t.startswith("authbridge_")}


def diff_text(a, b) -> str:
    a = json.dumps(a, indent=1, default=str).splitlines()
    b = json.dumps(b, indent=1, default=str).splitlines()
    import difflib

    return "\n".join(list(difflib.unified_diff(b, a, "django", "authbridge", lineterm=""))[:200])


def test_tables_authbridge_creates_are_djangos(stack, reference):
    snap = schema_snapshot(stack.agent)
    created = django_tables(snap)
    ref_tables = django_tables(reference)
    extra = sorted(created - ref_tables - {"sqlite_sequence"})
    assert not extra, f"authbridge created tables Django's migrate does not: {extra}"
    for needed in ("auth_user", "token_blacklist_outstandingtoken", "token_blacklist_blacklistedtoken",
                   "django_migrations"):
        assert needed in created, f"authbridge migrate did not create {needed}"
    mine = restrict(snap, stack.vendor, created)
    theirs = restrict(reference, stack.vendor, created)
    assert mine == theirs, "Django tables created by authbridge differ from Django's:\n" + diff_text(mine, theirs)
    # The migrations it records are exactly Django's, complete per app.
    recorded = {tuple(r) for r in snap["django_migrations"]}
    ref = {tuple(r) for r in reference["django_migrations"]}
    assert recorded <= ref, f"unknown django_migrations rows: {sorted(recorded - ref)}"
    apps = {a for a, _ in recorded}
    missing = sorted(r for r in ref - recorded if r[0] in apps)
    assert not missing, f"apps recorded only partially in django_migrations: {missing}"


def test_django_migrate_completes_on_top(stack, reference):
    proc = manage(stack.settings_module, stack.db, "migrate", "--noinput", check=False)
    assert proc.returncode == 0, f"manage.py migrate failed on authbridge's schema:\n{proc.stdout}\n{proc.stderr}"
    manage(stack.settings_module, stack.db, "migrate", "--check")
    snap = schema_snapshot(stack.agent)
    tables = django_tables(snap)
    assert tables == django_tables(reference)
    mine = {k: v for k, v in restrict(snap, stack.vendor, tables).items()}
    theirs = restrict(reference, stack.vendor, tables)
    assert mine == theirs, "schema after Django's migrate differs from a pure Django one:\n" + diff_text(mine, theirs)
    assert sorted(map(tuple, snap["django_migrations"])) == sorted(map(tuple, reference["django_migrations"]))
    if stack.vendor == "postgresql":
        assert snap["sequences"] == reference["sequences"]


def test_both_work_on_the_shared_tables(stack, ab):
    # Re-running migrate (tables all present now) changes nothing.
    assert_migrate_leaves_django_schema(stack, expect_new_tables=False)
    u = stack.user("alice")
    r = ab.post_json("/api/token/", stack.login_body("alice"))
    pair = assert_obtain_body(r, u)
    assert_django_accepts(stack, pair["access"], u)
    assert_rotation(stack, ab, u, pair)
    proc = manage(stack.settings_module, stack.db, "flushexpiredtokens", check=False)
    assert proc.returncode == 0, proc.stderr
