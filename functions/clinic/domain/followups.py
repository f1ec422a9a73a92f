"""Follow-up after discharge: the workflow opens each one when it falls due and waits for
it. What a follow-up asks and how answers are scored builds on this record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class FollowUpStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    MISSED = "missed"


class FollowUp(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    appointment_id: str
    number: int
    hours_after_discharge: int
    instruments: list[str]  # the questionnaires it sends
    opened_at: datetime
    status: FollowUpStatus = FollowUpStatus.OPEN
    task_token: str | None = None
    closed_at: datetime | None = None
