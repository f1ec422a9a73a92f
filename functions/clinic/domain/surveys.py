"""One follow-up's survey session: which questionnaires are still to answer, when the
C-SSRS screener joins, when crisis resources show, and how urgent the outcome is.

Pure rules; storing answers, the patient's link and paging build on them."""

from __future__ import annotations

from enum import StrEnum

from .errors import Conflict
from .instruments import CSSRS, INSTRUMENTS, Risk, Score, score
from .model import Record


class Safety(StrEnum):
    NONE = "none"
    FOLLOW_UP = "follow-up"  # a lower-risk positive: a same-day task for a clinician
    PAGE = "page"  # high risk, or no screener answer after a positive item 9: page the on-call clinician


class Session(Record):
    pending: tuple[str, ...]
    scores: tuple[Score, ...] = ()

    @property
    def crisis_resources(self) -> bool:
        """Shown at once to a patient whose answers call for them (988, 911)."""
        return any("suicidal-ideation" in s.flags for s in self.scores) or any(s.risk is Risk.HIGH for s in self.scores)

    @property
    def finished(self) -> bool:
        return not self.pending

    @property
    def screening(self) -> bool:
        """The screener is waiting for an answer after a positive PHQ-9 item 9."""
        return CSSRS.code in self.pending and any("suicidal-ideation" in s.flags for s in self.scores)

    @property
    def safety(self) -> Safety:
        ideation = any("suicidal-ideation" in s.flags for s in self.scores)
        screened = [s for s in self.scores if s.instrument == CSSRS.code]
        if any(s.risk is Risk.HIGH for s in screened) or (ideation and not screened):
            return Safety.PAGE  # an unanswered screener counts as high risk
        if ideation or any(s.risk in (Risk.LOW, Risk.MODERATE) for s in screened):
            return Safety.FOLLOW_UP
        return Safety.NONE


def start(instruments: list[str]) -> Session:
    return Session(pending=tuple(instruments))


def answer(session: Session, instrument: str, answers: dict[str, object], *, ptsd_cutoff: int = 33) -> Session:
    """Scores one questionnaire of the session (InvalidRequest naming the items at fault);
    a positive PHQ-9 item 9 brings the C-SSRS screener into the same session, next."""
    if instrument not in session.pending:
        raise Conflict("this questionnaire is not waiting for an answer in this survey")
    result = score(INSTRUMENTS[instrument], answers, ptsd_cutoff=ptsd_cutoff)
    pending = [code for code in session.pending if code != instrument]
    if "suicidal-ideation" in result.flags and CSSRS.code not in pending:
        pending.insert(0, CSSRS.code)
    return Session(pending=tuple(pending), scores=(*session.scores, result))


def expire(session: Session) -> Session:
    """The survey ran out of time: what is unanswered stays so (and counts, see `safety`)."""
    return Session(pending=(), scores=session.scores)
