"""Follow-up after discharge: the survey a patient answers through their link, and what the
workflow does next with it (wait, remind, escalate, create a task, give up, finish).

`decide` is the one place that reads a follow-up and the time and says what is due; the
workflow's steps and the answer route both act on it, so they never disagree."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import InvalidRequest, LinkGone
from .instruments import INSTRUMENTS, PCL5, Score
from .model import Record
from .rules import CareRules
from .surveys import Safety, Session, answer, expire, start

SAFETY_ORDER = (Safety.NONE, Safety.FOLLOW_UP, Safety.PAGE)


class FollowUpStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    MISSED = "missed"  # not finished by the link's expiry: the front desk calls


class FollowUp(Record):
    appointment_id: str
    number: int
    run: int
    clinic_id: str
    patient_id: str
    hours_after_discharge: int
    opened_at: datetime
    remind_at: datetime
    valid_until: datetime
    session: Session
    status: FollowUpStatus = FollowUpStatus.OPEN
    reminded_at: datetime | None = None
    screener_due_at: datetime | None = None  # set when a positive item 9 brings the screener in
    safety_handled: Safety = Safety.NONE  # the strongest safety step already taken
    undeliverable: bool = False  # the link could not be sent: the front desk calls
    task_token: str | None = None
    closed_at: datetime | None = None
    version: int = 1

    @property
    def follow_up_id(self) -> str:
        return f"{self.appointment_id}-{self.number}"

    @property
    def concerning(self) -> dict[str, Any]:
        """The ids a safety record (escalation, task) about this follow-up carries."""
        return {
            "appointment_id": self.appointment_id,
            "follow_up": self.number,
            "clinic_id": self.clinic_id,
            "patient_id": self.patient_id,
        }

    @property
    def on_call_list(self) -> bool:
        return self.status is FollowUpStatus.MISSED or (self.status is FollowUpStatus.OPEN and self.undeliverable)


def open_follow_up(
    *,
    appointment_id: str,
    run: int,
    number: int,
    clinic_id: str,
    patient_id: str,
    hours_after: int,
    instruments: list[str],
    now: datetime,
    care: CareRules,
) -> FollowUp:
    return FollowUp(
        appointment_id=appointment_id,
        run=run,
        number=number,
        clinic_id=clinic_id,
        patient_id=patient_id,
        hours_after_discharge=hours_after,
        opened_at=now,
        remind_at=now + timedelta(hours=care.survey_reminder_hours),
        valid_until=now + timedelta(hours=care.survey_expiry_hours),
        session=start(instruments),
    )


def instruments_due(
    planned: list[str], *, treating_ptsd: bool, last_ptsd_check: datetime | None, now: datetime, care: CareRules
) -> list[str]:
    """The follow-up's planned questionnaires, plus the PCL-5 when PTSD is treated and the
    last one answered is `ptsdCheckEveryDays` old (or there is none)."""
    due_for_pcl5 = last_ptsd_check is None or now - last_ptsd_check >= timedelta(days=care.ptsd_check_every_days)
    if treating_ptsd and due_for_pcl5 and PCL5.code not in planned:
        return [*planned, PCL5.code]
    return list(planned)


class Next(StrEnum):
    WAIT = "wait"
    REMIND = "remind"
    ESCALATE = "escalate"  # page the on-call chain until a clinician acknowledges
    TASK = "task"  # a same-day follow-up task for a clinician
    EXPIRE = "expire"
    DONE = "done"


class Decision(Record):
    next: Next
    until: datetime | None = None  # for WAIT: when to look again at the latest

    def output(self, now: datetime) -> dict[str, object]:
        """What the workflow receives: the next step, and for a wait its timeout in seconds."""
        wait = max(1, int((self.until - now).total_seconds())) if self.until else 1
        return {"next": self.next.value, "waitSeconds": wait}


def safety(follow_up: FollowUp, now: datetime) -> Safety | None:
    """How urgent the answers so far are; None while the patient still has time to answer
    the screener a positive item 9 brought in (an unanswered screener counts as high risk)."""
    session = follow_up.session
    if session.screening:
        due = follow_up.screener_due_at
        if follow_up.status is FollowUpStatus.OPEN and due is not None and now < due:
            return None
        return expire(session).safety
    return session.safety


def decide(follow_up: FollowUp, now: datetime) -> Decision:
    urgency = safety(follow_up, now)
    handled = SAFETY_ORDER.index(follow_up.safety_handled)
    if urgency is not None and SAFETY_ORDER.index(urgency) > handled:
        return Decision(next=Next.ESCALATE if urgency is Safety.PAGE else Next.TASK)
    if follow_up.status is not FollowUpStatus.OPEN:
        return Decision(next=Next.DONE)
    if now >= follow_up.valid_until:
        return Decision(next=Next.EXPIRE)
    if follow_up.reminded_at is None and now >= follow_up.remind_at:
        return Decision(next=Next.REMIND)
    deadlines = [follow_up.valid_until]
    if follow_up.reminded_at is None:
        deadlines.append(follow_up.remind_at)
    if urgency is None and follow_up.screener_due_at is not None:
        deadlines.append(follow_up.screener_due_at)
    return Decision(next=Next.WAIT, until=min(deadlines))


class QuestionnaireAnswers(Record):
    """A QuestionnaireResponse-shaped record: one questionnaire's answers as given."""

    response_id: str
    patient_id: str
    appointment_id: str
    follow_up: int
    questionnaire: str
    version: str
    authored: datetime
    answers: dict[str, int]


class ScoreRecord(Record):
    """An Observation-shaped record (category survey): a questionnaire's score, coded."""

    observation_id: str
    patient_id: str
    appointment_id: str
    instrument: str
    version: str
    loinc: str | None = None
    effective: datetime
    total: int | None = None
    band: str | None = None
    flags: tuple[str, ...]
    risk: str | None = None


class Answered(Record):
    follow_up: FollowUp
    response: QuestionnaireAnswers
    score: ScoreRecord


def answer_follow_up(
    follow_up: FollowUp, instrument: str, answers: dict[str, object], now: datetime, care: CareRules
) -> Answered:
    """Scores one questionnaire of an open follow-up; raises InvalidRequest naming the
    items at fault, Conflict for a questionnaire not asked, LinkGone once it is closed."""
    if follow_up.status is not FollowUpStatus.OPEN or now >= follow_up.valid_until:
        raise LinkGone("this survey is closed; thank you. If you need to talk to someone, call the clinic")
    if instrument not in INSTRUMENTS:
        raise InvalidRequest("instrument", f"must be one of {', '.join(follow_up.session.pending)}")
    session = answer(follow_up.session, instrument, answers, ptsd_cutoff=care.ptsd_cutoff)
    result: Score = session.scores[-1]
    update: dict[str, object] = {"session": session, "version": follow_up.version + 1}
    if session.screening and follow_up.screener_due_at is None:
        update["screener_due_at"] = now + timedelta(minutes=care.screener_answer_minutes)
    if session.finished:
        update |= {"status": FollowUpStatus.COMPLETED, "closed_at": now, "task_token": None}
    definition = INSTRUMENTS[instrument]
    ids = {"patient_id": follow_up.patient_id, "appointment_id": follow_up.appointment_id}
    return Answered(
        follow_up=follow_up.model_copy(update=update),
        response=QuestionnaireAnswers(
            response_id=str(uuid.uuid4()),
            follow_up=follow_up.number,
            questionnaire=instrument,
            version=definition.version,
            authored=now,
            answers={k: int(v) for k, v in answers.items()},  # type: ignore[call-overload]
            **ids,
        ),
        score=ScoreRecord(
            observation_id=str(uuid.uuid4()),
            instrument=instrument,
            version=definition.version,
            loinc=definition.total_loinc,
            effective=now,
            total=result.total,
            band=result.band,
            flags=result.flags,
            risk=result.risk.value if result.risk else None,
            **ids,
        ),
    )


def expire_follow_up(follow_up: FollowUp, now: datetime) -> FollowUp:
    """The link ran out: what is unanswered stays so (see `safety`), and the front desk calls."""
    return follow_up.model_copy(
        update={
            "status": FollowUpStatus.MISSED,
            "closed_at": now,
            "task_token": None,
            "version": follow_up.version + 1,
        }
    )
