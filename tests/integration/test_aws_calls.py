"""What each hot route costs in AWS calls (issue 7's targets): counted, not timed."""

from __future__ import annotations

from collections import Counter

import pytest

from local import calls
from tests.support.world import CLINIC, World, at, clinic_day

calls.install()  # before the World builds the functions' sessions

DAY = clinic_day()


@pytest.fixture
def warm(clinic: World) -> World:
    clinic.call("GET", f"/clinics/{CLINIC}/availability", query={"date": DAY.isoformat(), "sessionType": "spravato"})
    return clinic


def test_availability_is_one_query(warm: World) -> None:
    with calls.counting() as counted:
        reply = warm.call("GET", f"/clinics/{CLINIC}/availability", query={"date": DAY.isoformat(), "sessionType": "spravato"})
    assert reply.status == 200
    assert counted.calls == Counter({"dynamodb.Query": 1})


def test_the_day_board_is_one_query(warm: World) -> None:
    with calls.counting() as counted:
        reply = warm.call("GET", f"/clinics/{CLINIC}/board", query={"date": DAY.isoformat()})
    assert reply.status == 200
    assert counted.calls == Counter({"dynamodb.Query": 1})


def test_booking_is_six_calls_idempotency_included_and_nothing_scans(warm: World) -> None:
    patient = warm.register_patient()
    with calls.counting() as counted:
        reply = warm.book(patient["patientId"], at(DAY, 10), key="counted-booking")
    assert reply.status == 201
    assert counted.calls == Counter(
        {
            "dynamodb.PutItem": 1,  # the idempotency record, in progress
            "dynamodb.GetItem": 1,  # the patient's schedule count, read before the spacing check
            "dynamodb.Query": 1,  # the patient's scheduled sessions: the spacing between doses
            "dynamodb.TransactWriteItems": 1,  # appointment, audit, held time, patient check, schedule count
            "dynamodb.UpdateItem": 1,  # the idempotency record, completed
            "stepfunctions.StartExecution": 1,
        }
    )


def test_finding_a_patient_is_one_query_and_a_read_per_match_and_registering_checks_with_two_queries(warm: World) -> None:
    with calls.counting() as registering:
        warm.register_patient(key="counted-patient", confirmedNew=None)
    with calls.counting() as finding:
        reply = warm.call("POST", "/patients/search", {"text": "rivera"})
    assert reply.status == 200 and len(reply.body["patients"]) == 1
    # The access entry for the one patient shown is one PutItem (for several: one transaction).
    assert finding.calls == Counter({"dynamodb.Query": 1, "dynamodb.GetItem": 1, "dynamodb.PutItem": 1})
    assert registering.calls == Counter(
        {
            "dynamodb.PutItem": 1,
            "dynamodb.Query": 2,  # possible duplicates: the birth date's and the phone's index entries
            "dynamodb.TransactWriteItems": 1,  # the patient and its index entries
            "dynamodb.UpdateItem": 1,
        }
    )
