"""The API under AWS faults (tests/support/faults.py injects them into the function's own
calls): on every route, DynamoDB throttling answers 503 with Retry-After and any other AWS
failure a generic 500, neither with a stack trace or an internal message.
A write that fails half-way through a request leaves nothing behind, and the same request
sent again (same Idempotency-Key) then succeeds once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from clinic.usecases import kernel
from clinic.api.app import ROUTES

from tests.support.faults import Call, Faults, injecting
from tests.support.world import CHECKLIST, CLINIC, World, at, clinic_day, dose_body, patient_details, org_key

DAY = clinic_day()
START = at(DAY, 9)
ID = "does-not-exist"  # every route reads before it refuses an unknown id: the read meets the fault
TOKEN = "practice-a." + "t" * 43  # the form of a link's token: its organization, then the secret
# A body each route accepts in shape, so the request reaches DynamoDB.
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/clinics/<clinic_id>"): {"name": "North", "openingHours": {"mon": [{"start": "08:00", "end": "18:00"}]}},
    ("PUT", "/clinics/<clinic_id>/chairs/<chair_id>"): {"name": "Chair 9"},
    ("PUT", "/clinics/<clinic_id>/providers/<provider_id>"): {
        "name": "Nurse Z", "role": "nurse", "workingHours": {"mon": [{"start": "08:00", "end": "18:00"}]},
    },
    ("POST", "/patients"): patient_details(),
    ("POST", "/staff"): {
        "username": "robin", "email": "robin@clinic.example", "givenName": "Robin", "familyName": "Desk",
        "role": "front-desk", "clinics": [CLINIC],
    },
    ("PUT", "/staff/<username>"): {"role": "clinician", "clinics": ["*"]},
    ("POST", "/patients/search"): {"text": "rivera"},
    ("POST", "/appointments"): {
        "clinicId": CLINIC, "patientId": ID, "sessionType": "spravato", "chairId": "chair-1", "providerId": "nurse-a",
        "start": START.isoformat(),
    },
    ("POST", "/appointments/<appointment_id>/reschedule"): {"start": START.isoformat()},
    ("POST", "/appointments/<appointment_id>/cancel"): {"reason": "patient unwell"},
    ("POST", "/courses/plan"): {
        "clinicId": CLINIC, "patientId": ID, "template": "iv-booster", "startDate": DAY.isoformat(),
        "preferredTimes": [{"weekday": "mon", "at": "09:00"}],
    },
    ("POST", "/courses"): {
        "clinicId": CLINIC, "patientId": ID, "template": "iv-booster",
        "sessions": [{"start": START.isoformat(), "chairId": "chair-1", "providerId": "nurse-a"}],
    },
    ("POST", "/courses/<course_id>/sessions"): {"start": START.isoformat(), "chairId": "chair-1", "providerId": "nurse-a"},
    ("POST", "/courses/<course_id>/cancel"): {"reason": "patient moved away"},
    ("POST", "/appointments/<appointment_id>/dose"): dose_body(START),
    ("POST", "/appointments/<appointment_id>/vitals"): {"bloodPressure": {"systolic": 120, "diastolic": 80}},
    ("POST", "/appointments/<appointment_id>/discharge"): {"checklist": CHECKLIST},
    ("POST", "/escalations/<escalation_id>/acknowledge"): {"note": "called the patient"},
    ("POST", "/appointments/<appointment_id>/attention/resolve"): {"note": "called the patient"},
    ("POST", "/tasks/<task_id>/complete"): {"note": "called the patient"},
    ("POST", "/clinics/<clinic_id>/waitlist"): {
        "patientId": ID, "sessionType": "spravato", "weekdays": ["mon"], "earliest": "08:00", "latest": "12:00",
    },
    ("POST", "/public/waitlist-offers"): {"token": TOKEN},
    ("POST", "/public/waitlist-offers/accept"): {"token": TOKEN},
    ("POST", "/public/confirmations"): {"token": TOKEN, "attending": True, "rideArranged": True},
    ("POST", "/public/confirmations/open"): {"token": TOKEN},
    ("POST", "/public/surveys"): {"token": TOKEN},
    ("POST", "/public/surveys/answers"): {"token": TOKEN, "instrument": "phq-9", "answers": {"phq9-1": 0}},
}
QUERIES = {"/access-log": {"patientId": ID}, "/clinics/<clinic_id>/availability": {"date": DAY.isoformat(), "sessionType": "spravato"}, "/clinics/<clinic_id>/board": {"date": DAY.isoformat()}}


@pytest.fixture(scope="module")
def faults(shared_clinic: World) -> Iterator[Faults]:
    """One hooked set of clients for the module (building them is the slow part); each case
    injects its own faults and removes them."""
    with pytest.MonkeyPatch.context() as patch, injecting(patch) as plan:
        yield plan


def _path(path: str) -> str:
    values = {"clinic_id": CLINIC, "chair_id": "chair-9", "provider_id": "nurse-z"}
    return re.sub(r"<([^>]+)>", lambda m: values.get(m.group(1), ID), path)


def _role(groups: frozenset[str]) -> str | None:
    return None if not groups else min(groups)


def dynamodb(call: Call) -> bool:
    return call.service == "dynamodb"


def _no_internals(body: Any) -> None:
    text = json.dumps(body)
    for leak in ("Traceback", 'File "', ".py", "injected fault", "ClientError", "Exception"):
        assert leak not in text, text
    assert set(body) == {"code", "message", "fields"}


# What DynamoDB answers every call of the request with, and what the caller gets. Every route
# meets one transient and one permanent code; every code meets one route (they share a path).
FAULTS = {
    "ProvisionedThroughputExceededException": (503, "temporarily_unavailable"),
    "ThrottlingException": (503, "temporarily_unavailable"),
    "RequestLimitExceeded": (503, "temporarily_unavailable"),
    "AccessDeniedException": (500, "internal_error"),
    "ValidationException": (500, "internal_error"),
}
EVERY_ROUTE = ("ProvisionedThroughputExceededException", "AccessDeniedException")
BOARD = next(policy for policy, _ in ROUTES if policy.path == "/clinics/<clinic_id>/board")
CASES = [
    *((policy, code) for policy, _ in ROUTES for code in EVERY_ROUTE),
    *((BOARD, code) for code in FAULTS if code not in EVERY_ROUTE),
]


@pytest.mark.parametrize(("policy", "code"), CASES, ids=lambda v: v if isinstance(v, str) else f"{v.method} {v.path}")
def test_every_route_under_a_dynamodb_fault_answers_503_or_a_generic_500(
    shared_clinic: World, faults: Faults, policy, code: str
) -> None:
    body = BODIES.get((policy.method, policy.path)) if policy.method != "GET" else None
    with faults.injected(dynamodb, code) as fault:
        reply = shared_clinic.call(
            policy.method, _path(policy.path), body, role=_role(policy.groups),
            headers={"Idempotency-Key": "fault-matrix-key"}, query=QUERIES.get(policy.path),
        )
    assert fault.hits, f"the request never reached DynamoDB ({reply.status} {reply.body}): give it a valid body in BODIES"
    status, error = FAULTS[code]
    assert (reply.status, reply.body["code"]) == (status, error), reply.body
    if status == 503:
        assert reply.headers["Retry-After"] == "2"
    else:
        assert "Retry-After" not in reply.headers
    _no_internals(reply.body)


# --- a write that fails half-way -----------------------------------------------------------------
THROTTLED_TRANSACTION = {
    "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throttled"}, {"Code": "None"}]
}


def transaction(call: Call) -> bool:
    return call.service == "dynamodb" and call.operation == "TransactWriteItems"


def idempotency_record(call: Call) -> bool:
    return call.service == "dynamodb" and call.operation == "PutItem" and "Idempotency" in call.params.get("TableName", "")


def idempotency_items(world: World) -> list[dict[str, Any]]:
    name = world.deployment.environment["IDEMPOTENCY_TABLE_NAME"]
    return world.dynamodb.scan(TableName=name)["Items"]


# Rows: which call of a booking fails, and how.
HALF_WAY = {
    "the transaction is throttled": {"where": transaction, "codes": ("ThrottlingException",)},
    "the transaction is cancelled by throttling": {
        "where": transaction, "codes": ("TransactionCanceledException",), "extra": THROTTLED_TRANSACTION
    },
    "the idempotency record cannot be written": {"where": idempotency_record, "codes": ("ProvisionedThroughputExceededException",)},
}


def executions(world: World) -> int:
    return len(boto3.client("stepfunctions").list_executions(stateMachineArn=world.deployment.state_machine_arn)["executions"])


# The half-way cases share the module's clinic; each books on a day of its own.
@pytest.mark.parametrize(("n", "fault"), enumerate(HALF_WAY.values()), ids=HALF_WAY.keys())
def test_a_booking_that_fails_half_way_leaves_nothing_and_its_retry_books_once(shared_clinic: World, faults: Faults, n: int, fault) -> None:
    clinic, key, start = shared_clinic, f"half-way-booking-{n}", at(DAY + timedelta(days=1 + n), 9)
    patient = clinic.register_patient(key=f"half-way-patient-{n}")
    before, started, keys_before = clinic.items(), executions(clinic), idempotency_items(clinic)
    with faults.injected(fault["where"], *fault["codes"], times=1, extra=fault.get("extra", {})) as injected:
        refused = clinic.book(patient["patientId"], start, key=key)
    assert injected.hits
    assert refused.status == 503 and refused.headers["Retry-After"] == "2", refused.body
    _no_internals(refused.body)
    assert clinic.items() == before
    assert idempotency_items(clinic) == keys_before  # the key is free again (its record holds only a hash of it)
    assert executions(clinic) == started

    retried = clinic.book(patient["patientId"], start, key=key)
    assert retried.status == 201, retried.body
    (appointment,) = clinic.call("GET", f"/patients/{patient['patientId']}/appointments").body["appointments"]
    assert appointment["appointmentId"] == retried.body["appointmentId"]
    assert executions(clinic) == started + 1


def booked(clinic: World, name: str, start) -> tuple[dict[str, Any], str]:
    patient = clinic.register_patient(key=f"{name}-patient")
    appointment = clinic.book(patient["patientId"], start, key=f"{name}-booking").body
    return appointment, f"/appointments/{appointment['appointmentId']}"


def test_a_cancel_whose_transaction_is_throttled_changes_nothing_and_its_retry_releases_the_chair(
    shared_clinic: World, faults: Faults
) -> None:
    clinic, start = shared_clinic, at(DAY + timedelta(days=5), 9)
    appointment, path = booked(clinic, "to-cancel", start)
    before = clinic.items()
    with faults.injected(transaction, "TransactionCanceledException", times=1, extra=THROTTLED_TRANSACTION) as injected:
        refused = clinic.call("POST", f"{path}/cancel", {"reason": "patient unwell"})
    assert injected.hits and refused.status == 503, refused.body
    assert clinic.items() == before  # still booked, the chair still held, no audit entry

    assert clinic.call("POST", f"{path}/cancel", {"reason": "patient unwell"}).status == 200
    day = org_key(f"HOLD#{CLINIC}#{appointment['localDate']}")
    assert [i for i in clinic.items() if i["pk"]["S"] == day and i.get("holders")] == []
    audit = clinic.call("GET", f"{path}/audit").body["entries"]
    assert [e["action"] for e in audit] == ["book", "cancel"]


def test_a_discharge_whose_transaction_is_throttled_keeps_the_session_open_and_files_no_form(
    shared_clinic: World, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic, start = shared_clinic, at(DAY + timedelta(days=6), 9)
    appointment, path = booked(clinic, "to-discharge", start)
    monkeypatch.setattr(kernel, "utc_now", lambda: start - timedelta(minutes=5))
    assert clinic.call("POST", f"{path}/check-in").status == 200
    monkeypatch.setattr(kernel, "utc_now", lambda: start + timedelta(minutes=5))
    assert clinic.call("POST", f"{path}/dose", dose_body(start), role="clinician").status == 200
    monkeypatch.setattr(kernel, "utc_now", lambda: start + timedelta(hours=3))
    before = clinic.items()
    with faults.injected(transaction, "TransactionCanceledException", times=1, extra=THROTTLED_TRANSACTION):
        refused = clinic.call("POST", f"{path}/discharge", {"checklist": CHECKLIST}, role="clinician")
    assert refused.status == 503, refused.body
    assert clinic.items() == before

    done = clinic.call("POST", f"{path}/discharge", {"checklist": CHECKLIST}, role="clinician")
    assert done.status == 200 and done.body["status"] == "fulfilled"
    forms = clinic.call("GET", f"/clinics/{CLINIC}/rems-forms").body["forms"]
    assert [f["appointmentId"] for f in forms] == [appointment["appointmentId"]]


def test_a_booking_whose_workflow_cannot_start_stands_flagged(shared_clinic: World, faults: Faults) -> None:
    patient = shared_clinic.register_patient(key="no-workflow-patient")
    with faults.injected(lambda call: call.operation == "StartExecution", "ThrottlingException") as injected:
        reply = shared_clinic.book(patient["patientId"], at(DAY + timedelta(days=7), 9), key="no-workflow-yet")
    assert injected.hits
    assert reply.status == 201 and reply.body["attention"]["kind"] == "workflow", reply.body
    assert "reschedule to start it again" in reply.body["attention"]["reason"]


# --- a create that landed but whose reply was lost -----------------------------------------------
def idempotency_success(call: Call) -> bool:
    return call.service == "dynamodb" and call.operation == "UpdateItem" and "Idempotency" in call.params.get("TableName", "")


def _expire_in_progress_records(world: World) -> None:
    """What an in-progress record's expiry does a few seconds later: its key may run again.
    (Records hold a hash of the key, so the in-progress ones are the ones to expire.)"""
    name = world.deployment.environment["IDEMPOTENCY_TABLE_NAME"]
    for item in idempotency_items(world):
        if item["status"]["S"] == "INPROGRESS":
            world.dynamodb.delete_item(TableName=name, Key={"id": item["id"]})


def patient_records(world: World) -> int:
    return sum(1 for i in world.items() if i["pk"]["S"].startswith(org_key("PATIENT#")) and i["sk"]["S"] == "PROFILE")


def test_a_registration_whose_reply_was_lost_finds_its_patient_instead_of_a_second(shared_clinic: World, faults: Faults) -> None:
    clinic, key = shared_clinic, "lost-reply-registration"
    before = patient_records(clinic)
    with faults.injected(idempotency_success, "ProvisionedThroughputExceededException", times=1) as injected:
        lost = clinic.call("POST", "/patients", patient_details(givenName="Lost"), headers={"Idempotency-Key": key})
    assert injected.hits and lost.status == 503
    _expire_in_progress_records(clinic)

    again = clinic.call("POST", "/patients", patient_details(givenName="Lost"), headers={"Idempotency-Key": key})

    assert again.status == 201, again.body
    assert patient_records(clinic) == before + 1


def test_a_booking_whose_reply_was_lost_finds_its_appointment_instead_of_a_conflict(shared_clinic: World, faults: Faults) -> None:
    clinic, key, start = shared_clinic, "lost-reply-booking", at(DAY + timedelta(days=9), 9)
    patient = clinic.register_patient(key="lost-reply-patient")["patientId"]
    started = executions(clinic)
    with faults.injected(idempotency_success, "ProvisionedThroughputExceededException", times=1) as injected:
        lost = clinic.book(patient, start, key=key)
    assert injected.hits and lost.status == 503
    _expire_in_progress_records(clinic)

    again = clinic.book(patient, start, key=key)

    assert again.status == 201, again.body
    (appointment,) = clinic.call("GET", f"/patients/{patient}/appointments").body["appointments"]
    assert appointment["appointmentId"] == again.body["appointmentId"]
    assert executions(clinic) == started + 1
