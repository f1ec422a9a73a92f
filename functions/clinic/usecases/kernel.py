"""What every use case shares: who acts, the clock, new ids, the audit entry, and the two
ways a write can lose (a race, a taken grain) turned into what staff read.

Names in the use cases: `session_type` is a session type's code ("spravato", as stored on
the appointment and sent by the API), `kind` the SessionType rules it names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ..domain.appointments import Action, Appointment, AuditEntry, Status
from ..domain.errors import Conflict, NotFound, SlotTaken, StaleRecord, Undeliverable
from ..domain.escalations import chain_pagers
from ..domain.patients import Patient
from ..domain.resources import Clinic
from ..domain.rules import ClinicRules
from ..domain.scheduling import Scheduler
from ..domain.tenancy import Reach
from .ports import MessageLog, Messages, PatientRecords


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member, from the identity token's claims (the care workflow and
    patient links act without a reach of their own: their records are bound to the run's or
    the link's organization)."""

    user_id: str
    name: str
    groups: frozenset[str]
    reach: Reach | None = None


# The care workflow acts in its own name when it changes an appointment (a missed check-in);
# a patient's link acts in the patient's.
WORKFLOW_ACTOR = Actor(user_id="care-workflow", name="Care workflow", groups=frozenset())
PATIENT_LINK_ACTOR = Actor(user_id="patient-link", name="Patient (reminder link)", groups=frozenset())
WAITLIST_ACTOR = Actor(user_id="patient-link", name="Patient (waitlist offer)", groups=frozenset())

# A change that loses a race with another writer is re-read and re-applied this many times.
ATTEMPTS = 3
T = TypeVar("T")
Clock = Callable[[], datetime]


@dataclass(eq=False)
class ClinicUseCase:
    """What every use case of a clinic reads: the rules, a clinic's configuration (cached by
    usecases/configuration.py) and the clock. Each adds the ports it needs as fields."""

    rules: ClinicRules
    clinic: Callable[[str], Clinic]
    clock: Clock


def utc_now() -> datetime:
    return datetime.now(UTC)


def system_clock() -> datetime:
    """Looks utc_now up at call time, so the local stack and the tests can move the clock."""
    return utc_now().astimezone(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def retry_on_stale(attempt: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """Runs `attempt` (read, change, conditional write) again when it lost a race, then
    gives up with a 409 naming `what`."""
    for _ in range(attempts):
        try:
            return attempt()
        except StaleRecord:
            continue
    raise retry_exhausted(what)


def retry_exhausted(what: str) -> Conflict:
    return Conflict(f"{what} keeps changing; reload it and try again")


@contextmanager
def taken_in_clinic_time(scheduler: Scheduler) -> Iterator[None]:
    """Restates a taken grain in the clinic's own time, the way the front desk reads it."""
    try:
        yield
    except SlotTaken as taken:
        raise in_clinic_time(taken, scheduler) from taken


def in_clinic_time(taken: SlotTaken, scheduler: Scheduler) -> Conflict:
    local = taken.at.astimezone(scheduler.clinic.profile.zone)
    return Conflict(f"the {taken.kind} is already booked at {local:%H:%M} on {local:%Y-%m-%d}")


def audit_entry(
    appointment: Appointment, action: Action, actor: Actor, from_status: Status | None, now: datetime, reason: str | None = None
) -> AuditEntry:
    return AuditEntry(
        appointment_id=appointment.appointment_id,
        at=now,
        action=action,
        actor_id=actor.user_id,
        actor_name=actor.name,
        from_status=from_status,
        to_status=appointment.status,
        reason=reason,
    )


def known_patient(patients: PatientRecords, patient_id: str) -> Patient:
    patient = patients.get_patient(patient_id)
    if patient is None:
        raise NotFound("no such patient: check the patient id")
    return patient


def page_once(
    messages: Messages, log: MessageLog, clock: Clock, clinic: Clinic, appointment_id: str, key: str, subject: str, text: str
) -> None:
    """Pages the appointment's clinic's on-call about it once per `key` (a re-run does not page
    again). A refused pager passes the page down the clinic's chain; the flag or task it is
    about stays on the clinic's alerts whoever gets it."""
    if log.message_sent(appointment_id, key):
        return
    body = f"{subject}: {text} Appointment {appointment_id}."
    for _, pager in chain_pagers(clinic):
        try:
            messages.to_pager(pager, body)
            break
        except Undeliverable:
            continue
    else:  # nobody could be paged: the step fails, so the run is flagged and the operator alarmed
        raise Undeliverable("nobody on the clinic's escalation chain could be paged")
    log.record_message(appointment_id, key, "page", clock())


def page_each(messages: Messages, pagers: list[str], text: str) -> None:
    """The same page to each of `pagers`; one that refuses does not stop the others."""
    for pager in pagers:
        try:
            messages.to_pager(pager, text)
        except Undeliverable:
            continue