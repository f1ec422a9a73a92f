"""Clinic configuration and patients."""

from __future__ import annotations

from ...domain.errors import AlreadyExists
from ...domain.patient_search import SearchTerm, index_terms
from ...domain.patients import Patient
from ...domain.resources import Chair, Clinic, ClinicProfile, Provider
from .table import TableAccess, from_item, to_item


class ClinicTable(TableAccess):
    """A clinic's profile, chairs and providers; patients."""

    def load_clinic(self, clinic_id: str) -> Clinic | None:
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
        self._call(self.table.put_item, Item=to_item(profile, pk=f"CLINIC#{profile.clinic_id}", sk="PROFILE", type="clinic"))

    def save_chair(self, clinic_id: str, chair: Chair) -> None:
        self._call(self.table.put_item, Item=to_item(chair, pk=f"CLINIC#{clinic_id}", sk=f"CHAIR#{chair.chair_id}", type="chair"))

    def save_provider(self, clinic_id: str, provider: Provider) -> None:
        item = to_item(provider, pk=f"CLINIC#{clinic_id}", sk=f"PROVIDER#{provider.provider_id}", type="provider")
        self._call(self.table.put_item, Item=item)

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
            raise AlreadyExists(f"patient {patient.patient_id!r} already exists")

    def patient_ids(self, term: SearchTerm) -> list[str]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": "PATIENT-INDEX", ":prefix": f"{term.by}#{term.value}"},
        )
        return list(dict.fromkeys(item["patientId"] for item in items))

    def get_patient(self, patient_id: str) -> Patient | None:
        item = self._call(self.table.get_item, Key={"pk": f"PATIENT#{patient_id}", "sk": "PROFILE"}).get("Item")
        return Patient.model_validate(from_item(item)) if item else None
