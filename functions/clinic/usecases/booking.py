"""The front desk's bookings: register a patient, book, reschedule, cancel. A cancellation
offers the freed time to the waitlist once it has landed (`offer_freed_time`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..domain.appointments import (
    Action,
    Appointment,
    AuditEntry,
    Status,
    Workflow,
    attention_after,
    next_status,
)
from ..domain.errors import AlreadyExists, InvalidRequest, PossibleDuplicate, SlotTaken
from ..domain.patient_search import by_name, duplicate_lookups, same_person
from ..domain.patients import Patient, PatientDetails
from ..domain.scheduling import Claim, Scheduler
from .appointments import AppointmentStore, Change, StatusChanges, WorkflowRuns, claims_of, too_close
from .kernel import Actor, ClinicUseCase, audit_entry, in_clinic_time, new_id, taken_in_clinic_time
from .ports import AppointmentRecords, PatientRecords


@dataclass(frozen=True)
class NewBooking:
    """What creating one appointment writes."""

    appointment: Appointment
    claims: list[Claim]
    audit: AuditEntry


def new_booking(
    scheduler: Scheduler,
    actor: Actor,
    session_type: str,
    patient_id: str,
    chair_id: str,
    provider_id: str,
    start: datetime,
    now: datetime,
    *,
    course_id: str | None = None,
    field_prefix: str = "",
    appointment_id: str | None = None,
) -> NewBooking:
    """A new appointment checked against every rule that does not depend on what is booked
    (`session_type` already checked with Scheduler.bookable)."""
    kind = scheduler.rules.session_types[session_type]
    chair = scheduler.chair(chair_id, f"{field_prefix}chairId")
    provider = scheduler.provider(provider_id, f"{field_prefix}providerId")
    block = scheduler.check_start(start, kind, now, f"{field_prefix}start")
    scheduler.check_provider_hours(provider, block, f"{field_prefix}providerId")
    appointment = Appointment(
        appointment_id=appointment_id or new_id(),
        clinic_id=scheduler.clinic.profile.clinic_id,
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
        course_id=course_id,
    )
    return NewBooking(appointment, claims_of(scheduler, appointment), audit_entry(appointment, Action.BOOK, actor, None, now))


def write_booking(records: AppointmentRecords, scheduler: Scheduler, booking: NewBooking, schedule_version: int | None = None) -> None:
    """Writes the booking in one transaction; a taken chair or provider is a 409 in clinic time."""
    requires_rems = scheduler.rules.session_types[booking.appointment.session_type].requires_rems
    with taken_in_clinic_time(scheduler):
        records.create_appointment(
            booking.appointment, booking.claims, booking.audit, requires_rems=requires_rems, schedule_version=schedule_version
        )


@dataclass(eq=False)
class Bookings(ClinicUseCase):
    patients: PatientRecords
    store: AppointmentStore
    runs: WorkflowRuns
    status: StatusChanges
    offer_freed_time: Callable[[Appointment], object]

    def register_patient(self, details: PatientDetails, patient_id: str | None = None, *, confirmed_new: bool = False) -> Patient:
        """`patient_id`, when given, makes a repeated request find its own patient instead of
        registering the same person twice. Someone who may already be registered (same name
        and birth date, or same phone) is refused naming them, unless `confirmed_new`."""
        patient = Patient(patient_id=patient_id or new_id(), **details.model_dump())
        if not confirmed_new:
            self._refuse_possible_duplicates(patient)
        try:
            self.patients.create_patient(patient)
        except AlreadyExists:
            existing = self.patients.get_patient(patient.patient_id)
            if existing != patient:
                raise
            return existing
        return patient

    def _refuse_possible_duplicates(self, patient: Patient) -> None:
        ids = {i for term in duplicate_lookups(patient) for i in self.patients.patient_ids(term)} - {patient.patient_id}
        existing = [p for p in (self.patients.get_patient(i) for i in sorted(ids)) if p is not None]
        duplicates = [p for p in existing if same_person(patient, p)]
        if duplicates:
            raise PossibleDuplicate(by_name(duplicates))

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
        appointment_id: str | None = None,
    ) -> Appointment:
        """`appointment_id`, when given, makes a repeated request find its own booking."""
        scheduler = Scheduler(self.rules, self.clinic(clinic_id))
        scheduler.bookable(session_type)
        now = self.clock()
        booking = new_booking(
            scheduler, actor, session_type, patient_id, chair_id, provider_id, start, now, appointment_id=appointment_id
        )
        # Read before the spacing check: a session of the patient placed meanwhile (another
        # desk, the same second) makes this booking's transaction fail instead of both passing.
        seen = self.store.records.patient_schedule_version(patient_id)
        self._check_spacing(scheduler, booking.appointment)
        try:
            write_booking(self.store.records, scheduler, booking, schedule_version=seen)
        except AlreadyExists:
            existing = self.store.get(booking.appointment.appointment_id)
            wanted = (patient_id, booking.appointment.start, booking.appointment.chair_id, booking.appointment.provider_id)
            if (existing.patient_id, existing.start, existing.chair_id, existing.provider_id) != wanted:
                raise
            return self.runs.start(existing, now)  # started already, or not if the first try died before
        return self.runs.start(booking.appointment, now)

    def reschedule(
        self, actor: Actor, appointment_id: str, *, start: datetime, chair_id: str | None, provider_id: str | None
    ) -> Appointment:
        schedulers: list[Scheduler] = []  # the clinic the appointment was read in, to word a conflict

        def decide(before: Appointment, now: datetime) -> Change:
            scheduler = Scheduler(self.rules, self.clinic(before.clinic_id))
            schedulers.append(scheduler)
            next_status(before, Action.RESCHEDULE, now, scheduler.local_date(now).isoformat())
            kind = scheduler.session_type(before.session_type)
            chair = scheduler.chair(chair_id or before.chair_id)
            provider = scheduler.provider(provider_id or before.provider_id)
            block = scheduler.check_start(start, kind, now)
            scheduler.check_provider_hours(provider, block)
            update = {
                "chair_id": chair.chair_id,
                "provider_id": provider.provider_id,
                "start": block.start,
                "end": block.end,
                "local_date": scheduler.local_date(block.start).isoformat(),
                "attention": attention_after(before, Action.RESCHEDULE),
                "confirmation": None,  # the patient confirmed the old time, not this one
                # The new times need a new execution; the old run ends itself if stopping it fails.
                "workflow": Workflow(run=before.workflow.run + 1),
            }
            moved = before.model_copy(update=update)
            seen = self.store.records.patient_schedule_version(before.patient_id)
            self._check_spacing(scheduler, moved)
            old, new = claims_of(scheduler, before), claims_of(scheduler, moved)
            old_grains = {grain for grain, _ in old}
            new_grains = {grain for grain, _ in new}
            # A grain both blocks share stays held; touching it twice would also break the transaction.
            claims = [(grain, capacity) for grain, capacity in new if grain not in old_grains]
            return Change(
                update, Action.RESCHEDULE, actor, claims=claims, releases=sorted(old_grains - new_grains), schedule_version=seen
            )

        try:
            before, after = self.store.change(appointment_id, decide)
        except SlotTaken as taken:
            raise in_clinic_time(taken, schedulers[-1]) from taken
        assert after is not None  # decide always changes it
        after = self.runs.start(after, self.clock())
        self.runs.stop(before)
        return after

    def cancel(self, actor: Actor, appointment_id: str, reason: str) -> Appointment:
        """Cancels the appointment (releasing its time, stopping its run), then offers the
        freed time to the waitlist: a failure there costs the offer, never the cancellation."""
        cancelled = self.status.apply(actor, appointment_id, Action.CANCEL, reason=reason)
        self.offer_freed_time(cancelled)
        return cancelled

    def _check_spacing(self, scheduler: Scheduler, appointment: Appointment) -> None:
        problem = too_close(
            self.store.records, scheduler, appointment.patient_id, appointment.session_type, appointment.start,
            ignoring=appointment.appointment_id,
        )
        if problem:
            raise InvalidRequest("start", problem)
