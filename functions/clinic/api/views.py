"""How the API shows the use cases' results: JSON-ready dicts in camelCase, times in UTC
(`...Z`) with the clinic's local time beside them where staff read it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from ..domain.appointments import Appointment, phase_of
from ..domain.courses import Course
from ..domain.followups import FollowUp
from ..domain.instants import utc_text
from ..domain.instruments import INSTRUMENTS
from ..domain.patients import Patient
from ..domain.resources import Clinic
from ..domain.rules import ClinicRules
from ..domain.scheduling import AvailableSlot
from ..domain.staff import Access, StaffAuditEntry, StaffMember
from ..domain.tenancy import EVERY_CLINIC
from ..usecases.courses import CoursePlan, Placement, PlannedSession

CRISIS_RESOURCES = [
    {"name": "988 Suicide & Crisis Lifeline", "contact": "Call or text 988 (US), any time"},
    {"name": "Emergency services", "contact": "Call 911 if you are in danger now"},
]


def dump(model: BaseModel, *, keep_none: bool = False, **options: Any) -> dict[str, Any]:
    """The one way a record becomes JSON: camelCase, ISO times; unset fields left out unless `keep_none`."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=not keep_none, **options)


def patient_match(patient: Patient) -> dict[str, Any]:
    """A patient in a search's results or a duplicate warning: enough to pick the right one."""
    return dump(patient, include={"patient_id", "given_name", "family_name", "birth_date", "phone"})


def clinic_view(clinic: Clinic, rules: ClinicRules) -> dict[str, Any]:
    return {
        **dump(clinic.profile, keep_none=True),
        "chairs": [dump(c, keep_none=True) for c in clinic.chairs.values()],
        "providers": [dump(p, keep_none=True) for p in clinic.providers.values()],
        "sessionTypes": {
            code: {**dump(kind, keep_none=True), "blockMinutes": int(kind.block.total_seconds() // 60)}
            for code, kind in rules.session_types.items()
        },
        "courseTemplates": {
            code: {"label": t.label, "sessionType": t.session_type, "sessions": t.total_sessions, "weekdaysNeeded": t.weekdays_needed}
            for code, t in rules.course_templates.items()
        },
    }


def appointment_view(appointment: Appointment, rules: ClinicRules) -> dict[str, Any]:
    """The appointment with its live phase. The task token lets its holder drive the workflow:
    it stays between the table and Step Functions."""
    phase = phase_of(appointment, rules.session_types[appointment.session_type])
    return {**dump(appointment, exclude={"workflow": {"task_token"}}), "phase": dump(phase)}


def slot_view(slot: AvailableSlot, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "start": utc_text(slot.start),
        "end": utc_text(slot.end),
        "startLocal": slot.start.astimezone(zone).isoformat(),
        "chairIds": list(slot.chair_ids),
        "providerIds": list(slot.provider_ids),
    }


def placement_view(placement: Placement, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "start": utc_text(placement.start),
        "startLocal": placement.start.astimezone(zone).isoformat(),
        "chairId": placement.chair_id,
        "providerId": placement.provider_id,
    }


def planned_view(session: PlannedSession, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "number": session.number,
        "phase": session.phase,
        "wantedLocal": session.wanted.astimezone(zone).isoformat(),
        "mustMove": session.problem is not None,
        **({"problem": session.problem} if session.problem else {}),
        "placement": placement_view(session.placement, zone) if session.placement else None,
        "alternatives": [placement_view(p, zone) for p in session.alternatives],
    }


def plan_view(plan: CoursePlan, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "template": plan.template_code,
        "label": plan.template.label,
        "sessionType": plan.template.session_type,
        "timeZone": zone.key,
        "bookable": all(s.placement is not None for s in plan.sessions),
        "sessions": [planned_view(s, zone) for s in plan.sessions],
    }


def course_view(course: Course, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    return {**dump(course), "sessions": sessions}


def call_list_entry(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "followUpId": follow_up.follow_up_id,
        "appointmentId": follow_up.appointment_id,
        "patientId": follow_up.patient_id,
        "number": follow_up.number,
        "reason": "the survey link could not be sent" if follow_up.undeliverable else "the survey was not answered in time",
        "since": dump(follow_up)["closedAt" if follow_up.closed_at else "openedAt"],
    }


def survey_view(follow_up: FollowUp) -> dict[str, Any]:
    session = follow_up.session
    return {
        "finished": session.finished,
        "pending": list(session.pending),
        "questionnaires": [dump(INSTRUMENTS[code], exclude={"bands"}) for code in session.pending],
        "crisisResources": CRISIS_RESOURCES if session.crisis_resources else [],
        "validUntil": dump(follow_up)["validUntil"],
    }


def access_view(access: Access) -> dict[str, Any]:
    """A member's role, clinics (["*"]: every clinic of the practice) and status."""
    return {"role": access.role, "clinics": access.clinics or [EVERY_CLINIC], "status": access.status}


def staff_member_view(member: StaffMember) -> dict[str, Any]:
    return {**dump(member, exclude={"invite_id"}), **access_view(member)}


def staff_audit_view(entry: StaffAuditEntry) -> dict[str, Any]:
    return {
        **dump(entry, exclude={"username", "before", "after"}),
        "before": access_view(entry.before) if entry.before else None,
        "after": access_view(entry.after),
    }
