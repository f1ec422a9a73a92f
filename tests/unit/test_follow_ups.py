"""What a follow-up does next, as pure rules: wait, remind, escalate, task, expire, done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clinic.domain.errors import Conflict, InvalidRequest, LinkGone
from clinic.domain.followups import (
    FollowUp,
    FollowUpStatus,
    Next,
    answer_follow_up,
    decide,
    expire_follow_up,
    instruments_due,
    open_follow_up,
)
from clinic.domain.rules import CareRules
from clinic.domain.surveys import Safety

OPENED = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CARE = CareRules()
CALM_PHQ9 = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 0}
ITEM_9 = CALM_PHQ9 | {"phq9-9": 1}


def opened(instruments: tuple[str, ...] = ("phq-9",)) -> FollowUp:
    return open_follow_up(
        appointment_id="a1", run=1, number=1, clinic_id="north", patient_id="p1",
        hours_after=24, instruments=list(instruments), now=OPENED, care=CARE,
    )


def answered(follow_up: FollowUp, instrument: str, answers: dict, minutes: int = 10) -> FollowUp:
    return answer_follow_up(follow_up, instrument, answers, OPENED + timedelta(minutes=minutes), CARE).follow_up


def test_an_open_survey_waits_for_the_reminder_then_for_the_expiry() -> None:
    follow_up = opened()
    assert decide(follow_up, OPENED).model_dump() == {"next": Next.WAIT, "until": OPENED + timedelta(hours=24)}
    assert decide(follow_up, OPENED + timedelta(hours=24)).next is Next.REMIND
    reminded = follow_up.model_copy(update={"reminded_at": OPENED + timedelta(hours=24)})
    assert decide(reminded, OPENED + timedelta(hours=24)).until == OPENED + timedelta(hours=72)
    assert decide(reminded, OPENED + timedelta(hours=72)).next is Next.EXPIRE


def test_the_wait_is_passed_to_the_workflow_in_whole_seconds_never_zero() -> None:
    decision = decide(opened(), OPENED)
    assert decision.output(OPENED) == {"next": "wait", "waitSeconds": 24 * 3600}
    assert decision.output(OPENED + timedelta(hours=25)) == {"next": "wait", "waitSeconds": 1}


def test_answering_everything_completes_the_follow_up_and_stores_answers_and_a_coded_score() -> None:
    result = answer_follow_up(opened(), "phq-9", CALM_PHQ9, OPENED + timedelta(hours=2), CARE)
    assert result.follow_up.status is FollowUpStatus.COMPLETED and result.follow_up.task_token is None
    assert decide(result.follow_up, OPENED + timedelta(hours=2)).next is Next.DONE
    assert (result.score.loinc, result.score.total, result.score.band) == ("44261-6", 8, "mild")
    assert result.response.answers == CALM_PHQ9 and result.response.questionnaire == "phq-9"


def test_item_9_sets_the_screener_deadline_and_the_wait_shortens_to_it() -> None:
    follow_up = answered(opened(("phq-9", "gad-7")), "phq-9", ITEM_9)
    due = OPENED + timedelta(minutes=10 + CARE.screener_answer_minutes)
    assert follow_up.session.pending == ("c-ssrs-screener", "gad-7") and follow_up.screener_due_at == due
    assert decide(follow_up, OPENED + timedelta(minutes=10)).model_dump() == {"next": Next.WAIT, "until": due}
    assert decide(follow_up, due).next is Next.ESCALATE  # no screener answer in time: high risk


@pytest.mark.parametrize(
    ("screener", "expected"),
    [
        ({"cssrs-1": 0, "cssrs-2": 1, "cssrs-3": 0, "cssrs-4": 1, "cssrs-5": 0, "cssrs-6": 0}, Next.ESCALATE),
        ({"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0}, Next.TASK),
        ({"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0}, Next.TASK),  # item 9 alone still needs a same-day call
    ],
)
def test_the_screener_answer_decides_page_or_task(screener: dict, expected: Next) -> None:
    follow_up = answered(answered(opened(), "phq-9", ITEM_9), "c-ssrs-screener", screener, minutes=12)
    assert decide(follow_up, OPENED + timedelta(minutes=12)).next is expected


def test_a_safety_step_taken_is_not_taken_again_and_a_page_covers_a_task() -> None:
    high = {"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 1, "cssrs-4": 0, "cssrs-5": 1, "cssrs-6": 0}
    follow_up = answered(answered(opened(), "phq-9", ITEM_9), "c-ssrs-screener", high, minutes=12)
    paged = follow_up.model_copy(update={"safety_handled": Safety.PAGE})
    assert decide(paged, OPENED + timedelta(minutes=12)).next is Next.DONE
    low = {"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0}
    tasked = answered(answered(opened(), "phq-9", ITEM_9), "c-ssrs-screener", low, minutes=12)
    assert decide(tasked.model_copy(update={"safety_handled": Safety.PAGE}), OPENED).next is Next.DONE


def test_an_expired_survey_is_missed_and_an_unanswered_screener_in_it_still_pages() -> None:
    follow_up = answered(opened(), "phq-9", ITEM_9)
    expired = expire_follow_up(follow_up, OPENED + timedelta(hours=72))
    assert expired.status is FollowUpStatus.MISSED and expired.on_call_list
    assert decide(expired, OPENED + timedelta(hours=72)).next is Next.ESCALATE


def test_answers_after_the_survey_closed_or_for_a_questionnaire_not_asked_are_refused() -> None:
    with pytest.raises(LinkGone):
        answer_follow_up(opened(), "phq-9", CALM_PHQ9, OPENED + timedelta(hours=72), CARE)
    with pytest.raises(Conflict):
        answer_follow_up(opened(), "gad-7", {f"gad7-{n}": 0 for n in range(1, 8)}, OPENED, CARE)
    with pytest.raises(InvalidRequest) as unknown:
        answer_follow_up(opened(), "beck", {}, OPENED, CARE)
    assert unknown.value.field == "instrument"


@pytest.mark.parametrize(
    ("treating_ptsd", "days_since_last", "expected"),
    [
        (False, None, ["phq-9"]),
        (True, None, ["phq-9", "pcl-5"]),  # never answered one
        (True, 29, ["phq-9"]),
        (True, 30, ["phq-9", "pcl-5"]),  # ptsdCheckEveryDays
    ],
)
def test_the_pcl5_joins_a_follow_up_monthly_when_ptsd_is_treated(treating_ptsd: bool, days_since_last: int | None, expected: list[str]) -> None:
    last = None if days_since_last is None else OPENED - timedelta(days=days_since_last)
    assert instruments_due(["phq-9"], treating_ptsd=treating_ptsd, last_ptsd_check=last, now=OPENED, care=CARE) == expected


def test_records_stored_without_their_empty_fields_read_back_whole() -> None:
    """DynamoDB items leave out None: every optional field must read back as None."""
    screener = {"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0}
    result = answer_follow_up(answered(opened(), "phq-9", ITEM_9), "c-ssrs-screener", screener, OPENED, CARE)
    for record in (result.follow_up, result.score, result.response):
        stored = record.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert type(record).model_validate(stored) == record
