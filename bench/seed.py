"""Data for the benchmark: a clinic day of a given size written straight to the table, and
bookings over the local HTTP API."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import boto3
from clinic.adapters.dynamodb import DynamoRepository
from clinic.adapters.dynamodb.appointments import appointment_item, hold_key
from clinic.adapters.dynamodb.reach import ReachKeys
from clinic.domain.appointments import Appointment, Status
from clinic.domain.patients import Patient
from clinic.domain.resources import Chair, ClinicProfile, Provider, TimeRange
from clinic.domain.rules import ClinicRules
from clinic.domain.scheduling import Block, grains_for
from clinic.domain.tenancy import Reach

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STARTS = (time(8, 0), time(10, 30), time(13, 0), time(15, 30))  # four 150 min Spravato blocks a chair
PROVIDER_CAPACITY = 20


def seed_day(world: Any, clinic_id: str, day: date, size: int, organization: str) -> None:
    """`size` Spravato appointments on `day`, four to a chair, as bookings would leave them."""
    rules = ClinicRules()
    reach = ReachKeys(Reach(organization))
    repository = DynamoRepository(boto3.resource("dynamodb").Table(world.table_name), reach.reach)
    hours = {d: [TimeRange(start=time(7, 0), end=time(20, 0))] for d in WEEK}
    profile = ClinicProfile(
        clinic_id=clinic_id, name=clinic_id, time_zone="America/New_York", opening_hours=hours
    )
    repository.save_clinic_profile(profile)
    chairs = math.ceil(size / len(STARTS))
    for n in range(chairs):
        repository.save_chair(clinic_id, Chair(chair_id=f"chair-{n}", name=f"Chair {n}"))
    providers = math.ceil(chairs / PROVIDER_CAPACITY)
    for n in range(providers):
        provider = Provider(
            provider_id=f"nurse-{n}",
            name=f"Nurse {n}",
            role="nurse",
            capacity=PROVIDER_CAPACITY,
            working_hours=hours,
        )
        repository.save_provider(clinic_id, provider)
    patient = Patient(
        patient_id=f"bench-{clinic_id}",
        given_name="Bench",
        family_name="Patient",
        birth_date=date(1980, 1, 1),
        phone="+15555550100",
        emergency_contact={"name": "Contact", "phone": "+15555550101"},
    )
    repository.create_patient(patient)
    zone = profile.zone
    kind = rules.session_types["spravato"]
    created = datetime(2026, 1, 1, tzinfo=UTC)
    # Written in batches, as the bookings' transactions would have left them (moto copies the
    # whole table for every transaction, which makes thousands of them slow).
    holds: dict[tuple[str, str], set[str]] = {}
    table = repository.table
    with table.batch_writer() as batch:
        for n in range(size):
            chair, slot = divmod(n, len(STARTS))
            start = datetime.combine(day, STARTS[slot], tzinfo=zone).astimezone(UTC)
            appointment = Appointment(
                appointment_id=f"{clinic_id}-{n}",
                clinic_id=clinic_id,
                patient_id=patient.patient_id,
                session_type="spravato",
                chair_id=f"chair-{chair}",
                provider_id=f"nurse-{chair // PROVIDER_CAPACITY}",
                start=start,
                end=start + kind.block,
                local_date=day.isoformat(),
                status=Status.BOOKED,
                version=1,
                created_at=created,
                updated_at=created,
            )
            batch.put_item(Item=reach.keys(appointment_item(appointment)))
            for grain in grains_for(
                Block(appointment.start, appointment.end),
                appointment.chair_id,
                appointment.provider_id,
                rules.grain,
            ):
                key = hold_key(clinic_id, appointment.local_date, grain)
                holds.setdefault((key["pk"], key["sk"]), set()).add(appointment.appointment_id)
        for (pk, sk), holders in holds.items():
            batch.put_item(Item=reach.keys({"pk": pk, "sk": sk, "holders": holders}))
    assert timedelta(minutes=150) == kind.block  # the four starts above assume 150 min blocks


def sign_in(service: Any, username: str) -> str:
    request = urllib.request.Request(
        f"{service.url}/local/sign-in",
        data=json.dumps({"username": username, "password": "Demo-password-1!"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())["idToken"]


def call(
    service: Any, token: str, method: str, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{service.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": token, "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def register(service: Any, token: str, client: int) -> str:
    body = {
        "givenName": "Bench",
        "familyName": f"Client{client}",
        "birthDate": "1980-01-01",
        "phone": f"+1555556{client:04d}",  # each client its own patient: one phone would be a possible duplicate
        "emergencyContact": {"name": "Contact", "phone": "+15555550101"},
        "remsEnrolled": True,  # Spravato is booked only for enrolled patients
    }
    status, patient = call(
        service, token, "POST", "/patients", body, {"Idempotency-Key": f"bench-patient-{client:04d}"}
    )
    assert status == 201, patient
    return patient["patientId"]


def book_over_http(service: Any, token: str, patient_id: str, client: int, n: int) -> int:
    """Client `client` books its own day: booking n takes chair n+1 at 08:00 (the fifth, if any, 10:30)."""
    day = datetime.now(UTC).date() + timedelta(days=2 + client)
    start = datetime.combine(day, STARTS[0] if n < 4 else STARTS[1]).isoformat() + "-05:00"
    body = {
        "clinicId": "demo",
        "patientId": patient_id,
        "sessionType": "spravato",
        "chairId": f"chair-{n % 4 + 1}",
        "providerId": "dr-okafor" if n == 3 else "nurse-lee",
        "start": start,
    }
    status, _ = call(
        service, token, "POST", "/appointments", body, {"Idempotency-Key": f"bench-{client:04d}-{n}"}
    )
    return status
