"""Every route against every staff caller: anonymous gets 401, a role the README's API table
does not name for the route gets 403, and a denial changes nothing; a role the route names gets past the gate
(whatever the route then says of the request: 2xx, 404, 409 or 422, never 401/403/5xx).
Patient-link routes ignore staff identity: without a valid link token they answer 401.
The expectation comes from the README's table, never from the policies the API enforces: a
route given to the wrong role fails here even if the README test is changed with it.

The patient-link cells (a valid survey token, another patient's, an expired or tampered
one) are in tests/workflow/test_follow_up.py and test_confirmation.py; a forged or expired
JWT is refused by the gateway, in tests/integration/test_local_service.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from clinic.api.app import ROUTES

from tests.support.world import CLINIC, World

CALLERS = [None, "front-desk", "clinician", "admin"]
# A body each route accepts in shape, so an allowed caller reaches the route itself.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/public/confirmations"): {"token": "t" * 43, "attending": True, "rideArranged": True},
    ("POST", "/public/confirmations/open"): {"token": "t" * 43},
    ("POST", "/public/surveys"): {"token": "t" * 43},
    ("POST", "/public/surveys/answers"): {"token": "t" * 43, "instrument": "phq-9", "answers": {"phq9-1": 0}},
    ("POST", "/public/waitlist-offers"): {"token": "t" * 43},
    ("POST", "/public/waitlist-offers/accept"): {"token": "t" * 43},
}


def _concrete(path: str) -> str:
    values = {"clinic_id": CLINIC, "chair_id": "chair-1", "provider_id": "nurse-a"}
    return re.sub(r"<([^>]+)>", lambda m: values.get(m.group(1), "does-not-exist"), path)


def _expected(groups: frozenset[str], caller: str | None, public: bool) -> int | None:
    if public:
        return 401  # the link's token is the only credential: a made-up one opens nothing, staff or not
    if caller is None:
        return 401
    return None if caller in groups else 403


def _readme_matrix() -> dict[tuple[str, str], frozenset[str]]:
    """The README's API table: (method, path with {} for each parameter) -> the roles it documents."""
    names = {"any staff": {"front-desk", "clinician", "admin"}, "front desk": {"front-desk"}, "clinician": {"clinician"},
             "admin": {"admin"}, "patient link": set()}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    found = {}
    for method, path, roles in re.findall(r"^\| `(GET|POST|PUT) ([^`?]+)[^`]*` \| ([^|]+) \|", readme, re.MULTILINE):
        groups = set().union(*(names[role.strip()] for role in roles.split(",")))
        found[(method, re.sub(r"\{[^}]+\}", "{}", path))] = frozenset(groups)
    return found


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>", "{}", path)


DOCUMENTED = _readme_matrix()
CASES = [
    pytest.param(policy.method, policy.path, caller, id=f"{policy.method} {policy.path} as {caller or 'anonymous'}")
    for policy, _ in ROUTES
    for caller in CALLERS
]


@pytest.mark.parametrize(("method", "path", "caller"), CASES)
def test_the_access_matrix(shared_clinic: World, method: str, path: str, caller: str | None) -> None:
    public = path.startswith("/public/")
    documented = DOCUMENTED.get((method, _shape(path)))
    assert documented is not None, "the route is missing from the README's API table"
    before = shared_clinic.items()
    body = BODIES.get((method, path), {})
    query = {"date": "2030-01-07", "sessionType": "spravato"} if method == "GET" else None
    headers = {"Idempotency-Key": "matrix-key-1"}
    reply = shared_clinic.call(method, _concrete(path), body if method != "GET" else None, role=caller, headers=headers, query=query)
    expected = _expected(documented, caller, public)
    if expected is not None:
        assert reply.status == expected, reply.body
        assert shared_clinic.items() == before  # a denial changes nothing
    else:
        assert reply.status not in (401, 403) and reply.status < 500, (reply.status, reply.body)


def test_the_readme_documents_exactly_this_matrix() -> None:
    enforced = {(p.method, _shape(p.path)): p.groups for p, _ in ROUTES}
    assert DOCUMENTED == enforced
