"""Roles come from the authorizer's claims; denials change nothing."""

from __future__ import annotations

import pytest
from clinic.api.app import ROUTES

from tests.support.world import CLINIC, World


def test_every_route_names_staff_groups_except_patient_links_under_public() -> None:
    assert ROUTES, "no routes registered"
    for policy, _ in ROUTES:
        # API Gateway lets /public/* through without a Cognito token: exactly these routes.
        if policy.path.startswith("/public/"):
            assert policy.groups == frozenset(), policy
        else:
            assert policy.groups and policy.groups <= {"front-desk", "clinician", "admin"}, policy


@pytest.mark.parametrize("role", ["front-desk", "clinician"])
def test_only_admins_configure_the_clinic(clinic: World, role: str) -> None:
    before = clinic.items()
    reply = clinic.call("PUT", f"/clinics/{CLINIC}/chairs/chair-9", {"name": "Chair 9"}, role=role)
    assert reply.status == 403
    assert "admin" in reply.body["message"]
    assert clinic.items() == before


def test_without_a_token_every_route_is_401(clinic: World) -> None:
    before = clinic.items()
    for path, method in [(f"/clinics/{CLINIC}", "GET"), ("/appointments", "POST"), ("/patients/x", "GET")]:
        reply = clinic.call(method, path, {}, role=None)
        assert reply.status == 401, path
    assert clinic.items() == before


def test_a_denied_caller_learns_nothing_about_the_body(clinic: World) -> None:
    reply = clinic.call("POST", "/patients", "{broken", role="clinician", headers={"Idempotency-Key": "x" * 10})
    assert reply.status == 403  # authorization is checked before the body is parsed


def test_groups_claim_as_api_gateway_sends_it(clinic: World) -> None:
    reply = clinic.call("GET", f"/clinics/{CLINIC}", role="[clinician admin]")
    assert reply.status == 200
