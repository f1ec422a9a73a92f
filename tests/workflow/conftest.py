"""The care workflow executed for real: the state machine from the synthesized template runs
under moto, its tasks call the real handlers in-process, and time is a ManualClock the test
moves (a 2 h observation or a 7-day follow-up takes milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clinic.usecases import kernel
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from local.stepfunctions import ManualClock, in_process_lambdas, stop_all, virtual_time
from tests.support.logs import CapturedLogs, captured_logs
from tests.support.timing import eventually
from tests.support.world import ALL_WEEK, CLINIC, CLINIC_PROFILE, SET_UP_PAGERS, Reply, World, at, dose_body, org_key

# A Tuesday noon; the clinic in tests.support.world is open every day 08:00-18:00 New York time.
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
ESCALATION_CHAIN = ["dr-on-call", "dr-backup", "dr-lead"]
PAGERS = {"dr-on-call": "+15555550201", "dr-backup": "+15555550202", "dr-lead": "+15555550203"}


def phq9(item9: int = 0, others: int = 1) -> dict[str, int]:
    return {**{f"phq9-{n}": others for n in range(1, 9)}, "phq9-9": item9}


def gad7(each: int = 1) -> dict[str, int]:
    return {f"gad7-{n}": each for n in range(1, 8)}


def cssrs(**yes: int) -> dict[str, int]:
    """The screener's answers: every asked item no unless given (cssrs_4=1 ...)."""
    answers = {"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0} | {k.replace("_", "-"): v for k, v in yes.items()}
    if answers["cssrs-2"] == 1:
        answers = {"cssrs-3": 0, "cssrs-4": 0, "cssrs-5": 0} | answers
    if answers["cssrs-6"] == 1:
        answers.setdefault("cssrs-6-recent", 0)
    return answers


class CareWorld(World):
    def __init__(self, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clock: ManualClock):
        super().__init__(template, monkeypatch)
        self.clock = clock
        self.sfn = boto3.client("stepfunctions")
        self.set_up_clinic()

    # --- driving ---------------------------------------------------------------------------
    def book_session(self, days_ahead: int = 5, hour: int = 10, key: str = "care-booking", **kwargs: Any) -> dict[str, Any]:
        patient = self.register_patient(key=f"{key}-patient")
        day = NOW.date() + timedelta(days=days_ahead)
        reply = self.book(patient["patientId"], at(day, hour), key=key, **kwargs)
        assert reply.status == 201, reply.body
        return reply.body

    def act(self, appointment: dict[str, Any], action: str, body: Any = None, role: str = "clinician", **kwargs: Any):
        return self.call("POST", f"/appointments/{appointment['appointmentId']}/{action}", body, role=role, **kwargs)

    def advance_to(self, instant: datetime) -> None:
        self.clock.advance_to(instant)

    def dose(self, appointment: dict[str, Any], first_device: datetime, **changes: Any):
        return self.act(appointment, "dose", dose_body(first_device, **changes))

    def first_reminder(self, appointment: dict[str, Any]) -> str:
        """Runs the execution to its first reminder (48 h before); returns the SMS text once
        the step has also recorded it (the text goes out first)."""
        start = datetime.fromisoformat(appointment["start"])
        self.sleeping_until(start - timedelta(hours=48))
        self.advance_to(start - timedelta(hours=48))
        text = eventually(lambda: self.sms() and self.sms()[0][1], what="the first reminder")
        key = {"pk": {"S": org_key(f"APPT#{appointment['appointmentId']}")}, "sk": {"S": "MESSAGE#reminder-1-48h"}}
        eventually(lambda: "Item" in self.dynamodb.get_item(TableName=self.table_name, Key=key), what="the reminder recorded")
        return text

    # --- observing -------------------------------------------------------------------------
    def appointment(self, appointment_id: str) -> dict[str, Any]:
        return self.call("GET", f"/appointments/{appointment_id}").body

    def parked_at(self, appointment: dict[str, Any], step: str, run: int = 1) -> dict[str, Any]:
        """Waits until the execution is parked at `step` (its token stored on the appointment)."""
        return eventually(
            lambda: (a := self.appointment(appointment["appointmentId"]))["workflow"] == {"run": run, "waitingFor": step}
            and a,
            what=f"parked at {step}",
        )

    def sleeping_until(self, instant: datetime) -> None:
        """Waits until some execution sleeps until `instant` (a Wait state or a timeout)."""
        eventually(lambda: instant.astimezone(UTC) in self.clock.deadlines(), what=f"a timer at {instant}")

    def execution_arn(self, appointment: dict[str, Any], run: int = 1) -> str:
        prefix = self.deployment.state_machine_arn.replace(":stateMachine:", ":execution:")
        return f"{prefix}:{appointment['appointmentId']}-{run}"

    def status(self, appointment: dict[str, Any], run: int = 1) -> str:
        return self.sfn.describe_execution(executionArn=self.execution_arn(appointment, run))["status"]

    def finished(self, appointment: dict[str, Any], run: int = 1) -> str:
        return eventually(lambda: (s := self.status(appointment, run)) != "RUNNING" and s, what="execution finished")

    def history(self, appointment: dict[str, Any], run: int = 1) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution_arn(appointment, run))
        return [event for page in pages for event in page["events"]]

    def submitted(self, appointment: dict[str, Any], run: int = 1) -> list[str]:
        """The callback states whose park step has returned (its token stored), in order."""
        names, current = [], None
        for event in self.history(appointment, run):
            current = event.get("stateEnteredEventDetails", {}).get("name", current)
            if event["type"] == "TaskSubmitted":
                names.append(current)
        return names

    def states_entered(self, appointment: dict[str, Any], run: int = 1) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(appointment, run) if "stateEnteredEventDetails" in e]

    def follow_up(self, appointment: dict[str, Any], number: int) -> dict[str, Any] | None:
        key = {"pk": {"S": org_key(f"APPT#{appointment['appointmentId']}")}, "sk": {"S": f"FOLLOWUP#{number:02d}"}}
        item = self.dynamodb.get_item(TableName=self.table_name, Key=key).get("Item")
        return {k: v.get("S", v.get("N", v.get("L"))) for k, v in item.items()} if item else None

    def sms(self) -> list[tuple[str, str]]:
        return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())

    def sms_to(self, phone: str) -> list[str]:
        return [text for to, text in self.sms() if to == phone]

    # --- follow-up surveys ---------------------------------------------------------------
    def survey_links(self) -> list[str]:
        """The tokens of every survey link sent, oldest first."""
        return [text.split("/survey#")[1] for _, text in self.sms() if "/survey#" in text]

    def open_survey(self, token: str) -> Reply:
        return self.call("POST", "/public/surveys", {"token": token}, role=None)

    def answer(self, token: str, instrument: str, answers: dict[str, Any]) -> Reply:
        return self.call("POST", "/public/surveys/answers", {"token": token, "instrument": instrument, "answers": answers}, role=None)

    def alerts(self) -> dict[str, Any]:
        return self.call("GET", f"/clinics/{CLINIC}/alerts").body

    def set_escalation_chain(self) -> None:
        """On-call, backup and lead, each with a pager."""
        for n, provider in enumerate(ESCALATION_CHAIN):
            body = {"name": provider, "role": "prescriber", "capacity": 1, "workingHours": ALL_WEEK, "pager": PAGERS[provider]}
            assert self.call("PUT", f"/clinics/{CLINIC}/providers/{provider}", body, role="admin").status == 200
        profile = {**CLINIC_PROFILE, "escalationChain": ESCALATION_CHAIN}
        assert self.call("PUT", f"/clinics/{CLINIC}", profile, role="admin").status == 200

    def pages(self) -> list[tuple[str, str]]:
        """(subject, message) of every page about an appointment ("subject: message ...") to a
        pager of the clinic's chain; the chain's own safety pages are read with `sms_to`."""
        pagers = {*PAGERS.values(), *SET_UP_PAGERS.values()}
        texts = [text for to, text in self.sms() if to in pagers and not text.startswith("URGENT safety alert (")]
        return [tuple(text.split(": ", 1)) for text in texts]  # type: ignore[misc]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def care(template, monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Iterator[CareWorld]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), virtual_time(clock), in_process_lambdas():
        monkeypatch.setattr(kernel, "utc_now", clock.now)
        world = CareWorld(template, monkeypatch, clock)
        try:
            yield world
        finally:
            stop_all(world.sfn)


@pytest.fixture
def function_logs() -> Iterator[CapturedLogs]:
    """What both functions log during the test, at DEBUG."""
    with captured_logs() as logs:
        yield logs
