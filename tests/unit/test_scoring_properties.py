"""Property-based: any valid answer set scores within the instrument's range; any invalid
one is refused naming an item, whatever the instrument."""

from __future__ import annotations

import pytest
from clinic.domain.errors import InvalidRequest
from clinic.domain.instruments import CSSRS, INSTRUMENTS, Instrument, Risk, score
from hypothesis import given, settings
from hypothesis import strategies as st

TOTALLED = [code for code, instrument in INSTRUMENTS.items() if instrument is not CSSRS]


@st.composite
def valid_answers(draw: st.DrawFn, instrument: Instrument) -> dict[str, int]:
    """Answers to exactly the items the answers themselves call for."""
    answers: dict[str, int] = {}
    for item in instrument.items:
        if item.asked_if is None or answers.get(item.asked_if[0]) in item.asked_if[1]:
            answers[item.link_id] = draw(st.sampled_from([o.value for o in item.options]))
    return answers


def _maximum(instrument: Instrument) -> int:
    return sum(max(o.value for o in item.options) for item in instrument.items)


@pytest.mark.parametrize("code", TOTALLED)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_valid_answers_score_within_range_with_a_band_when_the_instrument_has_bands(code: str, data: st.DataObject) -> None:
    instrument = INSTRUMENTS[code]
    answers = data.draw(valid_answers(instrument))
    result = score(instrument, answers)
    assert result.total == sum(answers.values())
    assert 0 <= result.total <= _maximum(instrument)
    assert (result.band is not None) == bool(instrument.bands)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_valid_screener_answers_always_give_a_risk_level(data: st.DataObject) -> None:
    answers = data.draw(valid_answers(CSSRS))
    result = score(CSSRS, answers)
    assert result.risk in set(Risk) and result.total is None
    assert ("page-on-call" in result.flags) == (result.risk is Risk.HIGH)


def _break(instrument: Instrument, answers: dict[str, int], how: str, data: st.DataObject) -> tuple[dict[str, object], str]:
    """One way to make a valid answer set invalid, and the item it breaks."""
    broken: dict[str, object] = dict(answers)
    link_id = data.draw(st.sampled_from(sorted(answers)))
    if how == "missing":
        del broken[link_id]  # its own gate (if any) is still answered, so it is still asked
    elif how == "out-of-range":
        allowed = {o.value for o in instrument.item(link_id).options}
        broken[link_id] = data.draw(st.integers(min_value=-1000, max_value=1000).filter(lambda v: v not in allowed))
    elif how == "wrong-type":
        broken[link_id] = data.draw(st.one_of(st.text(max_size=5), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)))
    else:
        link_id = data.draw(st.text(min_size=1, max_size=12).filter(lambda t: t not in answers and t not in {i.link_id for i in instrument.items}))
        broken[link_id] = 1
    return broken, link_id


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@pytest.mark.parametrize("how", ["missing", "out-of-range", "wrong-type", "unknown-item"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_invalid_answers_are_refused_naming_the_item(code: str, how: str, data: st.DataObject) -> None:
    instrument = INSTRUMENTS[code]
    broken, link_id = _break(instrument, data.draw(valid_answers(instrument)), how, data)
    with pytest.raises(InvalidRequest) as refused:
        score(instrument, broken)
    fields = [field for field, _ in refused.value.problems]
    assert f"answers.{link_id}" in fields
