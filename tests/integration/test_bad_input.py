"""Bad input gets a 4xx JSON error naming the field, and writes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support import conformance
from tests.support.world import CLINIC, World, at, clinic_day, patient_details


def booking(patient_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "clinicId": CLINIC,
        "patientId": patient_id,
        "sessionType": "spravato",
        "chairId": "chair-1",
        "providerId": "nurse-a",
        "start": at(clinic_day(), 9).isoformat(),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


DAY = clinic_day()
CASES = [
    ("malformed JSON", "{not json", 400, "body"),
    ("wrong type", {"start": 12345}, 422, "start"),
    ("missing field", {"chairId": None}, 422, "chairId"),
    ("unknown field", {"colour": "blue"}, 422, "body"),  # named by where it is, not by what was sent
    ("unknown chair", {"chairId": "chair-99"}, 422, "chairId"),
    ("unknown provider", {"providerId": "dr-nobody"}, 422, "providerId"),
    ("unknown session type", {"sessionType": "ketamine-lozenge"}, 422, "sessionType"),
    ("date in the past", {"start": at(clinic_day(-2), 9).isoformat()}, 422, "start"),
    ("no UTC offset", {"start": datetime(DAY.year, DAY.month, DAY.day, 9).isoformat()}, 422, "start"),
    ("off the 15-minute step", {"start": at(DAY, 9, 7).isoformat()}, 422, "start"),
    ("outside opening hours", {"start": at(DAY, 17).isoformat()}, 422, "start"),
    ("unknown patient", {"patientId": "no-such-patient"}, 422, "patientId"),
    ("unknown clinic", {"clinicId": "south"}, 404, None),
]


@pytest.mark.parametrize(("case", "change", "status", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_booking_is_refused_and_changes_nothing(clinic: World, case: str, change: Any, status: int, field: str | None) -> None:
    patient = clinic.register_patient()
    before = clinic.items()
    body = change if isinstance(change, str) else json.dumps(booking(patient["patientId"], **change))
    reply = clinic.call("POST", "/appointments", body, headers={"Idempotency-Key": f"bad-{abs(hash(case))}"})
    assert reply.status == status, reply.body
    assert reply.body["message"]
    if field:
        assert field in [f["field"] for f in reply.body["fields"]], reply.body
    assert clinic.items() == before


def test_missing_idempotency_key_is_refused(clinic: World) -> None:
    patient = clinic.register_patient()
    before = clinic.items()
    reply = clinic.call("POST", "/appointments", booking(patient["patientId"]))
    assert reply.status == 422
    assert reply.body["fields"] == [
        {"field": "Idempotency-Key", "problem": "header is required on requests that create something (a fresh UUID per request)"}
    ]
    assert clinic.items() == before


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"phone": "555-0100", "email": None}, "phone", "Enter the phone number with its country code, for example +1 555 010 0199"),
        ({"birthDate": "2999-01-01"}, "birthDate", "must be a past date after 1900"),
        ({"phone": None}, "body", "give a phone number or an email address so follow-ups can reach the patient"),
        ({"emergencyContact": {"name": "Sam"}}, "emergencyContact.phone", "is required"),
        ({"givenName": ""}, "givenName", "is required"),
        ({"birthDate": "02/04/1980"}, "birthDate", "must be a date, for example 2026-12-31"),
        ({"remsEnrolled": "yes"}, "remsEnrolled", "must be true or false"),
        ({"treatingPtsd": 1}, "treatingPtsd", "must be true or false"),
        ({"familyName": "Rivera\u0007\nDROP"}, "familyName", "must not contain control characters such as line breaks or tabs"),
    ],
)
def test_bad_patient_is_refused_in_plain_words_and_changes_nothing(clinic: World, change: dict[str, Any], field: str, problem: str) -> None:
    details = patient_details(**change)
    before = clinic.items()
    reply = clinic.call("POST", "/patients", details, headers={"Idempotency-Key": "bad-patient-key"})
    assert reply.status == 422, reply.body
    assert {"field": field, "problem": problem} in reply.body["fields"], reply.body
    assert "Alex" not in json.dumps(reply.body) and "555-0100" not in json.dumps(reply.body)  # nothing sent is echoed
    assert clinic.items() == before


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"sessionType": "spravato"}, 422, "date"),
        ({"date": "tomorrow", "sessionType": "spravato"}, 422, "date"),
        ({"date": (clinic_day() - timedelta(days=9)).isoformat(), "sessionType": "spravato"}, 422, "date"),
        ({"date": clinic_day().isoformat(), "sessionType": "nope"}, 422, "sessionType"),
    ],
)
def test_bad_availability_queries(clinic: World, query: dict[str, str], status: int, field: str) -> None:
    reply = clinic.call("GET", f"/clinics/{CLINIC}/availability", query=query)
    assert reply.status == status, reply.body
    assert field in [f["field"] for f in reply.body["fields"]]


def test_provider_hours_ending_before_they_start_are_refused(clinic: World) -> None:
    before = clinic.items()
    hours = {"mon": [{"start": "17:00", "end": "08:00"}]}
    reply = clinic.call("PUT", f"/clinics/{CLINIC}/providers/nurse-z", {"name": "Z", "role": "nurse", "workingHours": hours}, role="admin")
    assert reply.status == 422
    assert reply.body["fields"][0]["field"] == "workingHours.mon.0"
    assert "end must be after start" in reply.body["fields"][0]["problem"]
    assert clinic.items() == before


def test_unknown_time_zone_is_refused(clinic: World) -> None:
    reply = clinic.call("PUT", "/clinics/south", {"name": "South", "timeZone": "Mars/Olympus", "openingHours": {}}, role="admin")
    assert reply.status == 422
    assert reply.body["fields"][0]["field"] == "timeZone"


def test_the_openapi_document_says_which_routes_need_an_idempotency_key(shared_clinic: World) -> None:
    """A client written outside the project learns from the document alone that these seven
    creates need the header, and that they may answer 409 request_in_progress. (The world
    gives the API its environment: the document is built from the running resolver.)"""
    document = conformance.document()
    needing = sorted(
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key" and p["required"] for p in operation.get("parameters", []))
    )
    assert needing == [
        "POST /appointments",
        "POST /appointments/{appointment_id}/vitals",
        "POST /clinics/{clinic_id}/waitlist",
        "POST /courses",
        "POST /courses/{course_id}/sessions",
        "POST /patients",
        "POST /staff",
    ]
    booking = document["paths"]["/appointments"]["post"]["responses"]["409"]["description"]
    assert "request_in_progress" in booking
