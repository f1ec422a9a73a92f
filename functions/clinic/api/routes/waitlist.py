"""A clinic's waitlist: join, list in order, remove."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ..auth import FRONT_OFFICE, STAFF
from ..models import WaitlistRequest
from ..routing import Routes, created, use_cases
from ..views import dump

routes = Routes()


@routes("POST", "/clinics/<clinic_id>/waitlist", FRONT_OFFICE, status=201)
def post_waitlist(clinic_id: str, body: Annotated[WaitlistRequest, Body()]) -> tuple[dict[str, Any], int]:
    def join() -> dict[str, Any]:
        entry = use_cases().waitlist.join(
            clinic_id, body.patient_id, body.session_type, list(body.weekdays), body.earliest, body.latest
        )
        return dump(entry)

    return created(f"join-waitlist-{clinic_id}", body, join)


@routes("GET", "/clinics/<clinic_id>/waitlist", STAFF)
def get_waitlist(clinic_id: str) -> dict[str, Any]:
    """Waiting patients in the order they joined (the order offers follow)."""
    return {"clinicId": clinic_id, "entries": [dump(e) for e in use_cases().waitlist.entries(clinic_id)]}


@routes("POST", "/clinics/<clinic_id>/waitlist/<entry_id>/remove", FRONT_OFFICE)
def post_waitlist_remove(clinic_id: str, entry_id: str) -> dict[str, Any]:
    use_cases().waitlist.remove(clinic_id, entry_id)
    return {"clinicId": clinic_id, "entryId": entry_id, "removed": True}
