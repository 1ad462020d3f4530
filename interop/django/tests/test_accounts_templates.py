"""Email templates overridden the way a Django project overrides allauth's: the same files, in
Django's TEMPLATES DIRS and in AUTHBRIDGE_EMAIL_TEMPLATES_DIR (the two template languages agree
on this much), a subject and a text body replaced and an HTML alternative added. Both sides'
emails are compared as in the differential (HTML included)."""
import pytest

from accounts_diff import post, run_steps
from accounts_support import Pair
from test_accounts import REG, RESET, SENT, reg

FILES = {
    "email_confirmation_signup_subject.txt": "Welcome to {{ current_site.name }}, {{ user.username }}\n",
    "email_confirmation_signup_message.txt":
        "Hi {{ user.username }},\n\nconfirm your address: {{ activate_url }}\n\n-- {{ current_site.domain }}\n",
    "email_confirmation_signup_message.html":
        '<p>Hi {{ user.username }},</p>\n<p><a href="{{ activate_url }}">Confirm your address</a></p>\n',
    "password_reset_key_message.html":
        '<p>Hello {{ user.username }} &amp; welcome back</p>\n<p><a href="{{ password_reset_url }}">Reset</a></p>\n',
}


@pytest.fixture(scope="module")
def pair(backend, tmp_path_factory):
    root = tmp_path_factory.mktemp("templates")
    folder = root / "account" / "email"
    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text)
    p = Pair(backend, "acc_tpl", ab_extra={"AUTHBRIDGE_EMAIL_TEMPLATES_DIR": str(root)},
             dj_extra={"ACCOUNTS_TEMPLATES_DIR": str(root)})
    yield p
    p.close()


def keep(name):
    def after(side, r, mails):
        side.state[name] = [(m.subject, m.content_type, m.html is not None) for m in mails]
    return after


def test_overridden_templates(pair):
    steps = [
        post("register_with_templates", REG, reg("tess<b>", "tess@example.com"), status=400,
             note="not a valid username: nothing sent"),
        post("register_with_templates_ok", REG, reg("tess", "tess@example.com"), status=201, expect=SENT, emails=1,
             after=keep("signup")),
        post("reset_with_html_template", RESET, {"email": "tess@example.com"}, status=200, emails=1,
             after=keep("reset")),
    ]
    diffs = run_steps(pair.dj, pair.ab, steps)
    diffs.check()
    # The overrides took effect on Django's side (so the comparison above compared them).
    assert pair.dj.state == {
        "signup": [("[example.com] Welcome to example.com, tess", "multipart/alternative", True)],
        "reset": [("[example.com] Password Reset Email", "multipart/alternative", True)],
    }
    assert pair.ab.state == pair.dj.state
