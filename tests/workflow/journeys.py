"""Journeys through the care workflow, shared by the scenarios and the benchmark."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from clinic.domain.rules import ClinicRules

from tests.support.timing import eventually
from tests.support.world import CHECKLIST, ZONE
from tests.workflow.conftest import CareWorld, gad7, phq9


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


def discharged(care: CareWorld, appointment: dict[str, Any] | None = None) -> tuple[dict[str, Any], datetime]:
    """Runs a session to its discharge at 120 min. Returns the appointment and the discharge time."""
    appointment = appointment or care.book_session()
    first_device = observing(care, appointment)
    at = first_device + timedelta(minutes=120)
    care.advance_to(at)
    assert care.act(appointment, "discharge", {"checklist": CHECKLIST}).status == 200
    return appointment, at


def survey_sent(care: CareWorld, appointment: dict[str, Any], at: datetime, count: int) -> str:
    """Runs to a follow-up due at `at`; returns its link's token (the `count`th link sent) once
    the workflow waits for the answers, as it does long before a patient can tap the link
    (test_follow_up.py has an answer that lands in between)."""
    care.sleeping_until(at)
    care.advance_to(at)
    eventually(lambda: len(care.survey_links()) == count, what=f"survey link {count}")

    def latest_parked() -> bool:
        latest, number = None, 1
        while follow_up := care.follow_up(appointment, number):  # follow-ups open in number order
            latest, number = follow_up, number + 1
        return latest is not None and "taskToken" in latest

    eventually(latest_parked, what="the workflow waiting for the answers")
    return care.survey_links()[-1]


def rems_form_deadline(appointment: dict[str, Any]) -> datetime:
    """When the session's REMS form becomes overdue: the clinic's midnight after its due date."""
    due = start_of(appointment).astimezone(ZONE).date() + timedelta(days=ClinicRules().care.rems_form_due_days)
    return datetime.combine(due + timedelta(days=1), time(), tzinfo=ZONE)


def followed_up(care: CareWorld, appointment: dict[str, Any] | None = None) -> dict[str, Any]:
    """Booking to the last follow-up: both reminders, an early check-in, the dose, the
    post-dose pressure on time, discharge at 120 min, both surveys answered. A Spravato
    session's execution then waits for its REMS form's deadline."""
    appointment = appointment or care.book_session()
    start = start_of(appointment)
    care.first_reminder(appointment)
    care.advance_to(start - timedelta(hours=24))
    eventually(lambda: len(care.sms()) == 2, what="second reminder")
    appointment, at = discharged(care, appointment)
    first = survey_sent(care, appointment, at + timedelta(hours=24), 1)
    assert care.answer(first, "phq-9", phq9(others=2)).status == 200
    second = survey_sent(care, appointment, at + timedelta(hours=168), 2)
    assert care.answer(second, "phq-9", phq9(others=1)).status == 200
    assert care.answer(second, "gad-7", gad7(1)).status == 200
    return appointment


def full_session(care: CareWorld) -> dict[str, Any]:
    """The whole run of a Spravato session: `followed_up`, then its REMS form marked filed
    and the deadline passed."""
    appointment = followed_up(care)
    filed = care.call("POST", f"/appointments/{appointment['appointmentId']}/rems-form/submit", role="clinician")
    assert filed.status == 200, filed.body
    deadline = rems_form_deadline(appointment)
    care.sleeping_until(deadline)
    care.advance_to(deadline)
    assert care.finished(appointment) == "SUCCEEDED"
    return appointment


def session_cost(care: CareWorld, appointment: dict[str, Any]) -> tuple[int, int]:
    """(state transitions, Lambda invocations) of the appointment's first run, from its history:
    every state entered is a billed transition."""
    events = [e["type"] for e in care.history(appointment)]
    invocations = events.count("LambdaFunctionScheduled") + events.count("TaskScheduled")
    return sum(t.endswith("StateEntered") for t in events), invocations


def task_states(template: dict[str, Any]) -> list[str]:
    """Every Task state of the synthesized state machine, Map iterations included, in
    definition order: what a coverage list must name."""
    import json

    from local.template import resources

    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    definition = machine["Properties"]["DefinitionString"]
    text = definition if isinstance(definition, str) else "".join(p if isinstance(p, str) else "x" for p in definition["Fn::Join"][1])
    found: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state["Type"] == "Task":
                found.append(name)
            if state["Type"] == "Map":
                walk((state.get("ItemProcessor") or state["Iterator"])["States"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(json.loads(text)["States"])
    return found
