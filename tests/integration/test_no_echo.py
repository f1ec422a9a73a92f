"""Error messages name the field and the rule and never quote back a value sent (which may be
PHI, or tell a prober what it just guessed). Each request carries a marker in the value at
fault; the marker must appear nowhere in the reply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.world import CLINIC, World, at, clinic_day

MARK = "zqxmark"
START = at(clinic_day(4), 10)


def booking(patient_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "clinicId": CLINIC, "patientId": patient_id, "sessionType": "iv-ketamine", "chairId": "chair-1", "providerId": "nurse-a",
        "start": START.isoformat(), **changes,
    }


CASES: list[tuple[str, str, str, Any, int]] = [
    # (what, method, path, body (a callable of the patient id for bookings), status)
    ("session type", "POST", "/appointments", lambda p: booking(p, sessionType=f"{MARK}-type"), 422),
    ("chair", "POST", "/appointments", lambda p: booking(p, chairId=f"{MARK}-chair"), 422),
    ("provider", "POST", "/appointments", lambda p: booking(p, providerId=f"{MARK}-provider"), 422),
    ("patient", "POST", "/appointments", lambda p: booking(f"{MARK}-patient"), 422),
    ("clinic", "POST", "/appointments", lambda p: booking(p, clinicId=f"{MARK}-clinic"), 404),
    ("course template", "POST", "/courses/plan", lambda p: {
        "clinicId": CLINIC, "patientId": p, "template": f"{MARK}-template", "startDate": clinic_day(4).isoformat(),
        "preferredTimes": [{"weekday": "mon", "at": "09:00"}],
    }, 422),
    ("time zone", "PUT", f"/clinics/{CLINIC}", lambda p: {
        "name": "North", "timeZone": f"Zq/{MARK}", "openingHours": {"mon": [{"start": "08:00", "end": "18:00"}]},
    }, 422),
    ("appointment id", "GET", f"/appointments/{MARK}-appointment", None, 404),
    ("patient id", "GET", f"/patients/{MARK}-patient", None, 404),
    ("course id", "GET", f"/courses/{MARK}-course", None, 404),
    ("escalation id", "GET", f"/escalations/{MARK}-escalation", None, 404),
    ("task id", "POST", f"/tasks/{MARK}-task/complete", lambda p: {"note": "called"}, 404),
    ("clinic id", "GET", f"/clinics/{MARK}-clinic", None, 404),
    ("field name", "POST", "/patients/search", lambda p: {"text": "rivera", f"{MARK}Field": 1}, 422),
    ("nested field name", "POST", "/appointments", lambda p: {**booking(p), "dose": {f"{MARK}Field": 1}}, 422),
]


@pytest.mark.parametrize(("what", "method", "path", "body", "status"), CASES, ids=[c[0] for c in CASES])
def test_a_refusal_never_quotes_the_value_sent(clinic: World, what: str, method: str, path: str, body: Any, status: int) -> None:
    patient = clinic.register_patient()["patientId"]
    role = "clinician" if path.startswith("/tasks") else "admin"
    reply = clinic.call(method, path, body(patient) if body else None, role=role, headers={"Idempotency-Key": "no-echo-key-1"})
    assert reply.status == status, reply.body
    assert MARK not in json.dumps(reply.body), reply.body
    assert reply.body["message"]


def test_a_taken_chair_says_which_time_not_which_id(clinic: World) -> None:
    marked = f"{MARK}-chair"
    assert clinic.call("PUT", f"/clinics/{CLINIC}/chairs/{marked}", {"name": "Window chair"}, role="admin").status == 200
    patient = clinic.register_patient()["patientId"]
    other = clinic.register_patient("patient-key-2", phone="+15555550177", givenName="Robin")["patientId"]
    assert clinic.book(patient, START, key="no-echo-1", chair=marked, session_type="iv-ketamine").status == 201
    taken = clinic.book(other, START, key="no-echo-2", chair=marked, session_type="iv-ketamine")
    assert taken.status == 409 and "the chair is already booked at 10:00" in taken.body["message"], taken.body
    assert MARK not in json.dumps(taken.body)
