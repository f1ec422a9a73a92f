"""Demo data: two practices. The demo practice has a clinic with chairs, providers, an
escalation chain, two patients and a day of appointments; the other practice has a clinic
and a patient of its own, so signing in as each shows that neither sees the other."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from clinic.composition import UseCases, Wiring
from clinic.domain.patients import PatientDetails
from clinic.domain.resources import Chair, ClinicProfile, Provider, TimeRange
from clinic.domain.staff import StaffAuditEntry, StaffMember
from clinic.domain.tenancy import Reach, clinics_claim
from clinic.usecases.kernel import Actor

from .identity import DEMO_USERS

DEMO_ORGANIZATION = "demo-practice"
DEMO_CLINIC = "demo"
OTHER_ORGANIZATION = "other-practice"
OTHER_CLINIC = "lakeside"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {day: [TimeRange(start=time(7, 0), end=time(20, 0))] for day in WEEK}


def seed(wiring: Wiring) -> None:
    demo = wiring.for_reach(Reach(DEMO_ORGANIZATION))
    _staff(demo, DEMO_ORGANIZATION, "Demo Ketamine Practice")
    _clinic(demo, DEMO_CLINIC, "Demo Ketamine Clinic", pagers=("+15555550301", "+15555550302", "+15555550303"))
    seeder = Actor(user_id="local-seed", name="demo-data", groups=frozenset({"admin"}), reach=Reach(DEMO_ORGANIZATION))
    patients = [
        _patient(demo, given, family, birth, phone)
        for given, family, birth, phone in [
            ("Jordan", "Demo", "1985-02-11", "+15555550111"),
            ("Casey", "Example", "1979-09-30", "+15555550122"),
        ]
    ]
    zone = demo.configuration.clinic(DEMO_CLINIC).profile.zone
    tomorrow = (demo.appointments.clock().astimezone(zone) + timedelta(days=1)).date()
    for n, (patient, hour, kind) in enumerate([(patients[0], 9, "spravato"), (patients[1], 10, "iv-ketamine")], start=1):
        demo.bookings.book(
            seeder,
            clinic_id=DEMO_CLINIC,
            patient_id=patient,
            session_type=kind,
            chair_id=f"chair-{n}",
            provider_id="nurse-lee",
            start=datetime.combine(tomorrow, time(hour, 0), tzinfo=zone),
        )
    other = wiring.for_reach(Reach(OTHER_ORGANIZATION))
    _staff(other, OTHER_ORGANIZATION, "Other Practice")
    _clinic(other, OTHER_CLINIC, "Lakeside Wellness", pagers=("+15555550401", "+15555550402", "+15555550403"))
    _patient(other, "Riley", "Other", "1990-06-15", "+15555550144")


def _staff(uses: UseCases, organization_id: str, name: str) -> None:
    """The practice's record and its staff list: the demo users' accounts exist in the local
    user pool already, so their records are written as an invite would have left them."""
    uses.staff.create_organization(name)
    now = uses.appointments.clock()
    for username, user in DEMO_USERS.items():
        if user.organization != organization_id:
            continue
        clinics = clinics_claim(user.clinics)
        member = StaffMember(
            username=username, email=f"{username}@{organization_id}.example", given_name=username.title(),
            family_name="Demo", role=user.role, clinics=None if clinics is None else sorted(clinics),
            invite_id=f"demo-{username}", changed_at=now,
        )
        entry = StaffAuditEntry(
            username=username, version=1, at=now, action="invited", actor_id="local-seed", actor_name="demo-data",
            after=member.access,
        )
        uses.staff.records.save_staff_member(None, member, entry)


def _clinic(uses: UseCases, clinic_id: str, name: str, pagers: tuple[str, str, str]) -> None:
    profile = ClinicProfile(clinic_id=clinic_id, name=name, time_zone=uses.rules.default_time_zone, opening_hours=HOURS)
    uses.configuration.save_clinic_profile(profile)  # Spravato once its on-call chain is in place
    for n in range(1, 5):
        uses.configuration.save_chair(clinic_id, Chair(chair_id=f"chair-{n}", name=f"Chair {n}"))
    on_call, nurse, lead = pagers
    providers = [
        Provider(provider_id="nurse-lee", name="Nurse Lee", role="nurse", capacity=3, working_hours=HOURS, pager=nurse),
        Provider(provider_id="dr-okafor", name="Dr Okafor", role="prescriber", capacity=2, working_hours=HOURS, pager=on_call),
        Provider(provider_id="dr-lead", name="Dr Lead", role="prescriber", capacity=1, working_hours=HOURS, pager=lead),
    ]
    for provider in providers:
        uses.configuration.save_provider(clinic_id, provider)
    # Safety pages go to the on-call prescriber, then the nurse, then the clinic lead.
    chain = ["dr-okafor", "nurse-lee", "dr-lead"]
    uses.configuration.save_clinic_profile(profile.model_copy(update={"escalation_chain": chain, "rems_certified": True}))


def _patient(uses: UseCases, given: str, family: str, birth: str, phone: str) -> str:
    details = PatientDetails(
        given_name=given,
        family_name=family,
        birth_date=birth,
        phone=phone,
        emergency_contact={"name": "Emergency Contact", "phone": "+15555550199"},
        rems_enrolled=True,
    )
    return uses.bookings.register_patient(details).patient_id
