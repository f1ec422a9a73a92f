"""The practice admin's staff: invite (Cognito emails a temporary password), role and
clinics, disable and enable, the list and each member's audit trail. Admins only; another
practice's member is 404 (the list and the records are the caller's practice's own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ...domain.staff import StaffMember
from ..auth import ADMIN
from ..models import StaffAccessRequest, StaffInviteRequest
from ..responses import StaffAuditView, StaffListView, StaffMemberView
from ..routing import Routes, caller, count, created, forget_standing, record_id, use_cases
from ..views import staff_audit_view, staff_member_view

routes = Routes()
ADMINS = frozenset({ADMIN})


@routes("GET", "/staff", ADMINS, returns=StaffListView)
def get_staff() -> dict[str, Any]:
    return {"staff": [staff_member_view(m) for m in use_cases().staff.staff(caller())]}


@routes("POST", "/staff", ADMINS, returns=StaffMemberView, status=201)
def post_staff(body: Annotated[StaffInviteRequest, Body()]) -> tuple[dict[str, Any], int]:
    def invite() -> dict[str, Any]:
        member = use_cases().staff.invite(
            caller(),
            invite_id=record_id("invite-staff"),
            username=body.username,
            email=body.email,
            given_name=body.given_name,
            family_name=body.family_name,
            role=body.role,
            clinics=body.clinic_ids,
        )
        count("StaffInvited")
        return staff_member_view(member)

    return created("invite-staff", body, invite)


@routes("PUT", "/staff/<username>", ADMINS, returns=StaffMemberView)
def put_staff_member(username: str, body: Annotated[StaffAccessRequest, Body()]) -> dict[str, Any]:
    return _changed(username, lambda: use_cases().staff.change(caller(), username, role=body.role, clinics=body.clinic_ids))


@routes("POST", "/staff/<username>/disable", ADMINS, returns=StaffMemberView)
def disable_staff_member(username: str) -> dict[str, Any]:
    return _changed(username, lambda: use_cases().staff.disable(caller(), username))


@routes("POST", "/staff/<username>/enable", ADMINS, returns=StaffMemberView)
def enable_staff_member(username: str) -> dict[str, Any]:
    return _changed(username, lambda: use_cases().staff.enable(caller(), username))


def _changed(username: str, change: Callable[[], StaffMember]) -> dict[str, Any]:
    """The change, and this environment's standing check forgets the member's old record at
    once, also when Cognito failed after the record changed."""
    try:
        member = change()
    finally:
        forget_standing(username)
    return staff_member_view(member)


@routes("GET", "/staff/<username>/audit", ADMINS, returns=StaffAuditView)
def get_staff_audit(username: str) -> dict[str, Any]:
    return {"username": username, "entries": [staff_audit_view(e) for e in use_cases().staff.audit(caller(), username)]}
