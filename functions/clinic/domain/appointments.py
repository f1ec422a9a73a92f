"""Appointments and their lifecycle, following FHIR R4 Appointment.status."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from .care import Attention, AttentionKind, Discharge, Dose, Vitals, blood_pressure_due_at, discharge_allowed_at
from .errors import IllegalTransition
from .model import Record
from .rules import BloodPressureLimit, SessionType


class Status(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"


class Action(StrEnum):
    BOOK = "book"
    RESCHEDULE = "reschedule"
    CHECK_IN = "check-in"
    NO_SHOW = "no-show"
    CANCEL = "cancel"
    CONFIRM = "confirm"
    RECORD_DOSE = "record-dose"
    DISCHARGE = "discharge"
    ATTENTION = "needs-attention"
    RESOLVE = "resolve-attention"  # staff dealt with the flag


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.RESCHEDULE: (frozenset({Status.BOOKED}), Status.BOOKED),
    Action.CHECK_IN: (frozenset({Status.BOOKED}), Status.ARRIVED),
    Action.NO_SHOW: (frozenset({Status.BOOKED}), Status.NOSHOW),
    Action.CANCEL: (frozenset({Status.BOOKED, Status.ARRIVED}), Status.CANCELLED),
    Action.DISCHARGE: (frozenset({Status.ARRIVED}), Status.FULFILLED),
}
# What each action settles. A failed workflow stays flagged until a reschedule starts a new run.
_SETTLES: dict[Action, frozenset[AttentionKind]] = {
    Action.CONFIRM: frozenset({AttentionKind.PATIENT_ANSWER}),
    Action.CHECK_IN: frozenset({AttentionKind.PATIENT_ANSWER, AttentionKind.UNREACHABLE}),
    Action.RECORD_DOSE: frozenset({AttentionKind.DOSE_OVERDUE}),
    Action.DISCHARGE: frozenset(set(AttentionKind) - {AttentionKind.WORKFLOW}),
    Action.RESCHEDULE: frozenset(AttentionKind),
}
# After these the chair and provider time is no longer needed, and the workflow has
# nothing left to wait for.
RELEASING = frozenset({Status.CANCELLED, Status.NOSHOW, Status.ENTERED_IN_ERROR})
# A patient's sessions still to come or under way: what course spacing is measured against.
SCHEDULED = frozenset({Status.BOOKED, Status.ARRIVED})


class Cancellation(Record):
    reason: str
    late: bool
    at: datetime


class Confirmation(Record):
    """The patient's answer to a reminder's link."""

    attending: bool
    ride_arranged: bool
    at: datetime


class Workflow(Record):
    """The appointment's Step Functions execution: `run` names it (a reschedule starts the
    next run) and `waiting_for` is the callback step it is parked at, with its task token."""

    run: int = 1
    waiting_for: str | None = None
    task_token: str | None = None


class Appointment(Record):
    appointment_id: str
    clinic_id: str
    patient_id: str
    session_type: str
    chair_id: str
    provider_id: str
    start: datetime
    end: datetime
    local_date: str
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    checked_in_at: datetime | None = None
    cancellation: Cancellation | None = None
    confirmation: Confirmation | None = None
    dose: Dose | None = None
    discharge: Discharge | None = None
    attention: Attention | None = None
    workflow: Workflow = Workflow()
    course_id: str | None = None  # set when booked as one session of a course

    @property
    def execution_name(self) -> str:
        return f"{self.appointment_id}-{self.workflow.run}"


class FlaggedAppointment(Record):
    """An appointment's flag on the clinic's alerts: what staff need to find it, whatever
    day the board shows."""

    appointment_id: str
    clinic_id: str
    patient_id: str
    start: datetime
    local_date: str
    attention: Attention


class PhaseView(Record):
    """What the day board shows about where a session stands."""

    name: str
    since: datetime | None = None
    discharge_allowed_at: datetime | None = None
    blood_pressure_due_at: datetime | None = None
    attention: Attention | None = None


def phase_of(appointment: Appointment, session_type: SessionType) -> PhaseView:
    status, dose = appointment.status, appointment.dose
    if status is Status.ARRIVED and dose is not None:
        view = PhaseView(
            name="observing",
            since=dose.started_at,
            discharge_allowed_at=discharge_allowed_at(dose, session_type),
            blood_pressure_due_at=blood_pressure_due_at(dose, session_type),
        )
    elif status is Status.ARRIVED:
        view = PhaseView(name="awaiting-dose", since=appointment.checked_in_at)
    elif status is Status.FULFILLED and appointment.discharge is not None:
        view = PhaseView(name="discharged", since=appointment.discharge.at)
    elif status is Status.BOOKED:
        view = PhaseView(name="awaiting-check-in")
    else:
        view = PhaseView(name=status.value)
    return view.model_copy(update={"attention": appointment.attention})


class AuditEntry(Record):
    appointment_id: str
    at: datetime
    action: Action
    actor_id: str
    actor_name: str
    from_status: Status | None = None
    to_status: Status
    reason: str | None = None


def next_status(appointment: Appointment, action: Action, now: datetime, local_today: str) -> Status | None:
    """The status `action` leads to, or None when the appointment is already there (a
    repeated click), or IllegalTransition saying why not. `local_today` is the clinic's
    current date (ISO), since a check-in belongs to the appointment's own day."""
    sources, target = TRANSITIONS[action]
    if appointment.status == target and action is not Action.RESCHEDULE:
        return None
    if appointment.status not in sources:
        raise IllegalTransition(f"cannot {action.value} an appointment that is {appointment.status.value}")
    if action is Action.NO_SHOW and now < appointment.start:
        raise IllegalTransition("cannot mark a no-show before the appointment's start time")
    if action is Action.CHECK_IN and local_today != appointment.local_date:
        raise IllegalTransition(f"cannot check in on {local_today} for an appointment on {appointment.local_date}")
    if action is Action.CANCEL and appointment.dose is not None:
        raise IllegalTransition("cannot cancel after dosing: the patient must be observed and discharged")
    return target


def is_late_cancellation(appointment: Appointment, now: datetime, window_hours: int) -> bool:
    return now > appointment.start - timedelta(hours=window_hours)


def attention_after(appointment: Appointment, action: Action) -> Attention | None:
    """The appointment's flag once `action` is done: cleared if the action settles it."""
    attention = appointment.attention
    if attention is not None and attention.kind in _SETTLES.get(action, frozenset()):
        return None
    return attention


def resolved(appointment: Appointment) -> Attention | None:
    """The flag once staff say they dealt with it. A failed workflow is not theirs to clear:
    only a reschedule starts a new run."""
    if appointment.attention is not None and appointment.attention.kind is AttentionKind.WORKFLOW:
        raise IllegalTransition("the session's workflow failed: reschedule the appointment to start it again")
    return None


def attention_after_vitals(
    current: Attention | None, dose: Dose | None, vitals: Vitals, limit: BloodPressureLimit
) -> Attention | None:
    """The appointment's flag after a reading: a pressure above the limit after the dose flags
    it for the clinician; one within the limit settles that flag and a missed check's. The
    reason names the limit, not the reading (flags reach pages)."""
    pressure = vitals.blood_pressure
    if dose is None or pressure is None or vitals.taken_at < dose.started_at:
        return current
    if pressure.above(limit):
        reason = f"blood pressure after the dose above {limit.systolic}/{limit.diastolic}: recheck and tell the prescriber"
        return raise_attention(current, Attention(kind=AttentionKind.VITALS, reason=reason, since=vitals.taken_at))
    if current is not None and current.kind in (AttentionKind.VITALS, AttentionKind.BLOOD_PRESSURE_CHECK):
        return None
    return current


def raise_attention(current: Attention | None, new: Attention) -> Attention:
    """A failed workflow outranks any other flag; otherwise the newest reason shows."""
    if current is not None and current.kind is AttentionKind.WORKFLOW and new.kind is not AttentionKind.WORKFLOW:
        return current
    return new
