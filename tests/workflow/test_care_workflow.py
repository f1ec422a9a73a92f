"""One appointment's journey, executed by the deployed state machine under moto. Each
scenario asserts on the execution history and on what is stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.workflow.conftest import CHECKLIST, CareWorld, eventually


def start_of(appointment: dict) -> datetime:
    return datetime.fromisoformat(appointment["start"])


def checked_in_and_dosed(care: CareWorld, appointment: dict) -> datetime:
    """Runs the execution to observation: reminders, check-in, dose. Returns the first device time."""
    start = start_of(appointment)
    care.advance_to(start - timedelta(minutes=10))
    assert care.act(appointment, "check-in", role="front-desk").status == 200
    care.advance_to(start)
    care.parked_at(appointment, "dose")
    first_device = start + timedelta(minutes=5)
    care.advance_to(first_device)
    assert care.dose(appointment, first_device).status == 200
    return first_device


def test_happy_path_from_booking_to_the_last_follow_up(care: CareWorld) -> None:
    appointment = care.book_session()
    start = start_of(appointment)

    # Reminders 48 h and 24 h before: a link, nothing about the patient.
    care.sleeping_until(start - timedelta(hours=48))
    care.advance_to(start - timedelta(hours=48))
    eventually(lambda: len(care.sms()) == 1, what="first reminder")
    care.advance_to(start - timedelta(hours=24))
    eventually(lambda: len(care.sms()) == 2, what="second reminder")
    phone, text = care.sms()[0]
    assert phone == "+15555550100"
    assert "/confirm#" in text and "Alex" not in text and "Rivera" not in text

    # Checked in before the start: the execution finds it done when it gets there.
    first_device = checked_in_and_dosed(care, appointment)

    # The post-dose pressure is taken on time, so no prompt; the execution parks for discharge.
    care.advance_to(first_device + timedelta(minutes=40))
    reply = care.act(appointment, "vitals", {"bloodPressure": {"systolic": 132, "diastolic": 84}}, headers={"Idempotency-Key": "bp-at-40-min"})
    assert reply.status == 201
    care.parked_at(appointment, "discharge")
    assert care.pages() == []

    care.advance_to(first_device + timedelta(minutes=120))
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200

    # Follow-ups 24 h and 7 days after discharge: the first answered, the second expires.
    discharged = first_device + timedelta(minutes=120)
    care.sleeping_until(discharged + timedelta(hours=24))
    care.advance_to(discharged + timedelta(hours=24))
    first = eventually(lambda: care.follow_up(appointment, 1), what="follow-up 1 open")
    care.sfn.send_task_success(taskToken=first["taskToken"], output=json.dumps({"answered": True}))
    care.sleeping_until(discharged + timedelta(hours=168))
    care.advance_to(discharged + timedelta(hours=168))
    eventually(lambda: care.follow_up(appointment, 2), what="follow-up 2 open")
    care.advance_to(discharged + timedelta(hours=168 + 72))

    assert care.finished(appointment) == "SUCCEEDED"
    entered = care.states_entered(appointment)
    assert entered == [
        "Reminders",
        *["WaitForReminder"] * 2,  # both reminders wait side by side, each until its own time
        *["Remind"] * 2,
        "WaitForStart",
        "AwaitCheckIn",
        "AwaitDose",
        "WaitForBloodPressureCheck",
        "ObservationCheck",
        "AwaitDischarge",
        "FollowUps",
        "WaitForFollowUp",
        "AwaitFollowUp",
        "WaitForFollowUp",
        "AwaitFollowUp",
        "FollowUpMissed",
        "Done",
    ]
    stored = care.appointment(appointment["appointmentId"])
    assert stored["status"] == "fulfilled" and "attention" not in stored
    assert care.follow_up(appointment, 2)["status"] == "missed"
