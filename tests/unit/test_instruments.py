"""Questionnaire scoring, exactly per DOMAIN.md: every band boundary, the extremes, the flags."""

from __future__ import annotations

import pytest
from clinic.domain.errors import InvalidRequest
from clinic.domain.instruments import CSSRS, GAD7, INSTRUMENTS, PCL5, PHQ9, Instrument, Risk, progress, score


def answers_totalling(instrument: Instrument, total: int, **fixed: int) -> dict[str, int]:
    """Answers that sum to `total`, filling items from the first (fixed items kept as given)."""
    answers = {item.link_id: 0 for item in instrument.items}
    answers.update(fixed)
    remaining = total - sum(fixed.values())
    for item in instrument.items:
        if item.link_id in fixed:
            continue
        take = min(remaining, max(o.value for o in item.options))
        answers[item.link_id] = take
        remaining -= take
    assert remaining == 0, "total out of reach"
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
     (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe")],
)
def test_phq9_bands(total: int, band: str) -> None:
    result = score(PHQ9, answers_totalling(PHQ9, total))
    assert (result.total, result.band) == (total, band)


def test_phq9_item_9_above_zero_flags_suicidal_ideation_whatever_the_total() -> None:
    assert score(PHQ9, answers_totalling(PHQ9, 0)).flags == ()
    low_total = score(PHQ9, answers_totalling(PHQ9, 1, **{"phq9-9": 1}))
    assert (low_total.total, low_total.band, low_total.flags) == (1, "minimal", ("suicidal-ideation",))
    assert score(PHQ9, answers_totalling(PHQ9, 27)).flags == ("suicidal-ideation",)


@pytest.mark.parametrize(
    ("total", "band", "flags"),
    [(0, "minimal", ()), (4, "minimal", ()), (5, "mild", ()), (9, "mild", ()),
     (10, "moderate", ("warrants-evaluation",)), (14, "moderate", ("warrants-evaluation",)),
     (15, "severe", ("warrants-evaluation",)), (21, "severe", ("warrants-evaluation",))],
)
def test_gad7_bands_and_evaluation_from_10(total: int, band: str, flags: tuple[str, ...]) -> None:
    result = score(GAD7, answers_totalling(GAD7, total))
    assert (result.total, result.band, result.flags) == (total, band, flags)


@pytest.mark.parametrize(("total", "flags"), [(0, ()), (32, ()), (33, ("probable-ptsd",)), (80, ("probable-ptsd",))])
def test_pcl5_probable_ptsd_from_the_cutoff(total: int, flags: tuple[str, ...]) -> None:
    assert score(PCL5, answers_totalling(PCL5, total)).flags == flags
    assert score(PCL5, answers_totalling(PCL5, 31), ptsd_cutoff=31).flags == ("probable-ptsd",)


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ({"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 0}, Risk.NONE),
        ({"cssrs-1": 1, "cssrs-2": 0, "cssrs-6": 0}, Risk.LOW),
        ({"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 0, "cssrs-4": 0, "cssrs-5": 0, "cssrs-6": 0}, Risk.LOW),
        ({"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 1, "cssrs-4": 0, "cssrs-5": 0, "cssrs-6": 0}, Risk.MODERATE),
        ({"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 1, "cssrs-6-recent": 0}, Risk.MODERATE),
        ({"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 1, "cssrs-4": 1, "cssrs-5": 0, "cssrs-6": 0}, Risk.HIGH),
        ({"cssrs-1": 1, "cssrs-2": 1, "cssrs-3": 0, "cssrs-4": 0, "cssrs-5": 1, "cssrs-6": 0}, Risk.HIGH),
        ({"cssrs-1": 0, "cssrs-2": 0, "cssrs-6": 1, "cssrs-6-recent": 1}, Risk.HIGH),
    ],
)
def test_cssrs_high_risk_is_intent_plan_or_recent_behaviour(answers: dict[str, int], risk: Risk) -> None:
    result = score(CSSRS, answers)
    assert result.risk is risk
    assert result.flags == (("page-on-call",) if risk is Risk.HIGH else ())


def problems(instrument: Instrument, answers: dict[str, object]) -> list[str]:
    with pytest.raises(InvalidRequest) as refused:
        score(instrument, answers)
    return [field for field, _ in refused.value.problems]


def test_bad_answers_name_every_item_at_fault() -> None:
    answers: dict[str, object] = answers_totalling(PHQ9, 5)
    del answers["phq9-3"]
    answers["phq9-4"] = 4
    answers["phq9-5"] = "2"
    answers["phq9-6"] = True
    answers["phq9-10"] = 1
    assert sorted(problems(PHQ9, answers)) == sorted(
        ["answers.phq9-10", "answers.phq9-5", "answers.phq9-6", "answers.phq9-3", "answers.phq9-4"]
    )


def test_cssrs_follow_up_questions_are_asked_only_after_a_yes() -> None:
    assert problems(CSSRS, {"cssrs-1": 0, "cssrs-2": 0, "cssrs-3": 1, "cssrs-6": 0}) == ["answers.cssrs-3"]
    assert problems(CSSRS, {"cssrs-1": 0, "cssrs-2": 1, "cssrs-6": 0}) == [
        "answers.cssrs-3",
        "answers.cssrs-4",
        "answers.cssrs-5",
    ]


def test_instruments_carry_the_loinc_codes_of_the_domain() -> None:
    assert (PHQ9.loinc, PHQ9.total_loinc, PHQ9.item("phq9-9").loinc) == ("44249-1", "44261-6", "44260-8")
    assert GAD7.total_loinc == "70274-6" and PCL5.loinc == "101697-1"
    assert [i.loinc for i in CSSRS.items if i.loinc] == ["93246-7", "93247-5", "93248-3", "93249-1", "93250-9", "93267-3"]
    assert CSSRS.total_loinc == "93374-7"
    assert {len(i.items) for i in (PHQ9, GAD7, PCL5)} == {9, 7, 20}
    assert set(INSTRUMENTS) == {"phq-9", "gad-7", "pcl-5", "c-ssrs-screener"}


@pytest.mark.parametrize(
    ("totals", "response", "remission"),
    [
        ([], False, False),
        ([18], False, False),  # a baseline alone is not a response
        ([18, 10], False, False),  # down 44 %
        ([18, 9], True, False),  # down exactly 50 %
        ([18, 4], True, True),
        ([6, 5], False, False),  # remission is below 5
        ([6, 4], False, True),  # below 5 without halving
        ([0, 0], False, True),
    ],
)
def test_phq9_response_and_remission_from_the_course_baseline(totals: list[int], response: bool, remission: bool) -> None:
    result = progress(PHQ9, totals)
    assert (result.response, result.remission) == (response, remission)
    if len(totals) > 1 and totals[0]:
        assert result.change_percent == round(100 * (totals[-1] - totals[0]) / totals[0], 1)


def test_remission_is_a_phq9_notion() -> None:
    assert progress(GAD7, [12, 2]).remission is False
    assert progress(GAD7, [12, 2]).response is True
