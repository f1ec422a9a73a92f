"""The organization in every key, in one place: every request to the table passes through
`ReachKeys`, which puts the organization in front of every partition key it writes or reads
and refuses a clinic partition outside the caller's clinics. Records read back that belong
to a clinic outside them are not returned (to the caller they do not exist). No adapter
method builds an organization into a key itself, so none can forget to."""

from __future__ import annotations

import re
from typing import Any

from ...domain.errors import OutsideReach
from ...domain.tenancy import Reach

PARTITION_KEYS = ("pk", "gsi1pk", "gsi2pk")
# Partitions that belong to one clinic: {KIND}#{clinic id}[#...].
CLINIC_PARTITIONS = frozenset({"CLINIC", "HOLD", "BOARD", "REMS", "ALERTS", "WAITLIST"})
# A query names its partition `:pk`, on the table's or an index's partition key.
_PARTITION_CONDITION = re.compile(r"^(pk|gsi1pk|gsi2pk) = :pk\b")


class ReachKeys:
    def __init__(self, reach: Reach):
        self.reach = reach
        self.prefix = f"ORG#{reach.organization_id}#"

    def partition(self, value: str) -> str:
        kind, _, rest = value.partition("#")
        if kind in CLINIC_PARTITIONS and not self.reach.admits(rest.split("#", 1)[0]):
            raise OutsideReach()
        return self.prefix + value

    def keys(self, item: dict[str, Any]) -> dict[str, Any]:
        """An item or key with its partition keys scoped; an item of a clinic outside reach is refused."""
        clinic_id = item.get("clinicId")
        if isinstance(clinic_id, str) and not self.reach.admits(clinic_id):
            raise OutsideReach()
        return {name: self.partition(value) if name in PARTITION_KEYS else value for name, value in item.items()}

    def request(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """A GetItem, PutItem, UpdateItem, DeleteItem or Query's arguments, scoped."""
        scoped = dict(kwargs)
        for name in ("Key", "Item"):
            if name in scoped:
                scoped[name] = self.keys(scoped[name])
        if "KeyConditionExpression" in scoped:
            if not _PARTITION_CONDITION.match(scoped["KeyConditionExpression"]):
                raise ValueError("a query names its partition as `<key> = :pk`")  # a programming error
            values = dict(scoped["ExpressionAttributeValues"])
            values[":pk"] = self.partition(values[":pk"])
            scoped["ExpressionAttributeValues"] = values
        if "TransactItems" in scoped:
            scoped["TransactItems"] = [
                {kind: self.request(operation) for kind, operation in entry.items()} for entry in scoped["TransactItems"]
            ]
        return scoped

    def visible(self, item: dict[str, Any]) -> bool:
        clinic_id = item.get("clinicId")
        return not isinstance(clinic_id, str) or self.reach.admits(clinic_id)

    def response(self, reply: dict[str, Any]) -> dict[str, Any]:
        """What the table answered, without the records of clinics outside reach."""
        if "Item" in reply and not self.visible(reply["Item"]):
            reply = {k: v for k, v in reply.items() if k != "Item"}
        if "Items" in reply:
            reply = {**reply, "Items": [item for item in reply["Items"] if self.visible(item)]}
        return reply
