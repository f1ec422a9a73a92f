"""The practice admin's accounting of access to patients' records (HIPAA): written by the
API for every read of a patient's record, answers, scores or FHIR export."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.access import AccessEntry
from ..domain.errors import NotPermitted
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

    def of_patient(self, actor: Actor, patient_id: str) -> list[AccessEntry]:
        _check_reads_the_log(actor)
        return self.records.accesses_of_patient(patient_id)

    def by_staff(self, actor: Actor, staff_id: str) -> list[AccessEntry]:
        _check_reads_the_log(actor)
        return self.records.accesses_by_staff(staff_id)


def _check_reads_the_log(actor: Actor) -> None:
    """The log is the practice's, across its clinics (whose staff an admin of some clinics
    does not see): its privacy officer's, an admin of every clinic."""
    if actor.reach is None or not actor.reach.every_clinic:
        raise NotPermitted("clinics", "the access log spans the practice: only an admin of every clinic reads it")
