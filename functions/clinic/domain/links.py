"""Patient links: an unguessable token in the URL, only its hash in storage. The token
starts with its organization's id, so a link finds its practice's records without any
shared lookup; changing that part changes the hash, and the link matches nothing."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from .errors import LinkInvalid
from .model import Record
from .tenancy import ORGANIZATION_ID

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


def new_token(organization_id: str) -> str:
    return f"{organization_id}.{secrets.token_urlsafe(TOKEN_BYTES)}"


def organization_of(token: str) -> str:
    organization_id, dot, _ = token.partition(".")
    if not dot or not ORGANIZATION_ID.match(organization_id):
        raise LinkInvalid("this link is not valid; please use the latest message from your clinic")
    return organization_id


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
