"""The practice admin's accounting of access to patients' records (HIPAA): written by the
API for every read of a patient's record, answers, scores or FHIR export."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.access import AccessEntry
from .kernel import Actor, Clock
from .ports import AccessRecords


@dataclass
class AccessLog:
    records: AccessRecords
    clock: Clock

    def record(self, actor: Actor, patient_ids: list[str], route: str, request_id: str) -> None:
        """One entry for each patient a request showed, written together."""
        now = self.clock()
        entries = [
            AccessEntry(patient_id=patient_id, staff_id=actor.user_id, staff_name=actor.name, route=route, at=now, request_id=request_id)
            for patient_id in patient_ids
        ]
        if entries:
            self.records.record_accesses(entries)

    def of_patient(self, patient_id: str) -> list[AccessEntry]:
        return self.records.accesses_of_patient(patient_id)

    def by_staff(self, staff_id: str) -> list[AccessEntry]:
        return self.records.accesses_by_staff(staff_id)
