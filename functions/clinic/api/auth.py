"""Who is calling, and may they.

API Gateway's Cognito authorizer has already checked the token's signature, expiry and
audience; its claims arrive in requestContext, which the client cannot set. Here we read
them and check the route's groups before anything else runs, so a caller without the
right role learns nothing about the request's shape. The caller's organization and clinics
come from the custom attributes `custom:organization` and `custom:clinics`, which only an
admin call can write (the app client may read them, not write them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..domain.errors import InvalidRequest
from ..domain.tenancy import Reach, clinics_claim
from ..usecases.kernel import Actor

FRONT_DESK = "front-desk"
CLINICIAN = "clinician"
ADMIN = "admin"
STAFF = frozenset({FRONT_DESK, CLINICIAN, ADMIN})
FRONT_OFFICE = frozenset({FRONT_DESK, ADMIN})
CLINICAL = frozenset({CLINICIAN})
PUBLIC: frozenset[str] = frozenset()  # patient links: the body's link token is the credential


@dataclass(frozen=True)
class RoutePolicy:
    method: str
    path: str
    groups: frozenset[str]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        # Exactly the route's own spelling: no trailing or doubled slash, no other case. The
        # resolver only ever sees a path that one of these matched.
        return re.compile("^" + re.sub(r"<[^/]+>", "[^/]+", self.path) + "$")


class AccessDenied(Exception):
    CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = self.CODES[status]
        self.message = message
        self.headers = headers or {}


def claims_of(event: dict[str, Any]) -> dict[str, Any] | None:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return authorizer.get("claims")


def groups_of(claims: dict[str, Any]) -> frozenset[str]:
    """`cognito:groups` arrives as a list, or, through REST API authorizers, as a string
    like "a,b" or "[a b]"."""
    raw = claims.get("cognito:groups") or []
    if isinstance(raw, str):
        raw = re.split(r"[,\s]+", raw.strip("[]"))
    return frozenset(group for group in raw if group)


def actor_of(event: dict[str, Any]) -> Actor:
    claims = claims_of(event)
    if not claims or not claims.get("sub"):
        raise AccessDenied(401, "sign in first: this route needs a staff identity token")
    return Actor(
        user_id=claims["sub"],
        name=claims.get("cognito:username") or claims.get("username") or claims["sub"],
        groups=groups_of(claims),
        reach=reach_of(claims),
    )


def reach_of(claims: dict[str, Any]) -> Reach:
    """The organization and clinics the token's holder works for; a token without them (a
    user made outside staff management) reaches nothing."""
    refused = AccessDenied(403, "your account belongs to no practice yet; ask your practice's admin")
    clinic_ids = clinics_claim(str(claims.get("custom:clinics") or ""))
    if clinic_ids == frozenset():
        raise refused
    try:
        return Reach(str(claims.get("custom:organization") or ""), clinic_ids)
    except InvalidRequest:
        raise refused from None


def authorize(event: dict[str, Any], policies: list[RoutePolicy]) -> None:
    """Raises AccessDenied unless the caller may use the route the event addresses. Deny by
    default: a path no policy spells exactly is 404 (405 for a known path with another
    method) before anything else runs; a body that is not JSON is 415; then every policy the
    path matches must admit the caller."""
    method = event.get("httpMethod", "").upper()
    path = event.get("path", "")
    matching = [policy for policy in policies if policy.pattern.match(path)]
    if not matching:
        raise AccessDenied(404, "no such route: check the path")
    here = [policy for policy in matching if policy.method == method]
    if not here:
        methods = ", ".join(sorted({policy.method for policy in matching}))
        raise AccessDenied(405, f"this route takes {methods}", headers={"Allow": methods})
    if event.get("body") and not _is_json(event):
        raise AccessDenied(415, "send the body as JSON, with Content-Type: application/json")
    guarded = [policy for policy in here if policy.groups != PUBLIC]
    if not guarded:
        return
    actor = actor_of(event)  # also refuses a token with no organization
    for policy in guarded:
        if not actor.groups & policy.groups:
            allowed = ", ".join(sorted(policy.groups))
            raise AccessDenied(403, f"this action needs one of the roles: {allowed}")


def _is_json(event: dict[str, Any]) -> bool:
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type") or "").split(";")[0].strip().lower()
    return media_type == "application/json"
