"""Differential table: for each request, authbridge must answer exactly what Django's own
simplejwt views answer (run in-process with django.test.Client on the same database)."""
import pytest

from cases import Ctx, all_cases
from differential import check_case

USERS = [
    {"key": "alice", "login": "alice", "password": "ålice-pässword 🔑"},
    {"key": "inactive", "login": "ivan", "password": "ivan-password", "active": False},
    {"key": "gone", "login": "gone", "password": "gone-password", "delete": True},
]

CASES = all_cases()


@pytest.fixture(scope="module")
def ctx(stack, ab):
    c = Ctx(stack, ab)
    c.prepare()
    return c


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_answer_as_django(ctx, case):
    check_case(ctx, case)
