"""The waitlist: patients who want an earlier or another time, and the offers a freed chair
block makes them. Pure: who is eligible is decided here from facts the service gathers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time
from enum import StrEnum

from pydantic import Field, model_validator

from .model import StrictRecord
from .resources import WEEKDAYS, Weekday


class WaitlistEntry(StrictRecord):
    entry_id: str
    clinic_id: str
    patient_id: str
    session_type: str
    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    earliest: time
    latest: time  # the latest start the patient can take
    created_at: datetime
    position: int = 0  # the clinic's join counter: first come, first offered

    @model_validator(mode="after")
    def _window(self) -> WaitlistEntry:
        if self.latest < self.earliest:
            raise ValueError("latest must not be before earliest")
        return self

    def wants(self, session_type: str, local_start: datetime) -> bool:
        """Whether a start (in the clinic's zone) is one the patient asked for."""
        return (
            session_type == self.session_type
            and WEEKDAYS[local_start.weekday()] in self.weekdays
            and self.earliest <= local_start.time() <= self.latest
        )


def in_turn(
    entries: Iterable[WaitlistEntry],
    session_type: str,
    local_start: datetime,
    eligible: Callable[[WaitlistEntry], bool],
    limit: int,
) -> list[WaitlistEntry]:
    """The first `limit` entries, in the order they joined, that want this time and may take it."""
    ordered = sorted(entries, key=lambda e: (e.position, e.created_at))
    return [e for e in ordered if e.wants(session_type, local_start) and eligible(e)][:limit]


class OfferStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"


class WaitlistOffer(StrictRecord):
    """A freed chair block offered to waitlisted patients: the first to accept books it.
    Its id is the cancelled appointment's, so one cancellation makes one offer."""

    offer_id: str
    clinic_id: str
    session_type: str
    chair_id: str
    provider_id: str
    start: datetime
    offered_to: list[str]  # entry ids, in waitlist order
    valid_until: datetime  # the last moment the time can still be booked (minimum notice)
    status: OfferStatus = OfferStatus.OPEN
    version: int = 1
    created_at: datetime
    taken_by: str | None = None  # the entry whose patient accepted
    appointment_id: str | None = None
