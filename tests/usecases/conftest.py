"""The use-case tier: the real use cases wired by the real composition root to in-memory
fakes of their ports (tests/support/fakes.py). No moto, no boto3: the rules of booking,
re-runs and lost races in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from clinic.composition import UseCases, use_cases
from clinic.domain.appointments import Appointment
from clinic.domain.patients import EmergencyContact, Patient, PatientDetails
from clinic.domain.resources import Chair, ClinicProfile, Provider, TimeRange
from clinic.domain.rules import ClinicRules
from clinic.usecases.kernel import Actor

from tests.support.fakes import InMemoryRecords, RecordingAccounts, RecordingEngine, RecordingMessages

CLINIC = "north"
ZONE = ZoneInfo("America/New_York")
NOW = datetime(2027, 2, 24, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
MONDAY = datetime(2027, 3, 1).date()
DESK = Actor(user_id="sub-desk", name="desk", groups=frozenset({"front-desk"}))
PRESCRIBER_PAGER = "+15555550301"
NURSE_PAGER = "+15555550302"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def at(hour: int, minute: int = 0) -> datetime:
    """That time on the test Monday, in the clinic's zone."""
    return datetime.combine(MONDAY, time(hour, minute), tzinfo=ZONE)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Clinic:
    uses: UseCases
    records: InMemoryRecords
    engine: RecordingEngine
    messages: RecordingMessages
    clock: Clock

    def patient(self, patient_id: str = "p1", *, rems_enrolled: bool = True) -> Patient:
        details = PatientDetails(
            given_name="Alex",
            family_name="Rivera",
            birth_date="1980-04-02",
            phone="+15555550100",
            emergency_contact=EmergencyContact(name="Sam Rivera", phone="+15555550101"),
            rems_enrolled=rems_enrolled,
        )
        # p1, p2, ... are different people with the same details: the desk confirmed each is new.
        return self.uses.bookings.register_patient(details, patient_id=patient_id, confirmed_new=True)

    def book(self, start: datetime, *, patient: str = "p1", chair: str = "chair-1", provider: str = "nurse-a", **more: str) -> Appointment:
        return self.uses.bookings.book(
            DESK, clinic_id=CLINIC, patient_id=patient, session_type="spravato", chair_id=chair, provider_id=provider, start=start, **more
        )


@pytest.fixture
def clinic() -> Clinic:
    """A REMS-certified clinic open all week 08:00-18:00 with two chairs, a nurse who
    supervises two patients at once and a prescriber; the clock stands at NOW."""
    records, engine, messages, clock = InMemoryRecords(), RecordingEngine(), RecordingMessages(), Clock(NOW)
    accounts = RecordingAccounts()
    uses = use_cases(
        ClinicRules(), records, engine, lambda: messages, lambda: accounts, organization_id="practice-a", patient_link_base_url="https://clinic.example/patient", clock=clock
    )
    world = Clinic(uses, records, engine, messages, clock)
    hours = {day: [TimeRange(start=time(8), end=time(18))] for day in WEEK}
    configuration = world.uses.configuration
    profile = ClinicProfile(clinic_id=CLINIC, name="North", time_zone=ZONE.key, opening_hours=hours)
    configuration.save_clinic_profile(profile)
    for n in (1, 2):
        configuration.save_chair(CLINIC, Chair(chair_id=f"chair-{n}", name=f"Chair {n}"))
    nurse = Provider(provider_id="nurse-a", name="Nurse A", role="nurse", capacity=2, working_hours=hours, pager=NURSE_PAGER)
    configuration.save_provider(CLINIC, nurse)
    prescriber = Provider(provider_id="dr-b", name="Dr B", role="prescriber", capacity=1, working_hours=hours, pager=PRESCRIBER_PAGER)
    configuration.save_provider(CLINIC, prescriber)
    # Spravato and follow-up surveys need someone to page: the prescriber on call, then the nurse.
    configuration.save_clinic_profile(profile.model_copy(update={"rems_certified": True, "escalation_chain": ["dr-b", "nurse-a"]}))
    return world
