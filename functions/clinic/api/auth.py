"""Who is calling, and may they.

API Gateway's Cognito authorizer has already checked the token's signature, expiry and
audience; its claims arrive in requestContext, which the client cannot set. Here we read
them and check the route's groups before anything else runs, so a caller without the
right role learns nothing about the request's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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
        return re.compile("^" + re.sub(r"<[^/]+>", "[^/]+", self.path) + "/?$")


class AccessDenied(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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
    )


def authorize(event: dict[str, Any], policies: list[RoutePolicy]) -> None:
    """Raises AccessDenied unless the caller may use the route the event addresses.
    Routes without a policy are left to the resolver (which answers 404)."""
    method = event.get("httpMethod", "").upper()
    path = event.get("path", "")
    for policy in policies:
        if policy.method == method and policy.pattern.match(path):
            if policy.groups == PUBLIC:
                return
            actor = actor_of(event)
            if not actor.groups & policy.groups:
                allowed = ", ".join(sorted(policy.groups))
                raise AccessDenied(403, f"this action needs one of the roles: {allowed}")
            return
