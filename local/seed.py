"""Demo data: a clinic with chairs and providers, two patients and a day of appointments."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from clinic.domain.patients import PatientDetails
from clinic.domain.resources import Chair, ClinicProfile, Provider, TimeRange
from clinic.composition import UseCases
from clinic.usecases.kernel import Actor

DEMO_CLINIC = "demo"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEEDER = Actor(user_id="local-seed", name="demo-data", groups=frozenset({"admin"}))


def seed(uses: UseCases) -> None:
    hours = {day: [TimeRange(start=time(7, 0), end=time(20, 0))] for day in WEEK}
    profile = ClinicProfile(
        clinic_id=DEMO_CLINIC,
        name="Demo Ketamine Clinic",
        time_zone=uses.rules.default_time_zone,
        opening_hours=hours,
        rems_certified=True,
    )
    uses.configuration.save_clinic_profile(profile)
    for n in range(1, 5):
        uses.configuration.save_chair(DEMO_CLINIC, Chair(chair_id=f"chair-{n}", name=f"Chair {n}"))
    providers = [
        Provider(provider_id="nurse-lee", name="Nurse Lee", role="nurse", capacity=3, working_hours=hours, pager="+15555550302"),
        Provider(provider_id="dr-okafor", name="Dr Okafor", role="prescriber", capacity=2, working_hours=hours, pager="+15555550301"),
        Provider(provider_id="dr-lead", name="Dr Lead", role="prescriber", capacity=1, working_hours=hours, pager="+15555550303"),
    ]
    for provider in providers:
        uses.configuration.save_provider(DEMO_CLINIC, provider)
    # Safety pages go to the on-call prescriber, then the nurse, then the clinic lead.
    uses.configuration.save_clinic_profile(profile.model_copy(update={"escalation_chain": ["dr-okafor", "nurse-lee", "dr-lead"]}))
    patients = [
        uses.bookings.register_patient(
            PatientDetails(
                given_name=given,
                family_name=family,
                birth_date=birth,
                phone=phone,
                emergency_contact={"name": "Emergency Contact", "phone": "+15555550199"},
                rems_enrolled=True,
            )
        )
        for given, family, birth, phone in [
            ("Jordan", "Demo", "1985-02-11", "+15555550111"),
            ("Casey", "Example", "1979-09-30", "+15555550122"),
        ]
    ]
    zone = uses.configuration.clinic(DEMO_CLINIC).profile.zone
    tomorrow = (uses.appointments.clock().astimezone(zone) + timedelta(days=1)).date()
    for n, (patient, hour, kind) in enumerate([(patients[0], 9, "spravato"), (patients[1], 10, "iv-ketamine")], start=1):
        uses.bookings.book(
            SEEDER,
            clinic_id=DEMO_CLINIC,
            patient_id=patient.patient_id,
            session_type=kind,
            chair_id=f"chair-{n}",
            provider_id="nurse-lee",
            start=datetime.combine(tomorrow, time(hour, 0), tzinfo=zone),
        )
