"""What the API answers, as documented in its OpenAPI document: the error shape every route
shares, and the shapes of the main resources (extra fields allowed: the document promises
what a client may rely on, not every field)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Reply(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True)


class FieldProblem(_Reply):
    field: str
    problem: str


class ErrorBody(_Reply):
    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    fields: list[FieldProblem]


class PhaseView(_Reply):
    name: str


class AppointmentView(_Reply):
    appointment_id: str
    clinic_id: str
    patient_id: str
    session_type: str
    chair_id: str
    provider_id: str
    start: datetime
    end: datetime
    local_date: date
    status: Literal["booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error"]
    version: int
    phase: PhaseView


class BoardView(_Reply):
    clinic_id: str
    date: date
    time_zone: str
    appointments: list[AppointmentView]


class SlotView(_Reply):
    start: datetime
    end: datetime
    start_local: datetime
    chair_ids: list[str]
    provider_ids: list[str]


class AvailabilityView(_Reply):
    clinic_id: str
    date: date
    session_type: str
    time_zone: str
    slots: list[SlotView]


class PlacementView(_Reply):
    start: datetime
    start_local: datetime
    chair_id: str
    provider_id: str


class PlannedSessionView(_Reply):
    number: int
    phase: int
    wanted_local: datetime
    must_move: bool
    placement: PlacementView | None
    alternatives: list[PlacementView]


class CoursePlanView(_Reply):
    template: str
    label: str
    session_type: str
    time_zone: str
    bookable: bool
    sessions: list[PlannedSessionView]


class CourseView(_Reply):
    course_id: str
    clinic_id: str
    patient_id: str
    template: str
    status: Literal["active", "cancelled"]
    sessions: list[AppointmentView]


class StaffAccessView(_Reply):
    role: Literal["front-desk", "clinician", "admin"]
    clinics: list[str]  # ["*"]: every clinic of the practice
    status: Literal["active", "disabled"]


class StaffMemberView(StaffAccessView):
    username: str
    email: str
    given_name: str
    family_name: str
    version: int
    changed_at: datetime


class StaffListView(_Reply):
    staff: list[StaffMemberView]


class StaffAuditEntryView(_Reply):
    version: int
    at: datetime
    action: Literal["invited", "access-changed", "disabled", "enabled"]
    actor_id: str
    actor_name: str
    before: StaffAccessView | None
    after: StaffAccessView


class StaffAuditView(_Reply):
    username: str
    entries: list[StaffAuditEntryView]


class PatientMatchView(_Reply):
    """What the front desk needs to tell patients apart."""

    patient_id: str
    given_name: str
    family_name: str
    birth_date: date
    phone: str | None = None


class PatientSearchView(_Reply):
    patients: list[PatientMatchView]
    more: bool


class PossibleDuplicateBody(ErrorBody):
    """A registration's 409: the error, and who may already be registered (`possible_duplicate`)."""

    duplicates: list[PatientMatchView] | None = None


# Every route may answer these; each body is an ErrorBody.
ERRORS = {
    400: "malformed JSON",
    401: "no valid token (staff) or an unknown link (patient)",
    403: "the caller's role may not do this",
    404: "unknown id, or no route spelled so",
    405: "the path takes another method (Allow names it)",
    409: "conflict or illegal transition",
    410: "a patient link used up or expired",
    415: "a body that is not JSON (Content-Type: application/json)",
    422: "invalid field (named)",
    500: "an internal error (no details are given)",
    503: "a dependency is busy: retry after Retry-After seconds",
}


def documented(success: type[BaseModel] | None, status: int, conflict: type[ErrorBody] = ErrorBody) -> dict[int, Any]:
    """The OpenAPI responses of a route: its success shape and the shared errors (its 409's
    body, when it says more than the shared error)."""
    body = {"model": success} if success is not None else {"schema": {"type": "object"}}
    responses: dict[int, Any] = {status: {"description": "OK", "content": {"application/json": body}}}
    for code, description in ERRORS.items():
        model = conflict if code == 409 else ErrorBody
        responses[code] = {"description": description, "content": {"application/json": {"model": model}}}
    return responses
