"""Clinic configuration and patients."""

from __future__ import annotations

import threading
import time

from ...domain.errors import AlreadyExists
from ...domain.patient_search import SearchTerm, index_terms
from ...domain.patients import Patient
from ...domain.resources import Chair, Clinic, ClinicProfile, Provider
from .table import TableAccess, from_item, to_item


class ClinicCache:
    """Clinic configuration changes rarely and every request reads it: a warm environment
    keeps it this long, by scoped partition key (so after the reach check, and never across
    organizations). Conflicts never depend on it (DynamoDB's conditions decide)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._clinics: dict[str, tuple[float, Clinic]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Clinic | None:
        with self._lock:
            cached = self._clinics.get(key)
        if cached is None or time.monotonic() - cached[0] >= self.seconds:
            return None
        return cached[1]

    def put(self, key: str, clinic: Clinic) -> None:
        with self._lock:
            self._clinics[key] = (time.monotonic(), clinic)

    def drop(self, key: str) -> None:
        with self._lock:
            self._clinics.pop(key, None)


class ClinicTable(TableAccess):
    """A clinic's profile, chairs and providers; patients."""

    clinic_cache = ClinicCache(0)  # nothing kept, unless the repository is given a cache

    def load_clinic(self, clinic_id: str) -> Clinic | None:
        scoped = self._keys.partition(f"CLINIC#{clinic_id}")  # refuses a clinic outside reach first
        cached = self.clinic_cache.get(scoped)
        if cached is not None:
            return cached
        clinic = self._read_clinic(clinic_id)
        if clinic is not None:
            self.clinic_cache.put(scoped, clinic)
        return clinic

    def _read_clinic(self, clinic_id: str) -> Clinic | None:
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"CLINIC#{clinic_id}"})
        profile = None
        chairs: dict[str, Chair] = {}
        providers: dict[str, Provider] = {}
        for item in items:
            kind = item["type"]
            if kind == "clinic":
                profile = ClinicProfile.model_validate(from_item(item))
            elif kind == "chair":
                chair = Chair.model_validate(from_item(item))
                chairs[chair.chair_id] = chair
            elif kind == "provider":
                provider = Provider.model_validate(from_item(item))
                providers[provider.provider_id] = provider
        if profile is None:
            return None
        return Clinic(profile=profile, chairs=chairs, providers=providers)

    def save_clinic_profile(self, profile: ClinicProfile) -> None:
        self._save_configuration(profile.clinic_id, to_item(profile, sk="PROFILE", type="clinic"))

    def save_chair(self, clinic_id: str, chair: Chair) -> None:
        self._save_configuration(clinic_id, to_item(chair, sk=f"CHAIR#{chair.chair_id}", type="chair"))

    def save_provider(self, clinic_id: str, provider: Provider) -> None:
        self._save_configuration(clinic_id, to_item(provider, sk=f"PROVIDER#{provider.provider_id}", type="provider"))

    def _save_configuration(self, clinic_id: str, item: dict[str, object]) -> None:
        partition = f"CLINIC#{clinic_id}"
        self._call(self.table.put_item, Item={**item, "pk": partition})
        self.clinic_cache.drop(self._keys.partition(partition))

    def create_patient(self, patient: Patient) -> None:
        """The patient and its index entries (names, birth date, phone; each carries only the
        id), in one transaction: a patient is findable exactly when it exists."""
        item = to_item(patient, pk=f"PATIENT#{patient.patient_id}", sk="PROFILE", type="patient")
        entries = [
            {"Put": {"TableName": self.name, "Item": {
                "pk": "PATIENT-INDEX", "sk": f"{term.by}#{term.value}#{patient.patient_id}",
                "type": "patient-index", "patientId": patient.patient_id,
            }}}
            for term in index_terms(patient)
        ]
        if self._transact([self._versioned_put(item, None), *entries]) is not None:
            raise AlreadyExists("a patient with this id already exists")

    def patient_ids(self, term: SearchTerm) -> list[str]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": "PATIENT-INDEX", ":prefix": f"{term.by}#{term.value}"},
        )
        return list(dict.fromkeys(item["patientId"] for item in items))

    def get_patient(self, patient_id: str) -> Patient | None:
        item = self._call(self.table.get_item, Key={"pk": f"PATIENT#{patient_id}", "sk": "PROFILE"}).get("Item")
        return Patient.model_validate(from_item(item)) if item else None
