"""Whose data a request may reach: one organization (a practice), and within it every clinic
or only some. Staff get theirs from the identity token's claims, which they cannot write;
the care workflow and patient links act for one organization and all its clinics."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidRequest

# Lower-case letters, digits and dashes: safe inside keys, URLs and link tokens.
ORGANIZATION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
EVERY_CLINIC = "*"


@dataclass(frozen=True)
class Reach:
    organization_id: str
    clinic_ids: frozenset[str] | None = None  # None: every clinic of the organization

    def __post_init__(self) -> None:
        if not ORGANIZATION_ID.match(self.organization_id):
            raise InvalidRequest("organizationId", "an organization id is 3 to 40 lower-case letters, digits and dashes")

    def admits(self, clinic_id: str) -> bool:
        return self.clinic_ids is None or clinic_id in self.clinic_ids

    @property
    def every_clinic(self) -> bool:
        return self.clinic_ids is None

    def shares(self, other: Reach) -> bool:
        """Whether the two have a clinic in common (every clinic shares with any)."""
        if other.organization_id != self.organization_id:
            return False
        return self.every_clinic or other.every_clinic or bool(self.clinic_ids & other.clinic_ids)  # type: ignore[operator]

    def covers(self, other: Reach) -> bool:
        """Whether `other` reaches nothing this one does not (no widening)."""
        if other.organization_id != self.organization_id:
            return False
        return self.every_clinic or (other.clinic_ids is not None and other.clinic_ids <= self.clinic_ids)  # type: ignore[operator]


def clinics_claim(text: str) -> frozenset[str] | None:
    """The `custom:clinics` claim: "*" for every clinic, else clinic ids separated by commas."""
    if text.strip() == EVERY_CLINIC:
        return None
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def clinics_text(clinic_ids: frozenset[str] | None) -> str:
    return EVERY_CLINIC if clinic_ids is None else ",".join(sorted(clinic_ids))
