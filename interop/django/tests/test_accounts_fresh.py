"""A Django project without allauth (djproject/settings.py: no account apps): `authbridge migrate`
creates allauth's tables as Django's migrate would, and a project that adds allauth's account app
later (docs/accounts.md's settings, djproject/settings_accounts_admin.py) migrates on top of them
without a conflict, ends with the schema Django makes itself, and its admin lists the addresses
authbridge wrote."""
import pytest

from accounts_support import Mailbox, authbridge_accounts_env, authbridge_migrate
from harness import Authbridge, DjangoAgent, make_database, manage, rmtree, schema_snapshot, tmp_workdir


def account_schema(snapshot: dict) -> dict:
    """The account_* part of harness.schema_snapshot, and the migration rows of allauth's app."""
    def mine(row):
        # PostgreSQL rows start with their table; SQLite's objects are (type, name, table, sql).
        if row and row[0] in ("table", "index", "trigger", "view"):
            return str(row[2]).startswith("account_")
        return str(row[0]).startswith("account_")

    out = {}
    for k, v in snapshot.items():
        if isinstance(v, list):
            out[k] = [r for r in v if (isinstance(r, list) and mine(r)) or (isinstance(r, str) and r.startswith("account_"))]
        elif isinstance(v, dict):
            out[k] = {t: c for t, c in v.items() if t.startswith("account_")}
    out["django_migrations"] = [r for r in snapshot["django_migrations"] if r[0] == "account"]
    return out


@pytest.fixture(scope="module")
def dbs(backend):
    workdir = tmp_workdir(f"authbridge-accounts-fresh-{backend}-")
    made = []
    try:
        yield workdir, lambda label: made.append(make_database(backend, workdir, label)) or made[-1]
    finally:
        for db in made:
            try:
                db.drop()
            except Exception:  # noqa: BLE001
                pass
        rmtree(workdir)


def snapshot(db, workdir, name):
    agent = DjangoAgent("djproject.settings", db, workdir / f"{name}.log")
    try:
        return account_schema(schema_snapshot(agent))
    finally:
        agent.close()


def test_authbridge_creates_allauths_tables_and_django_migrates_on_top(dbs):
    workdir, new_db = dbs
    # Django's own: allauth installed from the start.
    reference = new_db("acc_fresh_ref")
    manage("djproject.settings_accounts", reference, "migrate", "--noinput")
    # A project without allauth, then authbridge.
    plain = new_db("acc_fresh_plain")
    manage("djproject.settings", plain, "migrate", "--noinput")
    env = authbridge_accounts_env(plain, Mailbox().port)
    authbridge_migrate(plain, workdir, env)
    authbridge_migrate(plain, workdir, env)  # idempotent
    made = snapshot(plain, workdir, "plain")
    want = snapshot(reference, workdir, "reference")
    assert made["tables"] == want["tables"], (made["tables"], want["tables"])
    assert made == want
    # The project adds the account app later: Django's migrate finds its tables already there.
    proc = manage("djproject.settings_accounts_admin", plain, "migrate", "--noinput")
    assert "Applying account." not in proc.stdout, proc.stdout
    after = snapshot(plain, workdir, "after")
    assert after == want
    # A sign-up through authbridge shows in that admin.
    box = Mailbox().start()
    env = authbridge_accounts_env(plain, box.port)
    ab = Authbridge(env, workdir)
    agent = DjangoAgent("djproject.settings_accounts_admin", plain, workdir / "admin.log")
    try:
        r = ab.post_json("/api/auth/registration/", {"username": "fay", "email": "fay@example.com",
                                                     "password1": "F4y-Passw0rd!", "password2": "F4y-Passw0rd!"})
        assert r.status == 201, r.describe()
        page = agent.exec(ADMIN_PAGE_CODE)
        assert page["status"] == 200 and "fay@example.com" in page["html"], page["status"]
    finally:
        agent.close()
        ab.stop()
        box.stop()


ADMIN_PAGE_CODE = r"""
from django.test import Client
admin = User.objects.create_superuser("root", "root@example.com", "x")
c = Client()
c.force_login(admin)
r = c.get("/admin/account/emailaddress/")
result = {"status": r.status_code, "html": r.content.decode()}
"""
