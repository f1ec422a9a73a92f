"""The front desk's day: free starts, the day board, an appointment and its audit trail,
a patient (found by name, birth date or phone) and their history, check-in and no-show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..domain.appointments import Action, Appointment, AuditEntry, resolved
from ..domain.errors import InvalidRequest
from ..domain.patient_search import by_name, search_term
from ..domain.patients import Patient
from ..domain.resources import Clinic
from ..domain.scheduling import AvailableSlot, Scheduler
from .appointments import AppointmentStore, StatusChanges
from .kernel import Actor, ClinicUseCase, known_patient
from .ports import PatientRecords

MATCHES_SHOWN = 20  # a search that finds more asks for more of the name, the birth date or the phone


@dataclass(eq=False)
class FrontDesk(ClinicUseCase):
    patients: PatientRecords
    store: AppointmentStore
    status: StatusChanges

    def availability(self, clinic_id: str, day: date, session_type: str) -> tuple[Clinic, list[AvailableSlot]]:
        """The clinic (for its time zone) and the day's free starts, from one configuration read."""
        clinic = self.clinic(clinic_id)
        scheduler = Scheduler(self.rules, clinic)
        kind = scheduler.session_type(session_type)
        now = self.clock()
        if day < scheduler.local_date(now):
            raise InvalidRequest("date", "is in the past")
        return clinic, scheduler.availability(day, kind, self.store.records.occupancy(clinic_id, day), now)

    def board(self, clinic_id: str, day: date) -> tuple[Clinic, list[Appointment]]:
        """The clinic (for its time zone) and the day's appointments."""
        return self.clinic(clinic_id), self.store.records.board(clinic_id, day)

    def appointment(self, appointment_id: str) -> Appointment:
        return self.store.get(appointment_id)

    def audit_trail(self, appointment_id: str) -> list[AuditEntry]:
        self.store.get(appointment_id)
        return self.store.records.audit_trail(appointment_id)

    def patient(self, patient_id: str) -> Patient:
        return known_patient(self.patients, patient_id)

    def find_patients(self, query: str) -> tuple[list[Patient], bool]:
        """Up to MATCHES_SHOWN patients whose name starts so, or born that day, or whose phone
        ends so; and whether there were more."""
        ids = self.patients.patient_ids(search_term(query))
        found = [p for p in (self.patients.get_patient(i) for i in ids[:MATCHES_SHOWN]) if p is not None]
        return by_name(found), len(ids) > MATCHES_SHOWN

    def patient_appointments(self, patient_id: str) -> list[Appointment]:
        self.patient(patient_id)
        return self.store.records.patient_appointments(patient_id)

    def check_in(self, actor: Actor, appointment_id: str) -> Appointment:
        return self.status.apply(actor, appointment_id, Action.CHECK_IN)

    def no_show(self, actor: Actor, appointment_id: str) -> Appointment:
        return self.status.apply(actor, appointment_id, Action.NO_SHOW)

    def resolve_attention(self, actor: Actor, appointment_id: str, note: str | None) -> Appointment:
        """Staff dealt with the appointment's flag: it leaves the board and the alerts, and the
        audit says who and when (a repeated click writes nothing)."""
        self.store.get(appointment_id)
        after = self.store.change_attention(
            appointment_id, actor, lambda appointment, _: resolved(appointment), Action.RESOLVE, note or "resolved"
        )
        return after or self.store.get(appointment_id)
