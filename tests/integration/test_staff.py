"""Staff management through the API handler, with moto's Cognito as the sign-in authority:
an invited member's first sign-in, role and clinic changes that the next token carries
(and that refuse the older one), a disabled member refused by Cognito and by the API,
another practice's member not found, and nobody widening their own access."""

from __future__ import annotations

import boto3
import pytest
from local.identity import temporary_password

from tests.support.world import CLINIC, World

NEW_PASSWORD = "Chosen-Password-2?"
SOUTH = "south"


def invite(
    world: World, username: str = "robin", *, role: str = "front-desk", clinics: list[str] | None = None,
    key: str | None = None, by: dict | None = None,
):
    """Invites as the practice's admin, or as `by` (World.call's caller arguments)."""
    body = {
        "username": username, "email": f"{username}@clinic.example", "givenName": "Robin", "familyName": "Desk",
        "role": role, "clinics": clinics or [CLINIC],
    }
    headers = {"Idempotency-Key": key or f"invite-{username}"}
    return world.call("POST", "/staff", body, headers=headers, **{"role": "admin", **(by or {})})


@pytest.fixture
def practice(clinic: World) -> World:
    clinic.set_up_clinic(clinic=SOUTH)
    return clinic


def account(world: World, username: str) -> dict:
    user = boto3.client("cognito-idp").admin_get_user(UserPoolId=world.deployment.user_pool.user_pool_id, Username=username)
    groups = boto3.client("cognito-idp").admin_list_groups_for_user(UserPoolId=world.deployment.user_pool.user_pool_id, Username=username)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return {**attributes, "enabled": user["Enabled"], "groups": [g["GroupName"] for g in groups["Groups"]]}


def first_sign_in(world: World, username: str = "robin") -> dict:
    return world.sign_in(username, temporary_password(world.deployment.user_pool.user_pool_id, username), NEW_PASSWORD)


def test_an_invited_member_signs_in_and_role_and_clinic_changes_reach_the_next_token(practice: World) -> None:
    reply = invite(practice)
    assert reply.status == 201, reply.body
    assert {k: reply.body[k] for k in ("username", "role", "clinics", "status")} == {
        "username": "robin", "role": "front-desk", "clinics": [CLINIC], "status": "active"
    }
    made = account(practice, "robin")
    assert (made["custom:organization"], made["custom:clinics"], made["email_verified"], made["groups"]) == (
        "practice-a", CLINIC, "true", ["front-desk"]
    )
    first = first_sign_in(practice)
    assert (first["cognito:groups"], first["custom:clinics"]) == (["front-desk"], CLINIC)
    assert practice.call("GET", f"/clinics/{CLINIC}/board", claims=first, query={"date": "2030-01-07"}).status == 200
    assert practice.call("GET", f"/clinics/{SOUTH}", claims=first).status == 403  # not one of robin's clinics

    # Another role and one more clinic: the older token is refused, the next carries both.
    changed = practice.call("PUT", "/staff/robin", {"role": "clinician", "clinics": [CLINIC, SOUTH]}, role="admin")
    assert (changed.status, changed.body["role"], changed.body["clinics"]) == (200, "clinician", [CLINIC, SOUTH])
    refused = practice.call("GET", f"/clinics/{CLINIC}", claims=first)
    assert (refused.status, refused.body["message"]) == (401, "your role or clinics changed: sign in again")
    second = practice.sign_in("robin", NEW_PASSWORD)
    assert (second["cognito:groups"], second["custom:clinics"]) == (["clinician"], f"{CLINIC},{SOUTH}")
    assert practice.call("GET", f"/clinics/{SOUTH}", claims=second).status == 200
    assert practice.call("POST", "/patients", {}, claims=second, headers={"Idempotency-Key": "k"}).status == 403

    entries = practice.call("GET", "/staff/robin/audit", role="admin").body["entries"]
    assert [(e["action"], e["actorName"], e["after"]["role"]) for e in entries] == [
        ("invited", "admin-user", "front-desk"), ("access-changed", "admin-user", "clinician")
    ]
    assert "Robin" not in str(entries) and "@" not in str(entries)


def test_a_disabled_member_is_refused_by_cognito_and_by_the_api_until_enabled(practice: World) -> None:
    invite(practice)
    token = first_sign_in(practice)
    assert practice.call("POST", "/staff/robin/disable", role="admin").body["status"] == "disabled"
    assert account(practice, "robin")["enabled"] is False
    refused = practice.call("GET", f"/clinics/{CLINIC}", claims=token)  # its hour is not over
    assert (refused.status, refused.body["message"]) == (401, "your account is disabled: ask your practice's admin")
    with pytest.raises(boto3.client("cognito-idp").exceptions.NotAuthorizedException):
        practice.sign_in("robin", NEW_PASSWORD)
    assert practice.call("POST", "/staff/robin/enable", role="admin").body["status"] == "active"
    assert practice.call("GET", f"/clinics/{CLINIC}", claims=practice.sign_in("robin", NEW_PASSWORD)).status == 200


def test_a_disable_whose_cognito_part_failed_still_refuses_the_member_at_once(practice: World, faults) -> None:
    invite(practice)
    token = first_sign_in(practice)
    assert practice.call("GET", f"/clinics/{CLINIC}", claims=token).status == 200  # this environment now knows robin
    with faults.injected(lambda call: call.operation == "AdminDisableUser", "InternalErrorException"):
        failed = practice.call("POST", "/staff/robin/disable", role="admin")
    assert failed.status >= 500, failed.body
    assert practice.call("GET", "/staff/robin/audit", role="admin").body["entries"][-1]["action"] == "disabled"
    refused = practice.call("GET", f"/clinics/{CLINIC}", claims=token)
    assert (refused.status, refused.body["message"]) == (401, "your account is disabled: ask your practice's admin")
    assert practice.call("POST", "/staff/robin/disable", role="admin").status == 200  # the repeat finishes Cognito's part
    assert account(practice, "robin")["enabled"] is False


def test_an_email_another_account_signs_in_with_is_a_conflict_and_leaves_no_member(practice: World, faults) -> None:
    # Cognito refuses a second account with a verified email it already signs someone in with
    # (AliasExistsException; moto does not check it, so it is injected here).
    before = practice.items()
    with faults.injected(lambda call: call.operation == "AdminCreateUser", "AliasExistsException"):
        refused = invite(practice)
    assert (refused.status, refused.body["message"]) == (409, "email: another account already uses this address; use another")
    assert "robin" not in refused.body["message"] and practice.items() == before


def test_another_practices_admin_finds_no_member_and_changes_nothing(practice: World) -> None:
    invite(practice)
    before, cognito_before = practice.items(), account(practice, "robin")
    other = {"role": "admin", "organization": "practice-b"}
    assert practice.call("GET", "/staff", **other).body == {"staff": []}
    for method, path, body in [
        ("PUT", "/staff/robin", {"role": "admin", "clinics": ["*"]}),
        ("POST", "/staff/robin/disable", None),
        ("POST", "/staff/robin/enable", None),
        ("GET", "/staff/robin/audit", None),
    ]:
        reply = practice.call(method, path, body, **other)
        assert (reply.status, reply.body["code"]) == (404, "not_found"), (method, path)
    assert practice.items() == before and account(practice, "robin") == cognito_before
    taken = invite(practice, clinics=["*"], key="other-practice", by=other)  # the pool's usernames are shared
    assert (taken.status, taken.body["message"]) == (409, "username: this username is taken; choose another")


def test_nobody_widens_their_own_access_and_errors_name_the_field_never_the_value(practice: World) -> None:
    invite(practice, "nora", role="admin")  # an admin of the north clinic only
    nora = {"user": "nora", "clinics": CLINIC}
    before = practice.items()
    own_role = practice.call("PUT", "/staff/nora", {"role": "clinician", "clinics": [CLINIC]}, role="admin", **nora)
    assert (own_role.status, own_role.body["fields"][0]["field"]) == (403, "role")
    for clinics in ([CLINIC, SOUTH], ["*"]):
        widened = practice.call("PUT", "/staff/nora", {"role": "admin", "clinics": clinics}, role="admin", **nora)
        assert (widened.status, widened.body["fields"][0]["field"]) == (403, "clinics")
        granted = invite(practice, "sam", clinics=clinics, key=f"sam-{len(clinics)}-{clinics[-1] == '*'}", by=nora)
        assert (granted.status, granted.body["message"]) == (403, "clinics: you can grant only clinics you work at yourself")
    assert practice.items() == before
    unknown = invite(practice, "sam", clinics=["secret-annex"], key="unknown-clinic")
    assert (unknown.status, unknown.body["fields"]) == (422, [{"field": "clinics", "problem": "each must be a clinic of your practice"}])
    bad = invite(practice, "Sam Smith", key="bad-fields")
    assert bad.status == 422 and "Sam Smith" not in str(bad.body) and bad.body["fields"][0]["field"] == "username"


def test_a_repeated_invite_answers_the_first_reply_and_makes_one_account(practice: World) -> None:
    first, again = invite(practice, key="same-invite"), invite(practice, key="same-invite")
    assert (first.status, again.status, again.body) == (201, 201, first.body)
    assert invite(practice, key="another-invite").status == 409
    assert [m["username"] for m in practice.call("GET", "/staff", role="admin").body["staff"]] == ["robin"]
