"""A practice's staff: each member's role, the clinics they work at and whether they may sign
in, and the rules of who may change that. Cognito signs staff in; these records are the
practice's own list of them (Cognito cannot list users by organization) and the authority
the API checks a token against, so a narrowing or a disable holds before the token expires."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .errors import NotPermitted
from .model import PersonName, Record
from .patients import EMAIL
from .tenancy import Reach

Role = Literal["front-desk", "clinician", "admin"]
Status = Literal["active", "disabled"]
# A Cognito username that is not an email address (the pool signs in by username or email).
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,39}$"


class Organization(Record):
    organization_id: str
    name: PersonName
    created_at: datetime


class Access(Record):
    """What a member may do and where: what the audit compares before and after a change."""

    role: Role
    clinics: list[str] | None = Field(default=None, min_length=1)  # None: every clinic of the organization
    status: Status = "active"


class StaffMember(Access):
    username: str = Field(pattern=USERNAME)
    email: str = Field(max_length=254, pattern=EMAIL)
    given_name: PersonName
    family_name: PersonName
    invite_id: str  # the invite that created the member: its retry finds its own record
    version: int = 1
    changed_at: datetime

    def reach(self, organization_id: str) -> Reach:
        return reach_of(organization_id, self.clinics)

    @property
    def access(self) -> Access:
        return Access(role=self.role, clinics=self.clinics, status=self.status)

    def grants(self, groups: frozenset[str], reach: Reach) -> bool:
        """Whether a token with these groups and this reach asks for no more than the member
        has now (a token issued before a narrowing asks for more, and is refused)."""
        return self.status == "active" and groups <= {self.role} and self.reach(reach.organization_id).covers(reach)


class StaffAuditEntry(Record):
    """One change to a member's access: who, when, before and after. No name or email."""

    username: str
    version: int
    at: datetime
    action: Literal["invited", "access-changed", "disabled", "enabled"]
    actor_id: str
    actor_name: str
    before: Access | None = None
    after: Access


def reach_of(organization_id: str, clinics: list[str] | None) -> Reach:
    return Reach(organization_id, None if clinics is None else frozenset(clinics))


def check_manages(actor_reach: Reach, member: StaffMember) -> None:
    """An admin manages only members whose clinics are all theirs too: an admin of one clinic
    cannot narrow or disable an admin of the whole practice."""
    if not actor_reach.covers(member.reach(actor_reach.organization_id)):
        raise NotPermitted("username", "this member works at clinics outside yours: an admin of those clinics can change them")


def check_grant(actor_name: str, actor_reach: Reach, member: StaffMember | None, access: Access) -> None:
    """What an admin may grant: only clinics they work at themselves, and never more to
    themselves than they have (no raising their own role, no widening their own clinics)."""
    wanted = reach_of(actor_reach.organization_id, access.clinics)
    if not actor_reach.covers(wanted):
        raise NotPermitted("clinics", "you can grant only clinics you work at yourself")
    if member is None or member.username != actor_name:
        return
    if access.role != member.role:
        raise NotPermitted("role", "you cannot change your own role: another admin of your practice can")
    if not member.reach(actor_reach.organization_id).covers(wanted):
        raise NotPermitted("clinics", "you cannot add clinics to your own account: another admin of your practice can")
    if access.status != member.status:
        raise NotPermitted("username", "you cannot disable or enable your own account: another admin of your practice can")


def narrows(before: Access, after: Access, organization_id: str) -> bool:
    """A change that takes something away: the member's sessions must end (refresh tokens
    revoked), so the next token they get carries what is left."""
    if after.status == "disabled" or after.role != before.role:
        return True
    return not reach_of(organization_id, after.clinics).covers(reach_of(organization_id, before.clinics))
