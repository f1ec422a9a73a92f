"""A follow-up's survey session: the screener after a positive item 9, crisis resources, urgency."""

from __future__ import annotations

import pytest
from clinic.domain.errors import Conflict, InvalidRequest
from clinic.domain.surveys import Safety, answer, expire, start

CALM_PHQ9 = {f"phq9-{n}": 1 for n in range(1, 9)} | {"phq9-9": 0}
IDEATION_PHQ9 = CALM_PHQ9 | {"phq9-9": 1}
GAD7 = {f"gad7-{n}": 0 for n in range(1, 8)}
NO_RISK = {"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0}
WISH_ONLY = {"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0}
INTENT = {"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 1, "cssrs-4": 1, "cssrs-5": 0, "cssrs-6": 0}


def test_a_calm_survey_finishes_with_nothing_to_do() -> None:
    session = answer(answer(start(["phq-9", "gad-7"]), "phq-9", CALM_PHQ9), "gad-7", GAD7)
    assert session.finished and session.safety is Safety.NONE and not session.crisis_resources


def test_item_9_brings_the_screener_first_and_shows_crisis_resources_at_once() -> None:
    session = answer(start(["phq-9", "gad-7"]), "phq-9", IDEATION_PHQ9)
    assert session.pending == ("c-ssrs-screener", "gad-7")
    assert session.crisis_resources
    assert session.safety is Safety.PAGE  # until the screener says otherwise


@pytest.mark.parametrize(
    ("screener", "safety"), [(NO_RISK, Safety.FOLLOW_UP), (WISH_ONLY, Safety.FOLLOW_UP), (INTENT, Safety.PAGE)]
)
def test_the_screener_decides_between_a_same_day_task_and_a_page(screener: dict, safety: Safety) -> None:
    session = answer(answer(start(["phq-9"]), "phq-9", IDEATION_PHQ9), "c-ssrs-screener", screener)
    assert session.finished and session.safety is safety


def test_no_screener_answer_after_a_positive_item_9_pages() -> None:
    session = expire(answer(start(["phq-9"]), "phq-9", IDEATION_PHQ9))
    assert session.finished and session.safety is Safety.PAGE


def test_answers_are_taken_once_and_only_for_what_is_pending() -> None:
    session = answer(start(["phq-9"]), "phq-9", CALM_PHQ9)
    with pytest.raises(Conflict):
        answer(session, "phq-9", CALM_PHQ9)
    with pytest.raises(Conflict):
        answer(start(["phq-9"]), "c-ssrs-screener", NO_RISK)


def test_bad_answers_change_nothing() -> None:
    session = start(["phq-9"])
    with pytest.raises(InvalidRequest):
        answer(session, "phq-9", CALM_PHQ9 | {"phq9-1": 7})
    assert session.pending == ("phq-9",) and session.scores == ()
