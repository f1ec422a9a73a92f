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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clinic.usecases.care_workflow import CareWorkflow

from tests.support.faults import Call, Faults
from tests.support.logs import CapturedLogs
from tests.support.timing import eventually
from tests.support.world import ALL_WEEK, CLINIC, at, org_key
from tests.workflow.conftest import NOW, CareWorld
from tests.workflow.journeys import task_states


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


@dataclass(frozen=True, eq=False)
class Row:
    state: str  # the Task state
    step: str  # the handler's step
    wait_for: str | None = None  # a park's (or an overdue check's) step, told apart by it
    sends: bool = False  # publishes to SNS
    # A fault the design answers otherwise than the default (below): column -> what the cell shows.
    handled: Mapping[str, Callable[[CareWorld, Cell], None]] = field(default_factory=dict)
    sent: Callable[[CareWorld, Cell], list[str]] | None = None  # the messages the step sends, once each

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


# A cohort's steps all run at once (each invocation builds its environment cold): give them time.
WAIT = 30.0


def until(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """eventually(), polling every 20 ms: the conditions here read moto, and a tight loop
    would take the interpreter threads' CPU."""
    return eventually(condition, timeout, what, every=0.02)


def pages_about(care: CareWorld, cell: Cell, subject: str, *words: str) -> list[str]:
    return [m for s, m in care.pages() if s == subject and cell.id in m and all(w in m for w in words)]


def texts_to(care: CareWorld, cell: Cell, *words: str) -> list[str]:
    return [t for to, t in care.sms() if to == cell.phone and all(w in t for w in words)]


# --- designs other than "retried, then once" and "flagged, paged, failed" ---------------------------
def reminder_flagged(care: CareWorld, cell: Cell) -> None:
    """A reminder that cannot go out (for whatever reason): the front desk calls; the journey goes on."""
    flagged = until(lambda: (a := care.appointment(cell.id)).get("attention") and a, f"{cell.id} flagged")
    assert flagged["attention"]["kind"] == "unreachable" and "call the patient" in flagged["attention"]["reason"]
    assert care.status(cell.appointment) == "RUNNING"
    assert texts_to(care, cell) == []


# --- the rows ------------------------------------------------------------------------------------
def _pages(subject: str, *words: str) -> Callable[[CareWorld, Cell], list[str]]:
    return lambda care, cell: pages_about(care, cell, subject, *words)


def _texts(*words: str) -> Callable[[CareWorld, Cell], list[str]]:
    return lambda care, cell: texts_to(care, cell, *words)


REMIND_HANDLED = dict.fromkeys(("dynamodb-refused", "sns-refused", "step-crashes"), reminder_flagged)
ROWS = [
    Row("Remind", "remind", sends=True, handled=REMIND_HANDLED, sent=_texts("Reminder")),
    Row("AwaitCheckIn", "park", "check-in"),
    Row("AwaitDose", "park", "dose"),
    Row("ObservationCheck", "observation-check", sends=True, sent=_pages("Blood pressure check due")),
    Row("AwaitDischarge", "park", "discharge"),
]
EXERCISED = ROWS
# Task states not driven here (each run of a matrix costs seconds of CPU on the CI's two cores).
# Every Task's retry policy and catch-to-flag path are asserted on the definition
# (tests/infra/test_workflow_template.py); these tests exercise what each does at run time.
COVERED_ELSEWHERE: dict[str, str] = {
    "ReminderFailed": "test_care_workflow.py::test_a_patient_who_cannot_be_reached_is_flagged_and_the_session_goes_on",
    "FlagNeedsAttention": "test_care_workflow.py::test_a_step_failing_for_good_flags_the_appointment_pages_and_fails_the_execution; "
    "a flag that cannot be written still pages: test_follow_up.py::test_a_failure_whose_flag_cannot_be_written_still_pages_the_clinicians",
    "MissedCheckIn": "test_care_workflow.py::test_no_show_after_the_grace_period_releases_the_chair_and_ends_the_execution",
    "DoseOverdue": "test_care_workflow.py::test_a_dose_overdue_is_flagged_and_a_late_dose_settles_it",
    "AwaitLateDose": "test_care_workflow.py::test_a_lost_callback_while_late_is_picked_up_by_the_recheck",
    "DischargeOverdue": "test_care_workflow.py::test_an_overdue_discharge_alerts_and_flags_then_a_late_discharge_carries_on",
    "AwaitLateDischarge": "test_care_workflow.py::test_an_overdue_discharge_alerts_and_flags_then_a_late_discharge_carries_on",
    "AwaitFollowUp": "a refused survey link: test_follow_up.py::"
    "test_a_survey_link_that_cannot_be_sent_puts_the_patient_on_the_call_list_at_once",
    "Escalate": "a refused pager: test_follow_up.py::"
    "test_a_refused_pager_sends_the_page_to_the_rest_of_the_clinic_s_chain_and_no_other_clinic_s",
    "FollowUpCheck": "test_follow_up.py::test_no_answer_in_24_hours_sends_one_reminder_and_an_answer_then_completes",
    "CreateFollowUpTask": "test_follow_up.py::test_a_lower_risk_positive_creates_a_same_day_task_for_a_clinician",
    "RemsFormCheck": "test_rems_form_overdue.py",
    "HandOffEscalation": "test_follow_up.py::test_after_three_rounds_of_the_chain_paging_stops_and_the_escalation_is_handed_to_the_alerts",
}


def test_every_task_state_of_the_machine_has_a_row(template) -> None:
    rows = [row.state for row in EXERCISED]
    missing = [s for s in task_states(template) if s not in rows and s not in COVERED_ELSEWHERE]
    assert not missing, f"Task states with no row driven through the fault matrix: {missing}"
    assert not [r for r in rows if r not in task_states(template)], "a row names no Task state of the machine"


def test_every_test_named_as_covering_a_state_exists() -> None:
    """A renamed or deleted test must not leave its state silently uncovered."""
    here = Path(__file__).parent
    named = [ref for text in COVERED_ELSEWHERE.values() for ref in re.findall(r"(test_\w+\.py)(?:::(test_\w+))?", text)]
    assert len(named) >= len(COVERED_ELSEWHERE)
    for file, test in named:
        source = (here / file).read_text()
        assert not test or f"def {test}(" in source, f"{file}::{test} does not exist"


def cells_of(rows: list[Row]) -> list[tuple[Row, str]]:
    return [(row, fault) for row in rows for fault, kind in FAULTS.items() if row.sends or kind.service != "sns"]


# --- the cohort: one appointment per journey, same start, a chair each ------------------------------
def cohort(care: CareWorld, faults: Faults, journeys: list[list[tuple[Row, str]]], days_ahead: int = 5) -> list[Cell]:
    """Books one appointment per journey: each of its cells has a fault at its own step. A
    journey's cells are transient or handled faults (the run goes on) and at most one that ends it, last."""
    for nurse in range(len(journeys) // 20 + 1):  # 20 patients at once each
        body = {"name": f"Nurse F{nurse}", "role": "nurse", "capacity": 20, "workingHours": ALL_WEEK}
        assert care.call("PUT", f"/clinics/{CLINIC}/providers/nurse-f{nurse}", body, role="admin").status == 200
    start, booked = at(NOW.date() + timedelta(days=days_ahead), 10), []
    for n, journey in enumerate(journeys):
        chair = f"fault-chair-{n}"
        assert care.call("PUT", f"/clinics/{CLINIC}/chairs/{chair}", {"name": chair}, role="admin").status == 200
        phone = f"+1555555{n:04d}"
        patient = care.register_patient(key=f"fault-patient-{n}", phone=phone)
        reply = care.book(patient["patientId"], start, key=f"fault-booking-{n}", chair=chair, provider=f"nurse-f{n // 20}")
        assert reply.status == 201, reply.body
        booked.extend(Cell(row, fault, reply.body, phone) for row, fault in journey)
    arm(faults, booked)
    return booked


def arm(faults: Faults, cells: list[Cell]) -> None:
    for cell in cells:
        kind = FAULTS[cell.fault]
        if kind.service is None:
            continue

        def where(call: Call, cell: Cell = cell, kind: Kind = kind) -> bool:
            return cell.in_step(call) and call.service == kind.service

        faults.inject(where, *kind.codes, times=kind.times)


def crashing(cells: list[Cell], monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str, str | None]]:
    """The step-crashes cells' steps raise before doing anything. Returns what crashes."""
    crash = {(c.id, c.row.step.replace("-", "_"), c.row.wait_for) for c in cells if c.fault == "step-crashes"}
    for name in {step for _, step, _ in crash}:
        real = getattr(CareWorkflow, name)

        def step(self, appointment_id, run, *args, _real=real, _name=name, **kwargs):
            wait_for = args[0] if _name in ("park", "overdue") else None
            if (appointment_id, _name, wait_for) in crash:
                raise RuntimeError("Alex Rivera's record is corrupt")  # a message with PHI: it must go nowhere
            return _real(self, appointment_id, run, *args, **kwargs)

        monkeypatch.setattr(CareWorkflow, name, step)
    return crash


def sleepers(care: CareWorld, instant: datetime, count: int) -> None:
    until(lambda: care.clock.deadlines().count(instant) >= count, f"{count} timers at {instant}")


def parked(care: CareWorld, cell: Cell | dict[str, Any], step: str) -> None:
    """Waits until the run stored its token for `step` (read from the table: polling the API costs CPU)."""
    appointment_id = cell.id if isinstance(cell, Cell) else cell["appointmentId"]
    key = {"pk": {"S": org_key(f"APPT#{appointment_id}")}, "sk": {"S": "APPT"}}

    def waiting_for() -> str | None:
        item = care.dynamodb.get_item(TableName=care.table_name, Key=key)["Item"]
        return item.get("workflow", {}).get("M", {}).get("waitingFor", {}).get("S")

    try:
        until(lambda: waiting_for() == step, f"{appointment_id} parked at {step}")
    except pytest.fail.Exception:
        states = care.states_entered({"appointmentId": appointment_id})
        pytest.fail(f"{appointment_id} not parked at {step}; its run went through {states}")


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


def transient(care: CareWorld, cell: Cell, *, workflow_flag: bool = False, ends: str | None = None) -> None:
    """Retried with back-off; the step then takes effect once; no failure flag or page."""
    kind, where = FAULTS[cell.fault], f"{cell.row.state} x {cell.fault}"
    outcome = until(lambda: "ok" in (a := attempts(care, cell)) and a, f"{where}: the step succeeded")
    assert outcome[: kind.times + 1] == ["TemporarilyUnavailable"] * kind.times + ["ok"], (where, outcome)
    if ends is not None:
        assert until(lambda: (s := care.status(cell.appointment)) != "RUNNING" and s, f"{where} ended") == ends, where
    else:
        assert care.status(cell.appointment) == "RUNNING", where
    if not workflow_flag:
        assert care.appointment(cell.id).get("attention", {}).get("kind") != "workflow", where
        assert pages_about(care, cell, "Appointment needs attention") == [], where
    if cell.row.sent is not None:
        assert len(until(lambda: cell.row.sent(care, cell), f"{where}: its message")) == 1, where


def ended(care: CareWorld, cell: Cell, failed: str) -> None:
    where = f"{cell.row.state} x {cell.fault}"
    finished = until(lambda: (st := care.status(cell.appointment)) != "RUNNING" and st, f"{where} ended")
    assert finished == "FAILED", where
    states = care.states_entered(cell.appointment)
    assert states[-3:] == [failed, "FlagNeedsAttention", "WorkflowFailed"], (where, states[-6:])


def failed_for_good(care: CareWorld, cell: Cell, flagged_attempts: list[str] | None = None) -> None:
    """Flagged "needs attention" naming the step, one page, the run FAILED through FlagNeedsAttention."""
    kind, where = FAULTS[cell.fault], f"{cell.row.state} x {cell.fault}"
    failed_step, error = cell.row.state, kind.error
    ended(care, cell, f"{failed_step}Failed")
    if flagged_attempts is None:
        assert set(attempts(care, cell)) == {kind.error}, (where, attempts(care, cell))
    else:
        assert attempts(care, cell) == flagged_attempts, where
    reason = f"the care workflow stopped at {failed_step!r} ({error}); check the appointment"
    attention = until(lambda: care.appointment(cell.id).get("attention"), f"{where} flagged")
    assert attention["kind"] == "workflow" and attention["reason"] == reason, (where, attention)
    assert pages_about(care, cell, "Appointment needs attention") == [f"{reason} Appointment {cell.id}."], where


def check(care: CareWorld, faults: Faults, cell: Cell, wrong: list[str] | None = None) -> None:
    """Asserts the cell's outcome; with `wrong`, records a wrong one there and goes on, so one
    run reports every wrong cell of its matrix."""
    try:
        if (design := cell.row.handled.get(cell.fault)) is not None:
            design(care, cell)
        elif FAULTS[cell.fault].error is None:
            transient(care, cell)
        else:
            failed_for_good(care, cell)
    except (AssertionError, pytest.fail.Exception) as error:
        if wrong is None:
            raise
        wrong.append(f"{cell.row.state} x {cell.fault} ({cell.id}): " + " ".join(str(error).splitlines()[:3])[:600])


def no_sns_where_none_is_sent(faults: Faults, cells: list[Cell]) -> None:
    for cell in cells:
        if not cell.row.sends:
            assert not [c for c in faults.calls if cell.in_step(c) and c.service == "sns"], cell.row.state


def no_phi_paged_or_logged(care: CareWorld, logs: CapturedLogs) -> None:
    assert not any("Alex" in message or "corrupt" in message for _, message in care.pages())
    assert [r for r in logs.records() if r.get("message") == "workflow step failed"]  # the crashes were logged
    assert "Alex" not in logs.text and "corrupt" not in logs.text


# --- the journeys ---------------------------------------------------------------------------------
def test_the_session_steps_under_every_fault(
    care: CareWorld, faults: Faults, monkeypatch: pytest.MonkeyPatch, function_logs: CapturedLogs
) -> None:
    """Reminders, check-in, dose, the post-dose pressure check (missed: it pages) and the wait for discharge."""
    cells = cohort(care, faults, [[cell] for cell in cells_of(ROWS)])
    crashing(cells, monkeypatch)
    start = datetime.fromisoformat(cells[0].appointment["start"])
    by_row = {row.state: [c for c in cells if c.row is row] for row in ROWS}

    sleepers(care, start - timedelta(hours=48), len(cells))
    care.advance_to(start - timedelta(hours=48))
    for cell in by_row["Remind"]:
        check(care, faults, cell)

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
    no_sns_where_none_is_sent(faults, cells)
    no_phi_paged_or_logged(care, function_logs)


