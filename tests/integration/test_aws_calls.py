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


def test_booking_is_five_calls_idempotency_included_and_nothing_scans(warm: World) -> None:
    patient = warm.register_patient()
    with calls.counting() as counted:
        reply = warm.book(patient["patientId"], at(DAY, 10), key="counted-booking")
    assert reply.status == 201
    assert counted.calls == Counter(
        {
            "dynamodb.PutItem": 1,  # the idempotency record, in progress
            "dynamodb.Query": 1,  # the patient's scheduled sessions: the spacing between doses
            "dynamodb.TransactWriteItems": 1,  # appointment, audit, held time, patient check
            "dynamodb.UpdateItem": 1,  # the idempotency record, completed
            "stepfunctions.StartExecution": 1,
        }
    )
