"""Use cases of the front desk and the clinic admin. Takes its repository and clock as
arguments (ports), so the rules run the same against DynamoDB, moto or an in-memory fake."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Protocol

from .domain.appointments import (
    RELEASING,
    Action,
    Appointment,
    AuditEntry,
    Cancellation,
    Status,
    is_late_cancellation,
    next_status,
)
from .domain.errors import Conflict, InvalidRequest, NotFound, SlotTaken
from .domain.patients import Patient, PatientDetails
from .domain.resources import Chair, Clinic, ClinicProfile, Provider
from .domain.rules import ClinicRules
from .domain.scheduling import AvailableSlot, Block, Grain, Scheduler, grains_for

Claim = tuple[Grain, int]  # a grain and the capacity of its resource


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member, from the identity token's claims."""

    user_id: str
    name: str
    groups: frozenset[str]


class Repository(Protocol):
    def load_clinic(self, clinic_id: str) -> Clinic | None: ...
    def save_clinic_profile(self, profile: ClinicProfile) -> None: ...
    def save_chair(self, clinic_id: str, chair: Chair) -> None: ...
    def save_provider(self, clinic_id: str, provider: Provider) -> None: ...
    def occupancy(self, clinic_id: str, day: date) -> dict[Grain, int]: ...
    def create_patient(self, patient: Patient) -> None: ...
    def get_patient(self, patient_id: str) -> Patient | None: ...
    def create_appointment(self, appointment: Appointment, claims: list[Claim], audit: AuditEntry) -> None: ...
    def get_appointment(self, appointment_id: str) -> Appointment | None: ...
    def change_appointment(
        self,
        before: Appointment,
        after: Appointment,
        claims: list[Claim],
        releases: list[Grain],
        audit: AuditEntry,
    ) -> None: ...
    def board(self, clinic_id: str, day: date) -> list[Appointment]: ...
    def patient_appointments(self, patient_id: str) -> list[Appointment]: ...
    def audit_trail(self, appointment_id: str) -> list[AuditEntry]: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def _explained(scheduler: Scheduler) -> Iterator[None]:
    """Restates a taken grain in the clinic's own time, the way the front desk reads it."""
    try:
        yield
    except SlotTaken as taken:
        local = taken.at.astimezone(scheduler.clinic.profile.zone)
        raise Conflict(
            f"{taken.kind} {taken.resource_id!r} is already booked at {local:%H:%M} on {local:%Y-%m-%d}"
        ) from taken


class ClinicService:
    def __init__(self, rules: ClinicRules, repository: Repository, clock: Callable[[], datetime] | None = None):
        self.rules = rules
        self.repository = repository
        self._clock = clock

    def clock(self) -> datetime:
        # Looked up at call time, so the local stack can run a faster clock.
        return self._clock() if self._clock else utc_now()

    # --- configuration -------------------------------------------------------------
    def clinic(self, clinic_id: str) -> Clinic:
        clinic = self.repository.load_clinic(clinic_id)
        if clinic is None:
            raise NotFound(f"no clinic {clinic_id!r}")
        return clinic

    def save_clinic_profile(self, profile: ClinicProfile) -> ClinicProfile:
        self.repository.save_clinic_profile(profile)
        return profile

    def save_chair(self, clinic_id: str, chair: Chair) -> Chair:
        self.clinic(clinic_id)
        self.repository.save_chair(clinic_id, chair)
        return chair

    def save_provider(self, clinic_id: str, provider: Provider) -> Provider:
        self.clinic(clinic_id)
        self.repository.save_provider(clinic_id, provider)
        return provider

    # --- reads ---------------------------------------------------------------------
    def availability(self, clinic_id: str, day: date, session_type: str) -> tuple[Clinic, list[AvailableSlot]]:
        """The clinic (for its time zone) and the day's free starts, from one configuration read."""
        clinic = self.clinic(clinic_id)
        scheduler = Scheduler(self.rules, clinic)
        kind = scheduler.session_type(session_type)
        now = self.clock()
        if day < scheduler.local_date(now):
            raise InvalidRequest("date", "is in the past")
        return clinic, scheduler.availability(day, kind, self.repository.occupancy(clinic_id, day), now)

    def board(self, clinic_id: str, day: date) -> list[Appointment]:
        self.clinic(clinic_id)
        return self.repository.board(clinic_id, day)

    def appointment(self, appointment_id: str) -> Appointment:
        appointment = self.repository.get_appointment(appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment {appointment_id!r}")
        return appointment

    def audit_trail(self, appointment_id: str) -> list[AuditEntry]:
        self.appointment(appointment_id)
        return self.repository.audit_trail(appointment_id)

    def patient(self, patient_id: str) -> Patient:
        patient = self.repository.get_patient(patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id!r}")
        return patient

    def patient_appointments(self, patient_id: str) -> list[Appointment]:
        self.patient(patient_id)
        return self.repository.patient_appointments(patient_id)

    # --- changes -------------------------------------------------------------------
    def register_patient(self, details: PatientDetails) -> Patient:
        patient = Patient(patient_id=new_id(), **details.model_dump())
        self.repository.create_patient(patient)
        return patient

    def book(
        self,
        actor: Actor,
        *,
        clinic_id: str,
        patient_id: str,
        session_type: str,
        chair_id: str,
        provider_id: str,
        start: datetime,
    ) -> Appointment:
        scheduler = Scheduler(self.rules, self.clinic(clinic_id))
        kind = scheduler.session_type(session_type)
        chair = scheduler.chair(chair_id)
        provider = scheduler.provider(provider_id)
        now = self.clock()
        block = scheduler.check_start(start, kind, now)
        scheduler.check_provider_hours(provider, block)
        if self.repository.get_patient(patient_id) is None:
            raise InvalidRequest("patientId", f"no patient {patient_id!r}")
        appointment = Appointment(
            appointment_id=new_id(),
            clinic_id=clinic_id,
            patient_id=patient_id,
            session_type=session_type,
            chair_id=chair.chair_id,
            provider_id=provider.provider_id,
            start=block.start,
            end=block.end,
            local_date=scheduler.local_date(block.start).isoformat(),
            status=Status.BOOKED,
            version=1,
            created_at=now,
            updated_at=now,
        )
        claims = self._claims(scheduler, appointment)
        audit = self._audit(appointment, Action.BOOK, actor, None, now)
        with _explained(scheduler):
            self.repository.create_appointment(appointment, claims, audit)
        return appointment

    def reschedule(
        self, actor: Actor, appointment_id: str, *, start: datetime, chair_id: str | None, provider_id: str | None
    ) -> Appointment:
        before = self.appointment(appointment_id)
        scheduler = Scheduler(self.rules, self.clinic(before.clinic_id))
        now = self.clock()
        next_status(before, Action.RESCHEDULE, now, scheduler.local_date(now).isoformat())
        kind = scheduler.session_type(before.session_type)
        chair = scheduler.chair(chair_id or before.chair_id)
        provider = scheduler.provider(provider_id or before.provider_id)
        block = scheduler.check_start(start, kind, now)
        scheduler.check_provider_hours(provider, block)
        after = before.model_copy(
            update={
                "chair_id": chair.chair_id,
                "provider_id": provider.provider_id,
                "start": block.start,
                "end": block.end,
                "local_date": scheduler.local_date(block.start).isoformat(),
                "version": before.version + 1,
                "updated_at": now,
            }
        )
        old, new = self._claims(scheduler, before), self._claims(scheduler, after)
        old_grains = {grain for grain, _ in old}
        new_grains = {grain for grain, _ in new}
        # A grain both blocks share stays held; touching it twice would also break the transaction.
        claims = [(grain, capacity) for grain, capacity in new if grain not in old_grains]
        releases = sorted(old_grains - new_grains)
        audit = self._audit(after, Action.RESCHEDULE, actor, before.status, now, reason=None)
        with _explained(scheduler):
            self.repository.change_appointment(before, after, claims, releases, audit)
        return after

    def check_in(self, actor: Actor, appointment_id: str) -> Appointment:
        return self._transition(actor, appointment_id, Action.CHECK_IN)

    def no_show(self, actor: Actor, appointment_id: str) -> Appointment:
        return self._transition(actor, appointment_id, Action.NO_SHOW)

    def cancel(self, actor: Actor, appointment_id: str, reason: str) -> Appointment:
        return self._transition(actor, appointment_id, Action.CANCEL, reason=reason)

    # --- internals -----------------------------------------------------------------
    def _transition(self, actor: Actor, appointment_id: str, action: Action, reason: str | None = None) -> Appointment:
        before = self.appointment(appointment_id)
        scheduler = Scheduler(self.rules, self.clinic(before.clinic_id))
        now = self.clock()
        target = next_status(before, action, now, scheduler.local_date(now).isoformat())
        if target is None:
            return before  # already done: a repeated click changes nothing
        update: dict[str, object] = {"status": target, "version": before.version + 1, "updated_at": now}
        if action is Action.CHECK_IN:
            update["checked_in_at"] = now
        if action is Action.CANCEL:
            late = is_late_cancellation(before, now, self.rules.late_cancellation_hours)
            update["cancellation"] = Cancellation(reason=reason or "", late=late, at=now)
        after = before.model_copy(update=update)
        releases = [grain for grain, _ in self._claims(scheduler, before)] if target in RELEASING else []
        audit = self._audit(after, action, actor, before.status, now, reason=reason)
        self.repository.change_appointment(before, after, [], releases, audit)
        return after

    def _claims(self, scheduler: Scheduler, appointment: Appointment) -> list[Claim]:
        capacity = {"chair": 1, "provider": scheduler.provider_capacity(appointment.provider_id)}
        block = Block(appointment.start, appointment.end)
        grains = grains_for(block, appointment.chair_id, appointment.provider_id, self.rules.grain)
        return [(grain, capacity[grain.kind]) for grain in grains]

    @staticmethod
    def _audit(
        appointment: Appointment,
        action: Action,
        actor: Actor,
        from_status: Status | None,
        now: datetime,
        reason: str | None = None,
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
