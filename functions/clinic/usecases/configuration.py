"""The practice admin's use cases: a clinic's profile, chairs and providers. Every other
use case reads a clinic through `clinic` (which the adapter may cache)."""

from __future__ import annotations

from ..domain.errors import InvalidRequest, NotFound
from ..domain.resources import Chair, Clinic, ClinicProfile, Provider
from .ports import ClinicRecords


class ClinicConfiguration:
    def __init__(self, records: ClinicRecords):
        self.records = records

    def clinic(self, clinic_id: str) -> Clinic:
        clinic = self.records.load_clinic(clinic_id)
        if clinic is None:
            raise NotFound("no such clinic: check the clinic id")
        return clinic

    def save_clinic_profile(self, profile: ClinicProfile) -> ClinicProfile:
        if profile.escalation_chain:
            known = self.records.load_clinic(profile.clinic_id)
            unknown = [p for p in profile.escalation_chain if known is None or p not in known.providers]
            if unknown:
                raise InvalidRequest("escalationChain", f"not providers of this clinic: {', '.join(unknown)} (add them first)")
        self.records.save_clinic_profile(profile)
        return profile

    def save_chair(self, clinic_id: str, chair: Chair) -> Chair:
        self.clinic(clinic_id)
        self.records.save_chair(clinic_id, chair)
        return chair

    def save_provider(self, clinic_id: str, provider: Provider) -> Provider:
        self.clinic(clinic_id)
        self.records.save_provider(clinic_id, provider)
        return provider
