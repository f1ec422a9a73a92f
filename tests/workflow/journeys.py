"""Journeys through the care workflow, shared by the scenarios and the benchmark."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests.support.timing import eventually
from tests.support.world import CHECKLIST
from tests.workflow.conftest import CareWorld


def start_of(appointment: dict) -> datetime:
    return datetime.fromisoformat(appointment["start"])


def checked_in(care: CareWorld, appointment: dict) -> datetime:
    """Runs the execution to its wait for the dose, the patient checked in early. Returns the start."""
    start = start_of(appointment)
    care.advance_to(start - timedelta(minutes=10))
    assert care.act(appointment, "check-in", role="front-desk").status == 200
    care.advance_to(start)
    care.parked_at(appointment, "dose")
    return start


def checked_in_and_dosed(care: CareWorld, appointment: dict) -> datetime:
    """Runs the execution to observation: reminders, check-in, dose. Returns the first device time."""
    first_device = checked_in(care, appointment) + timedelta(minutes=5)
    care.advance_to(first_device)
    assert care.dose(appointment, first_device).status == 200
    return first_device


def observing(care: CareWorld, appointment: dict) -> datetime:
    """Runs the execution to its wait for discharge, the post-dose pressure taken on time."""
    first_device = checked_in_and_dosed(care, appointment)
    care.advance_to(first_device + timedelta(minutes=38))
    bp = {"bloodPressure": {"systolic": 132, "diastolic": 84}}
    assert care.act(appointment, "vitals", bp, headers={"Idempotency-Key": "bp-after-dose"}).status == 201
    care.advance_to(first_device + timedelta(minutes=40))
    care.parked_at(appointment, "discharge")
    return first_device


def full_session(care: CareWorld) -> dict[str, Any]:
    """Booking to the last follow-up: both reminders, an early check-in, the dose, the
    post-dose pressure on time, discharge at 120 min, follow-up 1 answered and 2 missed."""
    appointment = care.book_session()
    start = start_of(appointment)
    care.first_reminder(appointment)
    care.advance_to(start - timedelta(hours=24))
    eventually(lambda: len(care.sms()) == 2, what="second reminder")
    first_device = observing(care, appointment)
    care.advance_to(first_device + timedelta(minutes=120))
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
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
    return appointment


def session_cost(care: CareWorld, appointment: dict[str, Any]) -> tuple[int, int]:
    """(state transitions, Lambda invocations) of the appointment's first run, from its history:
    every state entered is a billed transition."""
    events = [e["type"] for e in care.history(appointment)]
    invocations = events.count("LambdaFunctionScheduled") + events.count("TaskScheduled")
    return sum(t.endswith("StateEntered") for t in events), invocations
