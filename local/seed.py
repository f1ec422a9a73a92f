"""Demo data: a clinic with chairs and providers, two patients and a day of appointments."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from clinic.domain.patients import PatientDetails
from clinic.domain.resources import Chair, ClinicProfile, Provider, TimeRange
from clinic.service import Actor, ClinicService

DEMO_CLINIC = "demo"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEEDER = Actor(user_id="local-seed", name="demo-data", groups=frozenset({"admin"}))


def seed(service: ClinicService) -> None:
    hours = {day: [TimeRange(start=time(7, 0), end=time(20, 0))] for day in WEEK}
    service.save_clinic_profile(
        ClinicProfile(
            clinic_id=DEMO_CLINIC,
            name="Demo Ketamine Clinic",
            time_zone=service.rules.default_time_zone,
            opening_hours=hours,
            rems_certified=True,
        )
    )
    for n in range(1, 5):
        service.save_chair(DEMO_CLINIC, Chair(chair_id=f"chair-{n}", name=f"Chair {n}"))
    service.save_provider(DEMO_CLINIC, Provider(provider_id="nurse-lee", name="Nurse Lee", role="nurse", capacity=3, working_hours=hours))
    service.save_provider(DEMO_CLINIC, Provider(provider_id="dr-okafor", name="Dr Okafor", role="prescriber", capacity=2, working_hours=hours))
    patients = [
        service.register_patient(
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
    zone = service.clinic(DEMO_CLINIC).profile.zone
    tomorrow = (datetime.now(zone) + timedelta(days=1)).date()
    for n, (patient, hour, kind) in enumerate([(patients[0], 9, "spravato"), (patients[1], 10, "iv-ketamine")], start=1):
        service.book(
            SEEDER,
            clinic_id=DEMO_CLINIC,
            patient_id=patient.patient_id,
            session_type=kind,
            chair_id=f"chair-{n}",
            provider_id="nurse-lee",
            start=datetime.combine(tomorrow, time(hour, 0), tzinfo=zone),
        )
