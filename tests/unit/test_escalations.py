"""The on-call chain: who is paged when, and acknowledgment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.errors import Conflict
from clinic.domain.escalations import Escalation, Page, acknowledge, attempt_due, end_of_day, recipient

STARTED = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CHAIN = ["dr-on-call", "dr-backup", "dr-lead"]


def escalation() -> Escalation:
    return Escalation(
        escalation_id="a1-1", appointment_id="a1", follow_up=1, clinic_id="north", patient_id="p1",
        reason="C-SSRS high risk", started_at=STARTED,
    )


@pytest.mark.parametrize(
    ("minutes", "attempt"),
    [(0, 0), (13, 0), (14, 1), (15, 1), (29, 2), (30, 2), (45, 3)],  # a minute of slack for timers
)
def test_one_more_page_is_due_every_acknowledgment_period(minutes: int, attempt: int) -> None:
    assert attempt_due(escalation(), STARTED + timedelta(minutes=minutes), 15) == attempt


@pytest.mark.parametrize(
    ("chain", "attempt", "expected"),
    [
        (CHAIN, 0, ("on-call", "dr-on-call")),
        (CHAIN, 1, ("backup", "dr-backup")),
        (CHAIN, 2, ("lead", "dr-lead")),
        (CHAIN, 5, ("lead", "dr-lead")),  # past the chain: the lead again
        (["dr-solo"], 1, ("on-call", "dr-solo")),
        ([], 1, ("backup", None)),  # nobody named: the clinicians' topic gets it
    ],
)
def test_each_attempt_pages_the_next_in_the_chain(chain: list[str], attempt: int, expected: tuple) -> None:
    assert recipient(chain, attempt) == expected


def test_an_acknowledgment_is_recorded_once_with_who_and_when() -> None:
    at = STARTED + timedelta(minutes=7)
    acked = acknowledge(escalation().model_copy(update={"task_token": "t"}), "dr-on-call", at, "called the patient")
    assert (acked.acknowledged.by, acked.acknowledged.at, acked.task_token, acked.open) == ("dr-on-call", at, None, False)
    with pytest.raises(Conflict, match="already acknowledged by dr-on-call"):
        acknowledge(acked, "dr-backup", at, None)


def test_a_same_day_task_is_due_at_the_end_of_the_clinics_day() -> None:
    late_evening_utc = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 22:00 the day before in New York
    due = end_of_day(late_evening_utc, ZoneInfo("America/New_York"))
    assert due == datetime(2026, 12, 3, 4, 59, tzinfo=UTC)


def test_an_escalation_stored_without_its_empty_fields_reads_back_whole() -> None:
    paged = escalation().model_copy(update={"pages": (Page(attempt=0, level="on-call", at=STARTED),)})
    stored = paged.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert Escalation.model_validate(stored) == paged


def test_the_unacknowledged_escalation_metric_is_what_the_operators_alarm_watches(capsys, monkeypatch) -> None:
    from clinic.workflow.handler import _unacknowledged_past_the_chain

    monkeypatch.setenv("STAGE", "prod")
    _unacknowledged_past_the_chain()
    metric = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metric["EscalationUnacknowledged"] == [1.0]
    (declared,) = metric["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "KetamineClinic" and [sorted(d) for d in declared["Dimensions"]] == [["service", "stage"]]
    assert (metric["service"], metric["stage"]) == ("care-workflow", "prod")  # the alarm's dimensions
