"""Patient links: an unguessable token in the URL, only its hash in storage."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from .model import Record

TOKEN_BYTES = 32  # 256 random bits


class LinkKind(StrEnum):
    CONFIRM = "confirm"
    SURVEY = "survey"
    WAITLIST = "waitlist"


class Link(Record):
    digest: str
    kind: LinkKind
    appointment_id: str
    run: int  # a reschedule starts a new run: links of the old times stop working
    valid_until: datetime
    used_at: datetime | None = None
    follow_up: int | None = None  # SURVEY: the follow-up's number (its state says whether it is still open)
    waitlist_entry: str | None = None  # WAITLIST: whose offer it is (appointment_id is the offer's id)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
