"""A clinic's configuration (admin) and its day: free starts and the board."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from ...domain.resources import Chair, ClinicProfile, Provider
from ..auth import ADMIN, STAFF
from ..errors import from_request
from ..models import ChairRequest, ClinicProfileRequest, ProviderRequest
from ..responses import AvailabilityView, BoardView
from ..routing import Routes, appointment_reply, use_cases
from ..views import clinic_view, dump, slot_view

routes = Routes()
ADMINS = frozenset({ADMIN})


@routes("GET", "/clinics/<clinic_id>", STAFF)
def get_clinic(clinic_id: str) -> dict[str, Any]:
    return clinic_view(use_cases().configuration.clinic(clinic_id), use_cases().rules)


@routes("PUT", "/clinics/<clinic_id>", ADMINS)
def put_clinic(clinic_id: str, body: Annotated[ClinicProfileRequest, Body()]) -> dict[str, Any]:
    profile = from_request(
        ClinicProfile,
        clinic_id=clinic_id,
        name=body.name,
        time_zone=body.time_zone or use_cases().rules.default_time_zone,
        opening_hours=body.opening_hours,
        rems_certified=body.rems_certified,
        escalation_chain=body.escalation_chain,
        closures=body.closures,
    )
    return dump(use_cases().configuration.save_clinic_profile(profile), keep_none=True)


@routes("PUT", "/clinics/<clinic_id>/chairs/<chair_id>", ADMINS)
def put_chair(clinic_id: str, chair_id: str, body: Annotated[ChairRequest, Body()]) -> dict[str, Any]:
    chair = from_request(Chair, chair_id=chair_id, **body.model_dump())
    return dump(use_cases().configuration.save_chair(clinic_id, chair), keep_none=True)


@routes("PUT", "/clinics/<clinic_id>/providers/<provider_id>", ADMINS)
def put_provider(clinic_id: str, provider_id: str, body: Annotated[ProviderRequest, Body()]) -> dict[str, Any]:
    provider = from_request(Provider, provider_id=provider_id, **body.model_dump())
    return dump(use_cases().configuration.save_provider(clinic_id, provider), keep_none=True)


@routes("GET", "/clinics/<clinic_id>/availability", STAFF, returns=AvailabilityView)
def get_availability(
    clinic_id: str,
    day: Annotated[date, Query(alias="date")],
    session_type: Annotated[str, Query(alias="sessionType", min_length=1, max_length=40)],
) -> dict[str, Any]:
    clinic, slots = use_cases().front_desk.availability(clinic_id, day, session_type)
    zone = clinic.profile.zone
    return {
        "clinicId": clinic_id,
        "date": day.isoformat(),
        "sessionType": session_type,
        "timeZone": zone.key,
        "slots": [slot_view(slot, zone) for slot in slots],
    }


@routes("GET", "/clinics/<clinic_id>/board", STAFF, returns=BoardView)
def get_board(clinic_id: str, day: Annotated[date, Query(alias="date")]) -> dict[str, Any]:
    clinic, appointments = use_cases().front_desk.board(clinic_id, day)
    return {
        "clinicId": clinic_id,
        "date": day.isoformat(),
        "timeZone": clinic.profile.zone.key,  # times are UTC; the board shows them in the clinic's zone
        "appointments": [appointment_reply(a) for a in appointments],
    }
