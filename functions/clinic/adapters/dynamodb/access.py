"""The access log: per patient (its own partition) and per staff member (GSI1)."""

from __future__ import annotations

from datetime import UTC

from ...domain.access import AccessEntry
from .table import BOARD_INDEX, TableAccess, from_item, to_item

# HIPAA asks for six years of records of access; DynamoDB's TTL removes them after.
RETENTION_SECONDS = 6 * 366 * 24 * 3600


class AccessTable(TableAccess):
    def record_accesses(self, entries: list[AccessEntry]) -> None:
        """One PutItem for a read of one patient; a search's entries (at most 20) in one
        transaction, so they are all written or the search fails."""
        items = [_access_item(entry) for entry in entries]
        if len(items) == 1:
            self._call(self.table.put_item, Item=items[0])
        else:
            self._transact([{"Put": {"TableName": self.name, "Item": item}} for item in items])

    def accesses_of_patient(self, patient_id: str) -> list[AccessEntry]:
        items = self._query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"ACCESS#{patient_id}"})
        return [AccessEntry.model_validate(from_item(item)) for item in items]

    def accesses_by_staff(self, staff_id: str) -> list[AccessEntry]:
        items = self._query(
            IndexName=BOARD_INDEX, KeyConditionExpression="gsi1pk = :pk", ExpressionAttributeValues={":pk": f"ACCESS-BY#{staff_id}"}
        )
        return [AccessEntry.model_validate(from_item(item)) for item in items]


def _access_item(entry: AccessEntry) -> dict:
    # To the microsecond: a page that reads a patient four times in one second keeps its order.
    when = f"{entry.at.astimezone(UTC).isoformat(timespec='microseconds')}#{entry.request_id}"
    return to_item(
        entry,
        pk=f"ACCESS#{entry.patient_id}",
        sk=when,
        type="access",
        gsi1pk=f"ACCESS-BY#{entry.staff_id}",
        gsi1sk=when,
        expiresAt=int(entry.at.timestamp()) + RETENTION_SECONDS,
    )
