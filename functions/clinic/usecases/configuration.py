"""The practice admin's use cases: a clinic's profile, chairs and providers. Every other
use case reads a clinic through `clinic` (which the adapter may cache)."""

from __future__ import annotations

from ..domain.errors import InvalidRequest, NotFound
from ..domain.escalations import check_chain
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
        known = self.records.load_clinic(profile.clinic_id)
        providers = known.providers if known else {}
        unknown = [f"escalationChain[{n}]" for n, p in enumerate(profile.escalation_chain) if p not in providers]
        if unknown:
            raise InvalidRequest("escalationChain", f"not providers of this clinic: {', '.join(unknown)} (add them first)")
        if profile.rems_certified or profile.escalation_chain:
            # Spravato needs someone to page; a chain, once named, must reach everyone on it.
            check_chain(Clinic(profile=profile, chairs={}, providers=providers))
        self.records.save_clinic_profile(profile)
        return profile

    def save_chair(self, clinic_id: str, chair: Chair) -> Chair:
        self.clinic(clinic_id)
        self.records.save_chair(clinic_id, chair)
        return chair

    def save_provider(self, clinic_id: str, provider: Provider) -> Provider:
        clinic = self.clinic(clinic_id)
        if provider.provider_id in clinic.profile.escalation_chain and not (provider.pager and provider.active):
            raise InvalidRequest("pager", "this provider is on the clinic's escalation chain, which needs an active provider with a pager")
        self.records.save_provider(clinic_id, provider)
        return provider
