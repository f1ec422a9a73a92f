"""The safety path after a follow-up: a page that climbs the clinic's on-call chain until a
clinician acknowledges it, and same-day tasks for lower-risk answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import Conflict, InvalidRequest
from .model import Record
from .resources import Clinic

LEVELS = ("on-call", "backup", "lead")
TIMER_SLACK = timedelta(minutes=1)


class Page(Record):
    attempt: int  # 0 on-call, 1 backup, 2 lead; later attempts page the last in the chain again
    level: str
    provider_id: str | None = None  # None: nobody reachable at this level; the rest of the clinic's chain got it
    at: datetime


class Acknowledgment(Record):
    by: str  # the clinician's username
    at: datetime
    note: str | None = None


class Escalation(Record):
    escalation_id: str
    appointment_id: str
    follow_up: int
    clinic_id: str
    patient_id: str
    reason: str
    started_at: datetime
    pages: tuple[Page, ...] = ()
    acknowledged: Acknowledgment | None = None
    task_token: str | None = None
    version: int = 1

    @property
    def open(self) -> bool:
        return self.acknowledged is None


def attempt_due(escalation: Escalation, now: datetime, acknowledge_minutes: int) -> int:
    """Which page is due now: one more every `acknowledge_minutes` without an acknowledgment.
    Counted from the start, so a step that runs twice pages the same person once; a minute
    of slack lets a timer that fires a moment early still move up the chain."""
    elapsed = max(timedelta(0), now - escalation.started_at) + TIMER_SLACK
    return int(elapsed // timedelta(minutes=acknowledge_minutes))


def recipient(chain: list[str], attempt: int) -> tuple[str, str | None]:
    """The level and provider for a page attempt; past the chain's end, its last again."""
    index = min(attempt, len(chain or LEVELS) - 1)
    return LEVELS[index], (chain[index] if chain else None)


def chain_pagers(clinic: Clinic) -> list[tuple[str, str]]:
    """The clinic's on-call chain as (provider id, pager), in order: where its pages go. Pages
    never leave the clinic: there is no shared address every clinic's staff would read."""
    members = [clinic.providers.get(provider_id) for provider_id in clinic.profile.escalation_chain]
    return [(member.provider_id, member.pager) for member in members if member is not None and member.pager and member.active]


def check_chain(clinic: Clinic) -> None:
    """A clinic that sends follow-up surveys or gives Spravato must be able to page someone:
    an escalation chain whose every member is an active provider with a pager."""
    chain = clinic.profile.escalation_chain
    if not chain:
        raise InvalidRequest("escalationChain", "this clinic has no escalation chain: an admin names its on-call providers first")
    unreachable = [
        f"escalationChain[{n}]" for n, provider_id in enumerate(chain)
        if (member := clinic.providers.get(provider_id)) is None or not member.pager or not member.active
    ]
    if unreachable:
        raise InvalidRequest(
            "escalationChain", f"every provider on the chain needs a pager and must be active ({', '.join(unreachable)} cannot be paged)"
        )


def acknowledge(escalation: Escalation, by: str, at: datetime, note: str | None) -> Escalation:
    if escalation.acknowledged is not None:
        raise Conflict(f"already acknowledged by {escalation.acknowledged.by}")
    return escalation.model_copy(
        update={"acknowledged": Acknowledgment(by=by, at=at, note=note), "task_token": None, "version": escalation.version + 1}
    )


class ClinicianTask(Record):
    task_id: str
    appointment_id: str
    follow_up: int
    clinic_id: str
    patient_id: str
    reason: str
    created_at: datetime
    due_at: datetime  # the end of the clinic's day: same-day follow-up
    completed: Acknowledgment | None = None
    version: int = 1


def end_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(23, 59), tzinfo=zone).astimezone(UTC)


def complete(task: ClinicianTask, by: str, at: datetime, note: str | None) -> ClinicianTask:
    if task.completed is not None:
        raise Conflict(f"already completed by {task.completed.by}")
    return task.model_copy(update={"completed": Acknowledgment(by=by, at=at, note=note), "version": task.version + 1})
