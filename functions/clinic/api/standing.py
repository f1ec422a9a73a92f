"""Whether a signed-in member's token still holds, checked on every staff request.

Cognito refuses a disabled member's sign-in and, after staff management signs them out,
their refresh token; but an ID token already issued stays valid until it expires (an hour)
and API Gateway's authorizer checks only its signature and expiry. So each request also
reads the member's record (usecases/staff.py) and refuses a token that asks for more than
the record grants now: a disabled member, a role taken away, a clinic removed. A member
without a record (an account the operator made with Cognito's own calls) is left to Cognito.

The record is kept per execution environment for `staff_standing_seconds` (30 s; settings.py).
That is the most a disabled member keeps working through an environment that read their
record just before (the environment that made the change forgets it at once): 30 s instead
of the token's hour, for one GetItem per member per 30 s per warm environment instead of one
per request. The local browser tests, where many environments share a process, use 1 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..domain.staff import StaffMember
from ..usecases.kernel import Actor
from .auth import AccessDenied

class StaffStanding:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._members: dict[tuple[str, str], tuple[float, StaffMember | None]] = {}
        self._lock = threading.Lock()

    def check(self, actor: Actor, read: Callable[[], StaffMember | None]) -> None:
        assert actor.reach is not None
        key = (actor.reach.organization_id, actor.name)
        with self._lock:
            cached = self._members.get(key)
        if cached is None or time.monotonic() - cached[0] >= self.seconds:
            cached = (time.monotonic(), read())
            with self._lock:
                self._members[key] = cached
        member = cached[1]
        if member is None:
            return
        if member.status == "disabled":
            raise AccessDenied(401, "your account is disabled: ask your practice's admin")
        if not member.grants(actor.groups, actor.reach):
            raise AccessDenied(401, "your role or clinics changed: sign in again")

    def forget(self, organization_id: str, username: str) -> None:
        with self._lock:
            self._members.pop((organization_id, username), None)
