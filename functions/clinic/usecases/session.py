"""The clinician's session: dose, vitals, discharge, and the REMS Patient Monitoring Form
it files. Each change resumes the care workflow waiting for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..domain.appointments import Action, Appointment, Status, attention_after, attention_after_vitals, next_status
from ..domain.care import (
    CLOCK_SKEW,
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
from ..domain.errors import IllegalTransition, InvalidRequest
from ..domain.scheduling import Scheduler
from ..domain.workflow import Step
from .appointments import AppointmentStore, Change, WorkflowRuns, claims_of
from .kernel import Actor, ClinicUseCase, new_id
from .ports import SessionRecords


@dataclass(eq=False)
class ClinicianSession(ClinicUseCase):
    records: SessionRecords
    store: AppointmentStore
    runs: WorkflowRuns

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
        started_at = started_at.astimezone(UTC)

        def decide(before: Appointment, now: datetime) -> Change | None:
            if before.dose is not None:
                if (before.dose.started_at, before.dose.dose_mg) == (started_at, dose_mg):
                    return None  # a repeated click: nothing to write
                raise IllegalTransition("a dose is already recorded for this appointment")
            if before.status is not Status.ARRIVED:
                raise IllegalTransition(f"cannot record a dose for an appointment that is {before.status.value}")
            clinic = self.clinic(before.clinic_id)
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
            update = {"dose": dose, "attention": attention_after(before, Action.RECORD_DOSE)}
            return Change(update, Action.RECORD_DOSE, actor, override_reason)

        before, after = self.store.change(appointment_id, decide)
        self.runs.resume(after or before, Step.DOSE)
        return after or before

    def record_vitals(
        self, actor: Actor, appointment_id: str, measurements: Measurements, taken_at: datetime | None
    ) -> Vitals:
        appointment = self.store.get(appointment_id)
        if appointment.status is not Status.ARRIVED:
            raise IllegalTransition(f"cannot record vitals for an appointment that is {appointment.status.value}")
        now = self.clock()
        taken_at = taken_at.astimezone(UTC) if taken_at else now
        if taken_at > now + CLOCK_SKEW:
            raise InvalidRequest("takenAt", "is in the future")
        if appointment.checked_in_at and taken_at < appointment.checked_in_at - CLOCK_SKEW:
            raise InvalidRequest("takenAt", "is before the patient was checked in")
        vitals = Vitals(vitals_id=new_id(), taken_at=taken_at, recorded_by=actor.user_id, **dict(measurements))
        self.records.add_vitals(appointment, vitals)
        limit = self.rules.care.post_dose_blood_pressure_limit
        self.store.change_attention(appointment_id, actor, lambda a, _: attention_after_vitals(a.attention, a.dose, vitals, limit))
        return vitals

    def vitals(self, appointment_id: str) -> tuple[Appointment, list[Vitals]]:
        """The session's readings, with the appointment they belong to (whose patient they are)."""
        return self.store.get(appointment_id), self.records.vitals(appointment_id)

    def discharge(
        self,
        actor: Actor,
        appointment_id: str,
        checklist: Checklist,
        adverse_events: str | None,
        ready_at: datetime | None = None,
    ) -> Appointment:
        def decide(before: Appointment, now: datetime) -> Change | None:
            if before.discharge is not None:
                return None  # a repeated click: nothing to write
            clinic = self.clinic(before.clinic_id)
            scheduler = Scheduler(self.rules, clinic)
            kind = self.rules.session_types[before.session_type]
            next_status(before, Action.DISCHARGE, now, scheduler.local_date(now).isoformat())
            check_discharge(before.dose, kind, checklist, now, clinic.profile.zone)
            assert before.dose is not None  # check_discharge refuses a session without one
            ready = ready_at.astimezone(UTC) if ready_at is not None else None
            if ready is not None and not before.dose.started_at <= ready <= now + CLOCK_SKEW:
                raise InvalidRequest("readyAt", "must be between the dose start and now")
            discharge = Discharge(at=now, by=actor.user_id, checklist=checklist, ready_at=ready, adverse_events=adverse_events)
            held = [grain for grain, _ in claims_of(scheduler, before)]
            free_from = set(released_after_discharge([g.at for g in held], now, kind))
            form = None
            if kind.requires_rems:
                form = assemble_rems_form(
                    appointment_id=before.appointment_id,
                    clinic_id=before.clinic_id,
                    patient_id=before.patient_id,
                    session_date=date.fromisoformat(before.local_date),
                    session_type=kind,
                    dose=before.dose,
                    discharge=discharge,
                    vitals=self.records.vitals(appointment_id),
                    care=self.rules.care,
                    clinician_name=actor.name,
                )
            update = {"status": Status.FULFILLED, "discharge": discharge, "attention": attention_after(before, Action.DISCHARGE)}
            releases = [grain for grain in held if grain.at in free_from]
            return Change(update, Action.DISCHARGE, actor, releases=releases, form=form)

        before, after = self.store.change(appointment_id, decide)
        self.runs.resume(after or before, Step.DISCHARGE)
        return after or before

    def rems_forms_due(self, clinic_id: str) -> list[RemsForm]:
        self.clinic(clinic_id)
        return self.records.rems_forms_due(clinic_id)

    def rems_forms_due_soon(self, clinic_id: str) -> list[RemsForm]:
        today = self.clock().astimezone(self.clinic(clinic_id).profile.zone).date()
        return due_soon(self.rems_forms_due(clinic_id), today, self.rules.care.rems_form_alert_days)

    def submit_rems_form(self, actor: Actor, appointment_id: str) -> RemsForm:
        """Records who marked the form filed with the REMS, and when (the filing stays human)."""
        return self.records.submit_rems_form(appointment_id, actor.name, self.clock())
