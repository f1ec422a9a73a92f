"""The practice admin's use cases: a clinic's profile, chairs and providers. Every other
use case reads a clinic through `clinic`, which a warm environment caches."""

from __future__ import annotations

import time

from ..domain.errors import InvalidRequest, NotFound
from ..domain.resources import Chair, Clinic, ClinicProfile, Provider
from .ports import ClinicRecords


class ClinicConfiguration:
    def __init__(self, records: ClinicRecords, cache_seconds: float = 0):
        self.records = records
        # Clinic configuration changes rarely and every request reads it: a warm environment
        # keeps it this long. Conflicts never depend on it (DynamoDB's conditions decide).
        self._cache_seconds = cache_seconds
        self._clinics: dict[str, tuple[float, Clinic]] = {}

    def clinic(self, clinic_id: str) -> Clinic:
        cached = self._clinics.get(clinic_id)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        clinic = self.records.load_clinic(clinic_id)
        if clinic is None:
            raise NotFound(f"no clinic {clinic_id!r}")
        self._clinics[clinic_id] = (time.monotonic(), clinic)
        return clinic

    def save_clinic_profile(self, profile: ClinicProfile) -> ClinicProfile:
        if profile.escalation_chain:
            known = self.records.load_clinic(profile.clinic_id)
            unknown = [p for p in profile.escalation_chain if known is None or p not in known.providers]
            if unknown:
                raise InvalidRequest("escalationChain", f"not providers of this clinic: {', '.join(unknown)} (add them first)")
        self.records.save_clinic_profile(profile)
        self._clinics.pop(profile.clinic_id, None)
        return profile

    def save_chair(self, clinic_id: str, chair: Chair) -> Chair:
        self.clinic(clinic_id)
        self.records.save_chair(clinic_id, chair)
        self._clinics.pop(clinic_id, None)
        return chair

    def save_provider(self, clinic_id: str, provider: Provider) -> Provider:
        self.clinic(clinic_id)
        self.records.save_provider(clinic_id, provider)
        self._clinics.pop(clinic_id, None)
        return provider
