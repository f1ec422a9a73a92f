"""The fault matrix: the care workflow's steps x AWS faults, executed by the deployed state
machine under moto with virtual time. Faults are injected into the workflow function's own
AWS calls (tests/support/faults.py), scoped to one appointment and one step, so every cell
is its own appointment; the cells of a journey run side by side in one clinic.

Columns (FAULTS): DynamoDB throttling (ProvisionedThroughputExceededException, then
ThrottlingException), DynamoDB refusing for good (AccessDeniedException), SNS throttling
(Throttled), SNS refusing for good (AuthorizationError), and the step itself raising an
unexpected error. A transient fault is retried with back-off and the step then takes
effect once; a permanent one flags the appointment "needs attention" naming the step,
pages the clinicians and ends the execution in WorkflowFailed (the operator's alarm).
Rows that do not publish to SNS have no SNS cells, and the test checks they made no SNS call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic.workflow.steps import WorkflowSteps

from tests.support.faults import Call, Faults
from tests.support.timing import eventually
from tests.support.world import ALL_WEEK, CLINIC, at
from tests.workflow.conftest import NOW, CareWorld


@dataclass(frozen=True)
class Kind:
    service: str | None  # None: the step raises by itself
    codes: tuple[str, ...]
    times: int | None  # None: for good
    error: str | None  # the error name the step fails with for good


FAULTS = {
    "dynamodb-throttled": Kind("dynamodb", ("ProvisionedThroughputExceededException", "ThrottlingException"), 2, None),
    "dynamodb-refused": Kind("dynamodb", ("AccessDeniedException",), None, "ClientError"),
    "sns-throttled": Kind("sns", ("Throttled",), 2, None),
    "sns-refused": Kind("sns", ("AuthorizationError",), None, "Undeliverable"),
    "step-crashes": Kind(None, (), None, "RuntimeError"),
}


@dataclass(frozen=True)
class Row:
    state: str  # the Task state
    step: str  # the handler's step
    wait_for: str | None = None  # a park's step, told apart by it
    sends: bool = False  # publishes to SNS
    # A permanent fault that the step handles itself: what the appointment shows instead.
    handled: Callable[[CareWorld, Cell], None] | None = None

    def matches(self, event: dict[str, Any]) -> bool:
        return event.get("step") == self.step and (self.wait_for is None or event.get("waitFor") == self.wait_for)


@dataclass
class Cell:
    row: Row
    fault: str
    appointment: dict[str, Any]
    phone: str

    @property
    def id(self) -> str:
        return self.appointment["appointmentId"]

    def in_step(self, call: Call) -> bool:
        return call.function == "workflow" and call.event.get("appointmentId") == self.id and self.row.matches(call.event)


def reminder_flagged(care: CareWorld, cell: Cell) -> None:
    """A reminder that cannot go out (for whatever reason): the front desk calls; the journey goes on."""
    flagged = eventually(lambda: (a := care.appointment(cell.id)).get("attention") and a, timeout=WAIT, what=f"{cell.id} flagged")
    assert flagged["attention"]["kind"] == "unreachable" and "call the patient" in flagged["attention"]["reason"]
    assert care.status(cell.appointment) == "RUNNING"
    assert [text for to, text in care.sms() if to == cell.phone] == []


ROWS = [
    Row("Remind", "remind", sends=True, handled=reminder_flagged),
    Row("AwaitCheckIn", "park", "check-in"),
    Row("AwaitDose", "park", "dose"),
    Row("ObservationCheck", "observation-check", sends=True),
    Row("AwaitDischarge", "park", "discharge"),
]


def cells_of(rows: list[Row]) -> list[tuple[Row, str]]:
    return [(row, fault) for row in rows for fault, kind in FAULTS.items() if row.sends or kind.service != "sns"]


# --- the cohort: one appointment per cell, same start, a chair each ---------------------------
def cohort(care: CareWorld, faults: Faults, rows: list[Row], days_ahead: int = 5) -> list[Cell]:
    cells = cells_of(rows)
    nurse = {"name": "Nurse F", "role": "nurse", "capacity": 20, "workingHours": ALL_WEEK}
    assert care.call("PUT", f"/clinics/{CLINIC}/providers/nurse-f", nurse, role="admin").status == 200
    start, booked = at(NOW.date() + timedelta(days=days_ahead), 10), []
    for n, (row, fault) in enumerate(cells):
        chair = f"fault-chair-{n}"
        assert care.call("PUT", f"/clinics/{CLINIC}/chairs/{chair}", {"name": chair}, role="admin").status == 200
        phone = f"+1555555{n:04d}"
        patient = care.register_patient(key=f"fault-patient-{n}", phone=phone)
        reply = care.book(patient["patientId"], start, key=f"fault-booking-{n}", chair=chair, provider="nurse-f")
        assert reply.status == 201, reply.body
        booked.append(Cell(row, fault, reply.body, phone))
    for cell in booked:
        kind = FAULTS[cell.fault]
        if kind.service is None:
            continue
        target = "PhoneNumber" if cell.row.state == "Remind" else "TopicArn"

        def where(call: Call, cell: Cell = cell, kind: Kind = kind, target: str = target) -> bool:
            return cell.in_step(call) and call.service == kind.service and (kind.service != "sns" or target in call.params)

        faults.inject(where, *kind.codes, times=kind.times)
    return booked


def crashing(cells: list[Cell], monkeypatch: pytest.MonkeyPatch) -> None:
    """The step-crashes cells: their step raises before doing anything."""
    crash = {(c.id, c.row.step.replace("-", "_"), c.row.wait_for) for c in cells if c.fault == "step-crashes"}
    for name in {c.row.step.replace("-", "_") for c in cells if c.fault == "step-crashes"}:
        real = getattr(WorkflowSteps, name)

        def step(self, appointment_id, run, *args, _real=real, _name=name, **kwargs):
            wait_for = args[0] if _name == "park" else None
            if (appointment_id, _name, wait_for) in crash:
                raise RuntimeError("Alex Rivera's record is corrupt")  # a message with PHI: it must go nowhere
            return _real(self, appointment_id, run, *args, **kwargs)

        monkeypatch.setattr(WorkflowSteps, name, step)


# A cohort's steps all run at once (each invocation builds its environment cold): give them time.
WAIT = 30.0


def sleepers(care: CareWorld, instant: datetime, count: int) -> None:
    eventually(lambda: care.clock.deadlines().count(instant) >= count, timeout=WAIT, what=f"{count} timers at {instant}")


def parked(care: CareWorld, cell: Cell, step: str) -> None:
    eventually(lambda: care.appointment(cell.id)["workflow"].get("waitingFor") == step, timeout=WAIT, what=f"{cell.id} parked at {step}")


# --- what each cell must show -------------------------------------------------------------------
def attempts(care: CareWorld, cell: Cell) -> list[str]:
    """The outcome of each attempt of the cell's state: an error name, or "ok"."""
    outcomes, current = [], None
    for event in care.history(cell.appointment):
        current = event.get("stateEnteredEventDetails", {}).get("name", current)
        if current != cell.row.state:
            continue
        if event["type"] in ("LambdaFunctionFailed", "TaskFailed"):
            details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails") or {}
            outcomes.append(details.get("error", "?"))
        elif event["type"] in ("LambdaFunctionSucceeded", "TaskSubmitted"):
            outcomes.append("ok")
    return outcomes


def check(care: CareWorld, faults: Faults, cell: Cell) -> None:
    kind = FAULTS[cell.fault]
    where = f"{cell.row.state} x {cell.fault}"
    if kind.error is None:  # transient: retried, then the step takes effect once
        outcome = eventually(lambda: "ok" in (a := attempts(care, cell)) and a, timeout=WAIT, what=f"{where}: the step succeeded")
        assert outcome[: kind.times + 1] == ["TemporarilyUnavailable"] * kind.times + ["ok"], where
        assert "attention" not in care.appointment(cell.id), where
        assert care.status(cell.appointment) == "RUNNING", where
        return
    if cell.row.handled is not None:
        cell.row.handled(care, cell)
        return
    finished = eventually(lambda: (st := care.status(cell.appointment)) != "RUNNING" and st, timeout=WAIT, what=f"{where} ended")
    assert finished == "FAILED", where
    states = care.states_entered(cell.appointment)
    assert states[-3:] == [f"{cell.row.state}Failed", "FlagNeedsAttention", "WorkflowFailed"], (where, states)
    assert set(attempts(care, cell)) == {kind.error}, where
    reason = f"the care workflow stopped at {cell.row.state!r} ({kind.error}); check the appointment"
    assert care.appointment(cell.id)["attention"]["reason"] == reason, where
    pages = [message for subject, message in care.pages() if subject == "Appointment needs attention" and cell.id in message]
    assert pages == [f"{reason} Appointment {cell.id}."], where


def no_sns_where_none_is_sent(faults: Faults, cells: list[Cell]) -> None:
    for cell in cells:
        if not cell.row.sends:
            assert not [c for c in faults.calls if cell.in_step(c) and c.service == "sns"], cell.row.state


# --- the journeys ---------------------------------------------------------------------------------
def test_the_session_steps_under_every_fault(care: CareWorld, faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reminders, check-in, dose, the post-dose pressure check (missed: it pages) and the wait for discharge."""
    cells = cohort(care, faults, ROWS)
    crashing(cells, monkeypatch)
    start = datetime.fromisoformat(cells[0].appointment["start"])
    by_row = {row.state: [c for c in cells if c.row is row] for row in ROWS}

    sleepers(care, start - timedelta(hours=48), len(cells))
    care.advance_to(start - timedelta(hours=48))
    for cell in by_row["Remind"]:
        check(care, faults, cell)
        if FAULTS[cell.fault].error is None:
            eventually(lambda cell=cell: [t for to, t in care.sms() if to == cell.phone], timeout=WAIT, what="the reminder")
            assert len([t for to, t in care.sms() if to == cell.phone]) == 1

    care.advance_to(start)
    for cell in by_row["AwaitCheckIn"]:
        check(care, faults, cell)
    going_on = [c for c in cells if not (c.row.state == "AwaitCheckIn" and FAULTS[c.fault].error)]
    for cell in going_on:
        parked(care, cell, "check-in")
        assert care.act(cell.appointment, "check-in", role="front-desk").status == 200
    for cell in by_row["AwaitDose"]:
        check(care, faults, cell)

    first_device = start + timedelta(minutes=5)
    care.advance_to(first_device)
    dosed = [c for c in going_on if not (c.row.state == "AwaitDose" and FAULTS[c.fault].error)]
    for cell in dosed:
        parked(care, cell, "dose")
        assert care.dose(cell.appointment, first_device).status == 200
    sleepers(care, first_device + timedelta(minutes=40), len(dosed))
    care.advance_to(first_device + timedelta(minutes=40))  # no pressure taken: the check pages
    for cell in by_row["ObservationCheck"] + by_row["AwaitDischarge"]:
        check(care, faults, cell)
    for cell in by_row["ObservationCheck"]:
        if FAULTS[cell.fault].error is None:
            prompts = [m for s, m in care.pages() if s == "Blood pressure check due" and cell.id in m]
            assert len(prompts) == 1
    no_sns_where_none_is_sent(faults, cells)
    assert not any("Alex" in message or "corrupt" in message for _, message in care.pages())
