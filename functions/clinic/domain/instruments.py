"""Follow-up questionnaires as data (versioned) and their scoring as pure code, per DOMAIN.md.

LOINC codes are the ones DOMAIN.md lists; items without one there carry none rather than a
guess. Re-check codes and wording against the publishers before a clinic goes live."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .errors import InvalidRequest
from .model import Record


class Option(Record):
    value: int
    label: str


class Item(Record):
    link_id: str
    text: str
    options: tuple[Option, ...]
    loinc: str | None = None
    # Asked only when another item was answered with one of these values (C-SSRS follow-ups).
    asked_if: tuple[str, tuple[int, ...]] | None = None


class Band(Record):
    low: int
    high: int
    label: str


class Instrument(Record):
    code: str
    version: str
    title: str
    preamble: str
    loinc: str | None
    total_loinc: str | None
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()

    def item(self, link_id: str) -> Item:
        return next(item for item in self.items if item.link_id == link_id)

    def asked(self, answers: Mapping[str, int]) -> list[Item]:
        """The items this set of answers calls for."""
        return [
            item
            for item in self.items
            if item.asked_if is None or answers.get(item.asked_if[0]) in item.asked_if[1]
        ]


class Risk(StrEnum):
    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Score(Record):
    instrument: str
    version: str
    total: int | None = None  # the C-SSRS screener has a risk level, not a total
    band: str | None = None
    flags: tuple[str, ...]
    risk: Risk | None = None


FREQUENCY = tuple(
    Option(value=v, label=label)
    for v, label in enumerate(("Not at all", "Several days", "More than half the days", "Nearly every day"))
)
BOTHERED = tuple(
    Option(value=v, label=label)
    for v, label in enumerate(("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"))
)
YES_NO = (Option(value=0, label="No"), Option(value=1, label="Yes"))


def _items(
    prefix: str, texts: list[str], options: tuple[Option, ...], loinc: Mapping[int, str] | None = None
) -> tuple[Item, ...]:
    codes = loinc or {}
    return tuple(
        Item(link_id=f"{prefix}-{n}", text=text, options=options, loinc=codes.get(n)) for n, text in enumerate(texts, 1)
    )


PHQ9 = Instrument(
    code="phq-9",
    version="1",
    title="PHQ-9",
    preamble="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    loinc="44249-1",
    total_loinc="44261-6",
    items=_items(
        "phq9",
        [
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            (
                "Moving or speaking so slowly that other people could have noticed, or the opposite: being so "
                "fidgety or restless that you have been moving around a lot more than usual"
            ),
            "Thoughts that you would be better off dead, or of hurting yourself in some way",
        ],
        FREQUENCY,
        {9: "44260-8"},
    ),
    bands=(
        Band(low=0, high=4, label="minimal"),
        Band(low=5, high=9, label="mild"),
        Band(low=10, high=14, label="moderate"),
        Band(low=15, high=19, label="moderately severe"),
        Band(low=20, high=27, label="severe"),
    ),
)

GAD7 = Instrument(
    code="gad-7",
    version="1",
    title="GAD-7",
    preamble="Over the last 2 weeks, how often have you been bothered by the following problems?",
    loinc=None,
    total_loinc="70274-6",
    items=_items(
        "gad7",
        [
            "Feeling nervous, anxious, or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid, as if something awful might happen",
        ],
        FREQUENCY,
    ),
    bands=(
        Band(low=0, high=4, label="minimal"),
        Band(low=5, high=9, label="mild"),
        Band(low=10, high=14, label="moderate"),
        Band(low=15, high=21, label="severe"),
    ),
)

PCL5 = Instrument(
    code="pcl-5",
    version="1",
    title="PCL-5",
    preamble="In the past month, how much were you bothered by:",
    loinc="101697-1",
    total_loinc=None,
    items=_items(
        "pcl5",
        [
            "Repeated, disturbing, and unwanted memories of the stressful experience?",
            "Repeated, disturbing dreams of the stressful experience?",
            "Suddenly feeling or acting as if the stressful experience were actually happening again?",
            "Feeling very upset when something reminded you of the stressful experience?",
            "Having strong physical reactions when something reminded you of the stressful experience?",
            "Avoiding memories, thoughts, or feelings related to the stressful experience?",
            "Avoiding external reminders of the stressful experience?",
            "Trouble remembering important parts of the stressful experience?",
            "Having strong negative beliefs about yourself, other people, or the world?",
            "Blaming yourself or someone else for the stressful experience or what happened after it?",
            "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
            "Loss of interest in activities that you used to enjoy?",
            "Feeling distant or cut off from other people?",
            "Trouble experiencing positive feelings?",
            "Irritable behavior, angry outbursts, or acting aggressively?",
            "Taking too many risks or doing things that could cause you harm?",
            "Being 'superalert' or watchful or on guard?",
            "Feeling jumpy or easily startled?",
            "Having difficulty concentrating?",
            "Trouble falling or staying asleep?",
        ],
        BOTHERED,
    ),
)

_IF_THOUGHTS = ("cssrs-2", (1,))
CSSRS = Instrument(
    code="c-ssrs-screener",
    version="1",
    title="C-SSRS screener",
    preamble="In the past month:",
    loinc=None,
    total_loinc="93374-7",  # the risk level
    items=(
        Item(link_id="cssrs-1", text="Have you wished you were dead or wished you could go to sleep and not wake up?", options=YES_NO, loinc="93246-7"),
        Item(link_id="cssrs-2", text="Have you actually had any thoughts of killing yourself?", options=YES_NO, loinc="93247-5"),
        Item(link_id="cssrs-3", text="Have you been thinking about how you might do this?", options=YES_NO, loinc="93248-3", asked_if=_IF_THOUGHTS),
        Item(link_id="cssrs-4", text="Have you had these thoughts and had some intention of acting on them?", options=YES_NO, loinc="93249-1", asked_if=_IF_THOUGHTS),
        Item(
            link_id="cssrs-5",
            text="Have you started to work out or worked out the details of how to kill yourself? Do you intend to carry out this plan?",
            options=YES_NO,
            loinc="93250-9",
            asked_if=_IF_THOUGHTS,
        ),
        Item(
            link_id="cssrs-6",
            text="Have you ever done anything, started to do anything, or prepared to do anything to end your life?",
            options=YES_NO,
            loinc="93267-3",
        ),
        Item(link_id="cssrs-6-recent", text="Was this within the past 3 months?", options=YES_NO, asked_if=("cssrs-6", (1,))),
    ),
)

INSTRUMENTS = {instrument.code: instrument for instrument in (PHQ9, GAD7, PCL5, CSSRS)}


def check_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int]:
    """The answers as integers, or InvalidRequest naming every item that is missing, not
    asked, of the wrong type or out of range."""
    problems: list[tuple[str, str]] = []
    known = {item.link_id for item in instrument.items}
    problems += [(f"answers.{link_id}", "is not an item of this questionnaire") for link_id in answers if link_id not in known]
    values: dict[str, int] = {}
    for link_id, value in answers.items():
        if link_id in known and isinstance(value, int) and not isinstance(value, bool):
            values[link_id] = value
        elif link_id in known:
            problems.append((f"answers.{link_id}", "must be a whole number"))
    asked = instrument.asked(values)
    for item in asked:
        if item.link_id not in answers:
            problems.append((f"answers.{item.link_id}", "is missing"))
        elif item.link_id in values and values[item.link_id] not in {o.value for o in item.options}:
            allowed = ", ".join(str(o.value) for o in item.options)
            problems.append((f"answers.{item.link_id}", f"must be one of {allowed}"))
    asked_ids = {item.link_id for item in asked}
    problems += [(f"answers.{link_id}", "was not asked") for link_id in values if link_id not in asked_ids]
    if problems:
        raise InvalidRequest(problems[0][0], problems[0][1], *problems[1:])
    return values


def score(instrument: Instrument, answers: Mapping[str, object], *, ptsd_cutoff: int = 33) -> Score:
    values = check_answers(instrument, answers)
    if instrument.code == CSSRS.code:
        return _cssrs(values)
    total = sum(values.values())
    band = next((b.label for b in instrument.bands if b.low <= total <= b.high), None)
    flags: list[str] = []
    if instrument.code == PHQ9.code and values["phq9-9"] > 0:
        flags.append("suicidal-ideation")  # whatever the total: same-day follow-up, C-SSRS next
    if instrument.code == GAD7.code and total >= 10:
        flags.append("warrants-evaluation")
    if instrument.code == PCL5.code and total >= ptsd_cutoff:
        flags.append("probable-ptsd")
    return Score(instrument=instrument.code, version=instrument.version, total=total, band=band, flags=tuple(flags))


def _cssrs(values: Mapping[str, int]) -> Score:
    def yes(link_id: str) -> bool:
        return values.get(link_id) == 1

    if yes("cssrs-4") or yes("cssrs-5") or (yes("cssrs-6") and yes("cssrs-6-recent")):
        risk = Risk.HIGH
    elif yes("cssrs-3") or yes("cssrs-6"):
        risk = Risk.MODERATE
    elif yes("cssrs-1") or yes("cssrs-2"):
        risk = Risk.LOW
    else:
        risk = Risk.NONE
    flags = ("page-on-call",) if risk is Risk.HIGH else ()
    return Score(instrument=CSSRS.code, version=CSSRS.version, total=None, band=None, flags=flags, risk=risk)


class Progress(Record):
    """Measurement-based care for one instrument: the course baseline and where the patient is now."""

    instrument: str
    baseline: int | None
    latest: int | None
    change_percent: float | None
    response: bool  # down 50 % or more from the baseline
    remission: bool  # PHQ-9 below 5


def progress(instrument: Instrument, totals: list[int]) -> Progress:
    """`totals` in the order they were answered; the first is the course baseline."""
    if not totals:
        return Progress(instrument=instrument.code, baseline=None, latest=None, change_percent=None, response=False, remission=False)
    baseline, latest = totals[0], totals[-1]
    change = None if baseline == 0 else round(100 * (latest - baseline) / baseline, 1)
    return Progress(
        instrument=instrument.code,
        baseline=baseline,
        latest=latest,
        change_percent=change,
        response=len(totals) > 1 and baseline > 0 and latest <= baseline / 2,
        remission=instrument.code == PHQ9.code and len(totals) > 1 and latest < 5,
    )
