"""The organization's record and its staff: the list an admin manages (one partition per
organization: Cognito cannot list users by a custom attribute) and each member's audit trail."""

from __future__ import annotations

from typing import Any

from ...domain.errors import AlreadyExists, StaleRecord
from ...domain.staff import Organization, StaffAuditEntry, StaffMember
from .table import TableAccess, from_item, to_item

STAFF_PARTITION = "STAFF"


def member_key(username: str) -> dict[str, str]:
    return {"pk": STAFF_PARTITION, "sk": f"USER#{username}"}


def audit_key(username: str, version: int) -> dict[str, str]:
    return {"pk": f"STAFF#{username}", "sk": f"AUDIT#{version:06d}"}


class StaffTable(TableAccess):
    def save_organization(self, organization: Organization) -> None:
        item = to_item(organization, pk="ORGANIZATION", sk="PROFILE", type="organization")
        self._transact([self._versioned_put(item, None)])  # a repeat keeps the first record

    def get_staff_member(self, username: str) -> StaffMember | None:
        item = self._call(self.table.get_item, Key=member_key(username)).get("Item")
        return StaffMember.model_validate(from_item(item)) if item else None

    def staff_members(self) -> list[StaffMember]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :user)",
            ExpressionAttributeValues={":pk": STAFF_PARTITION, ":user": "USER#"},
        )
        return [StaffMember.model_validate(from_item(item)) for item in items]

    def save_staff_member(self, before: StaffMember | None, after: StaffMember, audit: StaffAuditEntry) -> None:
        member = to_item(after, **member_key(after.username), type="staff-member")
        entry: dict[str, Any] = {
            "TableName": self.name,
            "Item": to_item(audit, **audit_key(audit.username, audit.version), type="staff-audit"),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if self._transact([self._versioned_put(member, before and before.version), {"Put": entry}]) is not None:
            if before is None:
                raise AlreadyExists("a member of your practice already has this username")
            raise StaleRecord("the member changed meanwhile")

    def discard_staff_member(self, member: StaffMember) -> None:
        self._transact(
            [
                {"Delete": {"TableName": self.name, "Key": member_key(member.username)}},
                {"Delete": {"TableName": self.name, "Key": audit_key(member.username, member.version)}},
            ]
        )

    def staff_audit(self, username: str) -> list[StaffAuditEntry]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
            ExpressionAttributeValues={":pk": f"STAFF#{username}", ":audit": "AUDIT#"},
        )
        return [StaffAuditEntry.model_validate(from_item(item)) for item in items]
