"""The practice admin's staff management: invite, change role and clinics, disable and
enable, list, and each member's audit trail; and the operator's new organization.

The table is written first: the API checks every token against it (api/standing.py), so a
narrowing or a disable holds at once, even while Cognito's part is still to be done (it is
redone by repeating the request: setting what is set is harmless). Then Cognito, which
decides what the member's next token carries, and ends their sessions on any narrowing."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.errors import AlreadyExists, Conflict, InvalidRequest, NotFound, UsernameTaken
from ..domain.resources import Clinic
from ..domain.staff import (
    Access,
    Organization,
    Role,
    StaffAuditEntry,
    StaffMember,
    check_grant,
    check_manages,
    narrows,
)
from .kernel import Actor, Clock
from .ports import StaffAccounts, StaffRecords

ALREADY_MEMBER = "username: a member of your practice already has this username"
NO_SUCH_MEMBER = "no such member of your practice: check the username"


class StaffManagement:
    def __init__(
        self,
        records: StaffRecords,
        accounts: Callable[[], StaffAccounts],
        clinic: Callable[[str], Clinic],
        clock: Clock,
        organization_id: str,
    ):
        self.records = records
        self.accounts = accounts  # made on first use: only staff management calls Cognito
        self.clinic = clinic
        self.clock = clock
        self.organization_id = organization_id

    # An admin sees the members who work at one of their clinics (practice-wide members work
    # at all); the rest answer as unknown, as another practice's do.
    def staff(self, actor: Actor) -> list[StaffMember]:
        return sorted((m for m in self.records.staff_members() if self._sees(actor, m)), key=lambda m: m.username)

    def member(self, actor: Actor, username: str) -> StaffMember:
        member = self.records.get_staff_member(username)
        if member is None or not self._sees(actor, member):
            raise NotFound(NO_SUCH_MEMBER)
        return member

    def _sees(self, actor: Actor, member: StaffMember) -> bool:
        assert actor.reach is not None  # staff routes give one
        return actor.reach.shares(member.reach(self.organization_id))

    def standing(self, username: str) -> StaffMember | None:
        """The member's record as the per-request check reads it (None: an account made
        outside staff management, such as by the operator's own Cognito calls)."""
        return self.records.get_staff_member(username)

    def audit(self, actor: Actor, username: str) -> list[StaffAuditEntry]:
        self.member(actor, username)
        return self.records.staff_audit(username)

    def create_organization(self, name: str) -> Organization:
        organization = Organization(organization_id=self.organization_id, name=name, created_at=self.clock())
        self.records.save_organization(organization)
        return organization

    def invite(
        self,
        actor: Actor,
        *,
        invite_id: str,
        username: str,
        email: str,
        given_name: str,
        family_name: str,
        role: Role,
        clinics: list[str] | None,
    ) -> StaffMember:
        """Creates the member and their Cognito account, which emails them a temporary
        password. A retry of the same invite (`invite_id`) finishes what the first began."""
        access = Access(role=role, clinics=clinics)
        self._check(actor, None, access)
        now = self.clock()
        member = StaffMember(
            username=username, email=email, given_name=given_name, family_name=family_name, role=role,
            clinics=clinics, invite_id=invite_id, changed_at=now,
        )
        existing = self.records.get_staff_member(username)
        if existing is not None and existing.invite_id != invite_id:
            raise Conflict(ALREADY_MEMBER)
        if existing is None:
            try:
                self.records.save_staff_member(None, member, self._entry(actor, "invited", None, member))
            except AlreadyExists:
                raise Conflict(ALREADY_MEMBER) from None
        else:
            member = existing
        try:
            self.accounts().create(member, self.organization_id)
        except UsernameTaken:
            # This invite's earlier attempt made the account (its record was there before this
            # one); any other account by this name is someone else's, maybe another practice's.
            if existing is None or self.accounts().organization_of(username) != self.organization_id:
                if existing is None:
                    self.records.discard_staff_member(member)
                raise
        except Exception:
            if existing is None:
                self.records.discard_staff_member(member)
            raise
        self.accounts().set_access(member)
        return member

    def change(self, actor: Actor, username: str, *, role: Role, clinics: list[str] | None) -> StaffMember:
        member = self.member(actor, username)
        return self._apply(actor, member, Access(role=role, clinics=clinics, status=member.status), "access-changed")

    def disable(self, actor: Actor, username: str) -> StaffMember:
        member = self.member(actor, username)
        return self._apply(actor, member, member.access.model_copy(update={"status": "disabled"}), "disabled")

    def enable(self, actor: Actor, username: str) -> StaffMember:
        member = self.member(actor, username)
        return self._apply(actor, member, member.access.model_copy(update={"status": "active"}), "enabled")

    def _apply(self, actor: Actor, member: StaffMember, access: Access, action: str) -> StaffMember:
        self._check(actor, member, access)
        accounts = self.accounts()
        # The pool is every practice's: a record can name an account that is not this practice's
        # (another practice's invite of a taken username, while it is being undone).
        if accounts.organization_of(member.username) != self.organization_id:
            raise NotFound(NO_SUCH_MEMBER)
        after = member
        repeat = access == member.access
        if not repeat:
            after = member.model_copy(update={**access.model_dump(), "version": member.version + 1, "changed_at": self.clock()})
            self.records.save_staff_member(member, after, self._entry(actor, action, member.access, after))
        # Cognito follows even when the record did not change: a repeat completes a change whose
        # Cognito part failed the first time, and signs out again (it cannot tell whether that
        # change narrowed; an extra sign-out costs the member one sign-in).
        accounts.set_access(after)
        accounts.set_enabled(after.username, after.status == "active")
        if repeat or narrows(member.access, after.access, self.organization_id):
            accounts.sign_out(after.username)
        return after

    def _check(self, actor: Actor, member: StaffMember | None, access: Access) -> None:
        reach = actor.reach
        assert reach is not None and reach.organization_id == self.organization_id  # staff routes give one
        if member is not None:
            check_manages(reach, member)
        check_grant(actor.name, reach, member, access)
        for clinic_id in access.clinics or []:
            try:
                self.clinic(clinic_id)
            except NotFound:
                raise InvalidRequest("clinics", "each must be a clinic of your practice") from None

    def _entry(self, actor: Actor, action: str, before: Access | None, after: StaffMember) -> StaffAuditEntry:
        return StaffAuditEntry.model_validate(
            {
                "username": after.username, "version": after.version, "at": after.changed_at, "action": action,
                "actor_id": actor.user_id, "actor_name": actor.name, "before": before, "after": after.access,
            }
        )
