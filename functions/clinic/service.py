"""Use cases of the front desk and the clinic admin. Takes its repository and clock as
arguments (ports), so the rules run the same against DynamoDB, moto or an in-memory fake."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from .domain.appointments import (
    RELEASING,
    SCHEDULED,
    Action,
    Appointment,
    AuditEntry,
    Cancellation,
    Confirmation,
    PhaseView,
    Status,
    Workflow,
    attention_after,
    attention_after_vitals,
    attention_raised,
    is_late_cancellation,
    next_status,
    phase_of,
    raise_attention,
    resolved,
)
from .domain.care import (
    CLOCK_SKEW,
    Attention,
    AttentionKind,
    BloodPressure,
    Checklist,
    Discharge,
    Dose,
    Measurements,
    Override,
    RemsForm,
    Vitals,
    assemble_rems_form,
    check_discharge,
    check_dose,
    due_soon,
    released_after_discharge,
)
from .domain.errors import (
    AlreadyExists,
    Conflict,
    IllegalTransition,
    InvalidRequest,
    LinkGone,
    LinkInvalid,
    NotFound,
    SlotTaken,
    StaleRecord,
    TemporarilyUnavailable,
)
from .domain.links import Link, LinkKind, digest
from .domain.patients import Patient, PatientDetails
from .domain.resources import Chair, Clinic, ClinicProfile, Provider
from .domain.courses import spacing_problem
from .domain.rules import ClinicRules, SessionType
from .domain.scheduling import AvailableSlot, Block, Grain, Scheduler, grains_for
from .domain.workflow import Step, current, execution_input, progress

Claim = tuple[Grain, int]  # a grain and the capacity of its resource


@dataclass(frozen=True)
class Booking:
    """What creating one appointment writes."""

    appointment: Appointment
    claims: list[Claim]
    audit: AuditEntry


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member, from the identity token's claims."""

    user_id: str
    name: str
    groups: frozenset[str]


# The care workflow acts in its own name when it changes an appointment (a missed check-in).
WORKFLOW_ACTOR = Actor(user_id="care-workflow", name="Care workflow", groups=frozenset())
PATIENT_LINK_ACTOR = Actor(user_id="patient-link", name="Patient (reminder link)", groups=frozenset())
# A change that loses a race with another writer is re-read and re-applied this many times.
ATTEMPTS = 3
T = TypeVar("T")


def retry_on_stale(attempt: Callable[[], T], what: str) -> T:
    """Runs `attempt` (read, change, conditional write) again when it lost a race."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except StaleRecord:
            continue
    raise Conflict(f"{what} keeps changing; reload it and try again")


class Repository(Protocol):
    def load_clinic(self, clinic_id: str) -> Clinic | None: ...
    def save_clinic_profile(self, profile: ClinicProfile) -> None: ...
    def save_chair(self, clinic_id: str, chair: Chair) -> None: ...
    def save_provider(self, clinic_id: str, provider: Provider) -> None: ...
    def occupancy(self, clinic_id: str, day: date) -> dict[Grain, int]: ...
    def create_patient(self, patient: Patient) -> None: ...
    def get_patient(self, patient_id: str) -> Patient | None: ...
    def create_appointment(
        self, appointment: Appointment, claims: list[Claim], audit: AuditEntry, *, requires_rems: bool = False
    ) -> None: ...
    def get_appointment(self, appointment_id: str) -> Appointment | None: ...
    def change_appointment(
        self,
        before: Appointment,
        after: Appointment,
        claims: list[Claim],
        releases: list[Grain],
        audit: AuditEntry | None,
        *,
        form: RemsForm | None = None,
        consumed_link: tuple[str, datetime] | None = None,
    ) -> None: ...
    def get_link(self, link_digest: str) -> Link | None: ...
    def board(self, clinic_id: str, day: date) -> list[Appointment]: ...
    def patient_appointments(self, patient_id: str) -> list[Appointment]: ...
    def audit_trail(self, appointment_id: str) -> list[AuditEntry]: ...
    def add_vitals(self, appointment: Appointment, vitals: Vitals) -> None: ...
    def vitals(self, appointment_id: str) -> list[Vitals]: ...
    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]: ...
    def submit_rems_form(self, appointment_id: str, by: str, at: datetime) -> RemsForm: ...
    def save_link(self, link: Link) -> None: ...
    def message_sent(self, appointment_id: str, key: str) -> bool: ...
    def record_message(self, appointment_id: str, key: str, channel: str, at: datetime) -> None: ...


class WorkflowEngine(Protocol):
    """The appointment's execution. Each method raises TemporarilyUnavailable when the
    engine cannot be reached; starting or stopping twice is harmless."""

    def start(self, name: str, payload: dict[str, Any]) -> None: ...
    def stop(self, name: str) -> None: ...
    def resume(self, token: str, output: dict[str, Any]) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def explained(scheduler: Scheduler) -> Iterator[None]:
    """Restates a taken grain in the clinic's own time, the way the front desk reads it."""
    try:
        yield
    except SlotTaken as taken:
        local = taken.at.astimezone(scheduler.clinic.profile.zone)
        raise Conflict(
            f"{taken.kind} {taken.resource_id!r} is already booked at {local:%H:%M} on {local:%Y-%m-%d}"
        ) from taken


class ClinicService:
    def __init__(
        self,
        rules: ClinicRules,
        repository: Repository,
        workflow: WorkflowEngine,
        clock: Callable[[], datetime] | None = None,
        config_cache_seconds: float = 0,
    ):
        self.rules = rules
        self.repository = repository
        self.workflow = workflow
        self._clock = clock
        # Clinic configuration changes rarely and every request reads it: a warm environment
        # keeps it this long. Conflicts never depend on it (DynamoDB's conditions decide).
        self._config_cache_seconds = config_cache_seconds
        self._clinics: dict[str, tuple[float, Clinic]] = {}
        # Called with each appointment a cancellation frees, after it has landed (the waitlist).
        self.cancel_listeners: list[Callable[[Appointment], None]] = []

    def clock(self) -> datetime:
        # Looked up at call time, so the local stack can run a faster clock. Stored times are UTC.
        return (self._clock() if self._clock else utc_now()).astimezone(UTC)

    # --- configuration -------------------------------------------------------------
    def clinic(self, clinic_id: str) -> Clinic:
        cached = self._clinics.get(clinic_id)
        if cached is not None and time.monotonic() - cached[0] < self._config_cache_seconds:
            return cached[1]
        clinic = self.repository.load_clinic(clinic_id)
        if clinic is None:
            raise NotFound(f"no clinic {clinic_id!r}")
        self._clinics[clinic_id] = (time.monotonic(), clinic)
        return clinic

    def save_clinic_profile(self, profile: ClinicProfile) -> ClinicProfile:
        if profile.escalation_chain:
            known = self.repository.load_clinic(profile.clinic_id)
            unknown = [p for p in profile.escalation_chain if known is None or p not in known.providers]
            if unknown:
                raise InvalidRequest("escalationChain", f"not providers of this clinic: {', '.join(unknown)} (add them first)")
        self.repository.save_clinic_profile(profile)
        self._clinics.pop(profile.clinic_id, None)
        return profile

    def save_chair(self, clinic_id: str, chair: Chair) -> Chair:
        self.clinic(clinic_id)
        self.repository.save_chair(clinic_id, chair)
        self._clinics.pop(clinic_id, None)
        return chair

    def save_provider(self, clinic_id: str, provider: Provider) -> Provider:
        self.clinic(clinic_id)
        self.repository.save_provider(clinic_id, provider)
        self._clinics.pop(clinic_id, None)
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

    def board(self, clinic_id: str, day: date) -> tuple[Clinic, list[Appointment]]:
        """The clinic (for its time zone) and the day's appointments."""
        return self.clinic(clinic_id), self.repository.board(clinic_id, day)

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

    def phase(self, appointment: Appointment) -> PhaseView:
        return phase_of(appointment, self.rules.session_types[appointment.session_type])

    def vitals(self, appointment_id: str) -> list[Vitals]:
        self.appointment(appointment_id)
        return self.repository.vitals(appointment_id)

    def submit_rems_form(self, actor: Actor, appointment_id: str) -> RemsForm:
        """Records who marked the form filed with the REMS, and when (the filing stays human)."""
        return self.repository.submit_rems_form(appointment_id, actor.name, self.clock())

    def rems_forms_due_soon(self, clinic_id: str) -> list[RemsForm]:
        today = self.clock().astimezone(self.clinic(clinic_id).profile.zone).date()
        return due_soon(self.rems_forms_due(clinic_id), today, self.rules.care.rems_form_alert_days)

    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]:
        self.clinic(clinic_id)
        return self.repository.rems_forms_due(clinic_id)

    # --- changes -------------------------------------------------------------------
    def register_patient(self, details: PatientDetails, patient_id: str | None = None) -> Patient:
        """`patient_id`, when given, makes a repeated request find its own patient instead of
        registering the same person twice."""
        patient = Patient(patient_id=patient_id or new_id(), **details.model_dump())
        try:
            self.repository.create_patient(patient)
        except AlreadyExists:
            existing = self.repository.get_patient(patient.patient_id)
            if existing != patient:
                raise
            return existing
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
        appointment_id: str | None = None,
    ) -> Appointment:
        """`appointment_id`, when given, makes a repeated request find its own booking."""
        scheduler = Scheduler(self.rules, self.clinic(clinic_id))
        kind = self.bookable_type(scheduler, session_type)
        now = self.clock()
        booking = self.new_booking(
            actor, scheduler, session_type, patient_id, chair_id, provider_id, start, now, appointment_id=appointment_id
        )
        self.check_spacing(scheduler, booking.appointment, field="start")
        try:
            with explained(scheduler):
                self.repository.create_appointment(
                    booking.appointment, booking.claims, booking.audit, requires_rems=kind.requires_rems
                )
        except AlreadyExists:
            existing = self.appointment(booking.appointment.appointment_id)
            wanted = (patient_id, booking.appointment.start, booking.appointment.chair_id, booking.appointment.provider_id)
            if (existing.patient_id, existing.start, existing.chair_id, existing.provider_id) != wanted:
                raise
            return self.start_workflow(existing, now)  # started already, or not if the first try died before
        return self.start_workflow(booking.appointment, now)

    def spacing_problem(
        self, scheduler: Scheduler, patient_id: str, session_type: str, start: datetime, ignoring: str | None = None
    ) -> str | None:
        """Why a session at `start` is too close to another of the patient's scheduled sessions
        (the session type's minimum spacing), or None. `ignoring` is the session being moved."""
        appointments = self.repository.patient_appointments(patient_id)
        others = [a.start for a in appointments if a.status in SCHEDULED and a.appointment_id != ignoring]
        return spacing_problem(start, others, self.rules.spacing(session_type), scheduler.clinic.profile.zone)

    def check_spacing(self, scheduler: Scheduler, appointment: Appointment, field: str) -> None:
        problem = self.spacing_problem(
            scheduler, appointment.patient_id, appointment.session_type, appointment.start, ignoring=appointment.appointment_id
        )
        if problem:
            raise InvalidRequest(field, problem)

    def bookable_type(self, scheduler: Scheduler, session_type: str, field: str = "sessionType") -> SessionType:
        kind = scheduler.session_type(session_type, field)
        if kind.requires_rems and not scheduler.clinic.profile.rems_certified:
            raise InvalidRequest("clinicId", f"this clinic is not REMS-certified: {kind.label} cannot be booked here")
        return kind

    def new_booking(
        self,
        actor: Actor,
        scheduler: Scheduler,
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
    ) -> Booking:
        """A new appointment checked against every rule that does not depend on what is booked
        (`session_type` already checked with bookable_type)."""
        kind = self.rules.session_types[session_type]
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
        return Booking(appointment, self.claims(scheduler, appointment), self._audit(appointment, Action.BOOK, actor, None, now))

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
        self.check_spacing(scheduler, before.model_copy(update={"start": block.start}), field="start")
        after = before.model_copy(
            update={
                "chair_id": chair.chair_id,
                "provider_id": provider.provider_id,
                "start": block.start,
                "end": block.end,
                "local_date": scheduler.local_date(block.start).isoformat(),
                "version": before.version + 1,
                "updated_at": now,
                "attention": attention_after(before, Action.RESCHEDULE),
                "confirmation": None,  # the patient confirmed the old time, not this one
                # The new times need a new execution; the old run ends itself if stopping it fails.
                "workflow": Workflow(run=before.workflow.run + 1),
            }
        )
        old, new = self.claims(scheduler, before), self.claims(scheduler, after)
        old_grains = {grain for grain, _ in old}
        new_grains = {grain for grain, _ in new}
        # A grain both blocks share stays held; touching it twice would also break the transaction.
        claims = [(grain, capacity) for grain, capacity in new if grain not in old_grains]
        releases = sorted(old_grains - new_grains)
        audit = self._audit(after, Action.RESCHEDULE, actor, before.status, now, reason=None)
        with explained(scheduler):
            self.repository.change_appointment(before, after, claims, releases, audit)
        after = self.start_workflow(after, now)
        self._stop_workflow(before)
        return after

    def check_in(self, actor: Actor, appointment_id: str) -> Appointment:
        return self._transition(actor, appointment_id, Action.CHECK_IN)

    def no_show(self, actor: Actor, appointment_id: str) -> Appointment:
        return self._transition(actor, appointment_id, Action.NO_SHOW)

    def cancel(self, actor: Actor, appointment_id: str, reason: str) -> Appointment:
        cancelled = self._transition(actor, appointment_id, Action.CANCEL, reason=reason)
        for listener in self.cancel_listeners:
            listener(cancelled)
        return cancelled

    # --- the session ---------------------------------------------------------------
    def record_dose(
        self,
        actor: Actor,
        appointment_id: str,
        *,
        pre_dose_blood_pressure: BloodPressure,
        started_at: datetime,
        dose_mg: float,
        device_count: int | None,
        lot_number: str | None,
        override_prescriber_id: str | None,
        override_reason: str | None,
    ) -> Appointment:
        for _ in range(ATTEMPTS):
            before = self.appointment(appointment_id)
            if before.dose is not None:
                if (before.dose.started_at, before.dose.dose_mg) == (started_at, dose_mg):
                    self._resume(before, Step.DOSE)  # a repeated click: nothing to write
                    return before
                raise IllegalTransition("a dose is already recorded for this appointment")
            if before.status is not Status.ARRIVED:
                raise IllegalTransition(f"cannot record a dose for an appointment that is {before.status.value}")
            clinic = self.clinic(before.clinic_id)
            now = self.clock()
            started_at = started_at.astimezone(UTC)
            check_dose(
                session_type=self.rules.session_types[before.session_type],
                checked_in_at=before.checked_in_at,
                pre_dose=pre_dose_blood_pressure,
                started_at=started_at,
                dose_mg=dose_mg,
                device_count=device_count,
                lot_number=lot_number,
                prescriber_ids={p.provider_id for p in clinic.providers.values() if p.role == "prescriber" and p.active},
                override_prescriber=override_prescriber_id,
                limit=self.rules.care.pre_dose_blood_pressure_limit,
                now=now,
            )
            override = None
            if override_prescriber_id is not None:
                override = Override(
                    prescriber_id=override_prescriber_id, reason=override_reason or "", recorded_by=actor.user_id, at=now
                )
            dose = Dose(
                pre_dose_blood_pressure=pre_dose_blood_pressure,
                started_at=started_at,
                dose_mg=dose_mg,
                device_count=device_count,
                lot_number=lot_number,
                override=override,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
            update = {
                "dose": dose,
                "attention": attention_after(before, Action.RECORD_DOSE),
                "version": before.version + 1,
                "updated_at": now,
            }
            after = before.model_copy(update=update)
            audit = self._audit(after, Action.RECORD_DOSE, actor, before.status, now, reason=override_reason)
            try:
                self.repository.change_appointment(before, after, [], [], audit)
            except StaleRecord:
                continue
            self._resume(after, Step.DOSE)
            return after
        raise Conflict("the appointment keeps changing; reload it and try again")

    def record_vitals(
        self, actor: Actor, appointment_id: str, measurements: Measurements, taken_at: datetime | None
    ) -> Vitals:
        appointment = self.appointment(appointment_id)
        if appointment.status is not Status.ARRIVED:
            raise IllegalTransition(f"cannot record vitals for an appointment that is {appointment.status.value}")
        now = self.clock()
        taken_at = taken_at.astimezone(UTC) if taken_at else now
        if taken_at > now + CLOCK_SKEW:
            raise InvalidRequest("takenAt", "is in the future")
        if appointment.checked_in_at and taken_at < appointment.checked_in_at - CLOCK_SKEW:
            raise InvalidRequest("takenAt", "is before the patient was checked in")
        vitals = Vitals(vitals_id=new_id(), taken_at=taken_at, recorded_by=actor.user_id, **dict(measurements))
        self.repository.add_vitals(appointment, vitals)
        limit = self.rules.care.post_dose_blood_pressure_limit
        self._change_attention(appointment_id, actor, lambda a: attention_after_vitals(a.attention, a.dose, vitals, limit))
        return vitals

    def discharge(
        self,
        actor: Actor,
        appointment_id: str,
        checklist: Checklist,
        adverse_events: str | None,
        ready_at: datetime | None = None,
    ) -> Appointment:
        for _ in range(ATTEMPTS):
            before = self.appointment(appointment_id)
            if before.discharge is not None:
                self._resume(before, Step.DISCHARGE)  # a repeated click: nothing to write
                return before
            clinic = self.clinic(before.clinic_id)
            scheduler = Scheduler(self.rules, clinic)
            session_type = self.rules.session_types[before.session_type]
            now = self.clock()
            next_status(before, Action.DISCHARGE, now, scheduler.local_date(now).isoformat())
            check_discharge(before.dose, session_type, checklist, now, clinic.profile.zone)
            assert before.dose is not None  # check_discharge refuses a session without one
            if ready_at is not None:
                ready_at = ready_at.astimezone(UTC)
                if not before.dose.started_at <= ready_at <= now + CLOCK_SKEW:
                    raise InvalidRequest("readyAt", "must be between the dose start and now")
            discharge = Discharge(
                at=now, by=actor.user_id, checklist=checklist, ready_at=ready_at, adverse_events=adverse_events
            )
            after = before.model_copy(
                update={
                    "status": Status.FULFILLED,
                    "discharge": discharge,
                    "attention": attention_after(before, Action.DISCHARGE),
                    "version": before.version + 1,
                    "updated_at": now,
                }
            )
            held = [grain for grain, _ in self.claims(scheduler, before)]
            free_from = set(released_after_discharge([g.at for g in held], now, session_type))
            releases = [grain for grain in held if grain.at in free_from]
            form = None
            if session_type.requires_rems:
                form = assemble_rems_form(
                    appointment_id=before.appointment_id,
                    clinic_id=before.clinic_id,
                    patient_id=before.patient_id,
                    session_date=date.fromisoformat(before.local_date),
                    session_type=session_type,
                    dose=before.dose,
                    discharge=discharge,
                    vitals=self.repository.vitals(appointment_id),
                    care=self.rules.care,
                    clinician_name=actor.name,
                )
            audit = self._audit(after, Action.DISCHARGE, actor, before.status, now)
            try:
                self.repository.change_appointment(before, after, [], releases, audit, form=form)
            except StaleRecord:
                continue
            self._resume(after, Step.DISCHARGE)
            return after
        raise Conflict("the appointment keeps changing; reload it and try again")

    def confirm_attendance(self, token: str, attending: bool, ride_arranged: bool) -> Appointment:
        """The patient's answer to a reminder's link; the link works once. An answer that
        needs the front desk (not coming, no ride home) flags the appointment."""
        now = self.clock()
        link = self.repository.get_link(digest(token))
        if link is None or link.kind is not LinkKind.CONFIRM:
            raise LinkInvalid("this link is not valid; please call the clinic")
        if link.used_at is not None:
            raise LinkGone("this link was already used; please call the clinic to change your answer")
        if now >= link.valid_until:
            raise LinkGone("this link has expired; please call the clinic")
        problem = None if attending else "the patient says they will not come"
        if attending and not ride_arranged:
            problem = "the patient has no ride home arranged"
        for _ in range(ATTEMPTS):
            before = self.appointment(link.appointment_id)
            if before.status is not Status.BOOKED:
                raise LinkGone("this appointment is no longer open; please call the clinic")
            if before.workflow.run != link.run:
                raise LinkGone("this appointment has moved; please use the link of the latest reminder")
            update: dict[str, Any] = {
                "confirmation": Confirmation(attending=attending, ride_arranged=ride_arranged, at=now),
                "version": before.version + 1,
                "updated_at": now,
            }
            update["attention"] = attention_after(before, Action.CONFIRM)
            if problem:
                flag = Attention(kind=AttentionKind.PATIENT_ANSWER, reason=f"{problem}: call them", since=now)
                update["attention"] = raise_attention(update["attention"], flag)
            after = before.model_copy(update=update)
            audit = self._audit(after, Action.CONFIRM, PATIENT_LINK_ACTOR, before.status, now, reason=problem)
            try:
                self.repository.change_appointment(before, after, [], [], audit, consumed_link=(link.digest, now))
                return after
            except StaleRecord:
                continue
        raise Conflict("the appointment keeps changing; try again")

    # --- what the care workflow does ------------------------------------------------
    def park(self, appointment_id: str, run: int, step: Step, token: str) -> dict[str, Any] | None:
        """Records that run `run` waits at `step` with `token`; returns the output to resume
        it with at once when the step is already done."""
        for _ in range(ATTEMPTS):
            before = current(self.repository.get_appointment(appointment_id), appointment_id, run)
            output = progress(before, step, self.rules)
            if output is not None:
                return output
            parked = Workflow(run=run, waiting_for=step.value, task_token=token)
            if before.workflow == parked:
                return None  # a re-run of the same park: already recorded
            after = before.model_copy(
                update={"workflow": parked, "version": before.version + 1}
            )
            try:
                self.repository.change_appointment(before, after, [], [], None)
                return None
            except StaleRecord:
                continue  # staff changed it meanwhile: look again, the step may be done now
        raise Conflict("the appointment keeps changing")

    def workflow_appointment(self, appointment_id: str, run: int) -> Appointment:
        """The appointment a step of run `run` acts on; raises AppointmentClosed or Superseded when that run must end."""
        return current(self.repository.get_appointment(appointment_id), appointment_id, run)

    def missed_check_in(self, appointment_id: str, run: int) -> bool:
        """At the end of the check-in grace: True if the patient arrived after all, else the
        appointment becomes a no-show (releasing the chair) and False."""
        stored = self.repository.get_appointment(appointment_id)
        if stored is not None and stored.status is Status.NOSHOW and stored.workflow.run == run:
            return False  # a re-run: this run already recorded the no-show
        appointment = current(stored, appointment_id, run)
        if appointment.checked_in_at is not None:
            return True
        try:
            after = self._transition(
                WORKFLOW_ACTOR, appointment_id, Action.NO_SHOW, reason="not checked in within the grace period"
            )
        except IllegalTransition:
            after = self.workflow_appointment(appointment_id, run)  # checked in at the last moment
        return after.checked_in_at is not None

    def needs_attention(self, appointment_id: str, kind: AttentionKind, reason: str) -> Appointment | None:
        """Flags the appointment for staff (idempotent: the same flag is written once)."""
        now = self.clock()
        new = Attention(kind=kind, reason=reason, since=now)
        return self._change_attention(appointment_id, WORKFLOW_ACTOR, lambda before: attention_raised(before, new))

    def resolve_attention(self, actor: Actor, appointment_id: str, note: str | None) -> Appointment:
        """Staff dealt with the appointment's flag: it leaves the board and the alerts, and the
        audit says who and when (a repeated click writes nothing)."""
        self.appointment(appointment_id)
        after = self._change_attention(appointment_id, actor, resolved, Action.RESOLVE, note or "resolved")
        return after or self.appointment(appointment_id)

    def _change_attention(
        self,
        appointment_id: str,
        actor: Actor,
        change: Callable[[Appointment], Attention | None],
        action: Action = Action.ATTENTION,
        reason: str | None = None,
    ) -> Appointment | None:
        """Sets the appointment's flag to `change(appointment)`; writes nothing when the flag
        (kind and reason) stays as it is. The audit's reason is `reason`, else the flag's."""
        for _ in range(ATTEMPTS):
            before = self.repository.get_appointment(appointment_id)
            if before is None:
                return None
            now = self.clock()
            attention = change(before)
            flag = (attention.kind, attention.reason) if attention else None
            if flag == ((before.attention.kind, before.attention.reason) if before.attention else None):
                return before
            after = before.model_copy(update={"attention": attention, "version": before.version + 1, "updated_at": now})
            why = reason or (attention.reason if attention else "settled")
            audit = self._audit(after, action, actor, before.status, now, reason=why)
            try:
                self.repository.change_appointment(before, after, [], [], audit)
                return after
            except StaleRecord:
                continue
        raise Conflict("the appointment keeps changing")

    # --- internals -----------------------------------------------------------------
    def start_workflow(self, appointment: Appointment, now: datetime) -> Appointment:
        try:
            self.workflow.start(appointment.execution_name, execution_input(appointment, self.rules, now))
            return appointment
        except TemporarilyUnavailable:
            # The booking stands; staff see why its reminders and callbacks will not run.
            flagged = self.needs_attention(
                appointment.appointment_id,
                AttentionKind.WORKFLOW,
                "the care workflow could not be started: reschedule to start it again",
            )
            return flagged or appointment

    def _stop_workflow(self, appointment: Appointment) -> None:
        try:
            self.workflow.stop(appointment.execution_name)
        except TemporarilyUnavailable:
            pass  # its next step finds the appointment closed or superseded and ends the run

    def _resume(self, appointment: Appointment, step: Step) -> None:
        token = appointment.workflow.task_token
        if appointment.workflow.waiting_for != step.value or token is None:
            return  # not parked there yet: it resumes itself when it arrives
        output = progress(appointment, step, self.rules)
        if output is None:
            return
        try:
            self.workflow.resume(token, output)
        except TemporarilyUnavailable:
            pass  # the step's timeout looks at the appointment again and moves on

    def _transition(self, actor: Actor, appointment_id: str, action: Action, reason: str | None = None) -> Appointment:
        for _ in range(ATTEMPTS):
            before = self.appointment(appointment_id)
            scheduler = Scheduler(self.rules, self.clinic(before.clinic_id))
            now = self.clock()
            target = next_status(before, action, now, scheduler.local_date(now).isoformat())
            if target is None:
                if action is Action.CHECK_IN:
                    self._resume(before, Step.CHECK_IN)
                return before  # already done: a repeated click changes nothing
            update: dict[str, object] = {
                "status": target,
                "attention": attention_after(before, action),
                "version": before.version + 1,
                "updated_at": now,
            }
            if action is Action.CHECK_IN:
                update["checked_in_at"] = now
            if action is Action.CANCEL:
                late = is_late_cancellation(before, now, self.rules.late_cancellation_hours)
                update["cancellation"] = Cancellation(reason=reason or "", late=late, at=now)
            after = before.model_copy(update=update)
            releases = [grain for grain, _ in self.claims(scheduler, before)] if target in RELEASING else []
            audit = self._audit(after, action, actor, before.status, now, reason=reason)
            try:
                self.repository.change_appointment(before, after, [], releases, audit)
            except StaleRecord:
                continue
            if target in RELEASING and actor is not WORKFLOW_ACTOR:  # the workflow ends its own run
                self._stop_workflow(after)
            else:
                self._resume(after, Step.CHECK_IN)
            return after
        raise Conflict("the appointment keeps changing; reload it and try again")

    def claims(self, scheduler: Scheduler, appointment: Appointment) -> list[Claim]:
        """Every grain the appointment holds, with its resource's capacity."""
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
