"""What every part of the DynamoDB adapter shares: the item <-> record conversion, the
conditional transaction, paging, and which refusals a retry can cure."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from ...domain.errors import Conflict, TemporarilyUnavailable
from ...domain.tenancy import Reach
from .reach import ReachKeys

KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "expiresAt", "type"})
# Errors a retry after a pause can cure: the caller gets 503 with Retry-After.
TRANSIENT = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)
# A transaction cancelled for one of these reasons was refused for load, not for its conditions.
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})
M = TypeVar("M", bound=BaseModel)
BOARD_INDEX = "gsi1"  # also lists REMS forms due and a clinic's alerts (keys overloaded by prefix)
PATIENT_INDEX = "gsi2"


def to_item(model: BaseModel, **keys: Any) -> dict[str, Any]:
    fields = json.loads(model.model_dump_json(by_alias=True, exclude_none=True), parse_float=Decimal)
    return {**fields, **keys}


def from_item(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored item's record fields, its keys left out and numbers back to int or float."""
    return {k: plain(v) for k, v in stored.items() if k not in KEY_ATTRIBUTES}


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_throttled(error: ClientError) -> bool:
    """DynamoDB refused for load, not for the request: a retry after a pause can cure it.
    A transaction cancelled for load names the reason per item instead of in its code."""
    code = error.response.get("Error", {}).get("Code")
    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
    return code in TRANSIENT or (code == "TransactionCanceledException" and bool(reasons & THROTTLED_REASONS))


class TableAccess:
    """The table and its plumbing, which each part of the adapter builds on. Every call goes
    through `_call`, which scopes it to one organization (reach.py)."""

    def __init__(self, table: Any, reach: Reach):
        """`table` is a boto3 DynamoDB Table resource; its client serializes Python values."""
        self.table = table
        self.client = table.meta.client
        self.name = table.name
        self.reach = reach
        self._keys = ReachKeys(reach)

    def _transact(self, operations: list[dict[str, Any]]) -> int | None:
        """Runs the transaction; returns None, or the index of the first operation whose
        condition failed. Any other failure propagates."""
        try:
            self._call(self.client.transact_write_items, TransactItems=operations)
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])  # cancelled for load: _call raised already
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    return index
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                raise Conflict("another change to the same records was in progress; try again") from error
            raise

    def _versioned_put(self, item: dict[str, Any], version: int | None) -> dict[str, Any]:
        """A put that succeeds only over `version` (None: only where nothing is yet)."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if version is None
            else {"ConditionExpression": "version = :version", "ExpressionAttributeValues": {":version": version}}
        )
        return {"Put": {"TableName": self.name, "Item": item, **condition}}

    def _patient_records(self, patient_id: str, prefix: str, model: type[M]) -> list[M]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"PATIENT#{patient_id}", ":prefix": prefix},
        )
        return [model.model_validate(from_item(item)) for item in items]

    def _records_of(self, appointment_id: str, prefix: str, model: type[M]) -> list[M]:
        """One kind of an appointment's own records (audit, vitals), in key order."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"APPT#{appointment_id}", ":prefix": prefix},
        )
        return [model.model_validate(from_item(item)) for item in items]

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._call(self.table.query, **kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _call(self, operation: Any, **kwargs: Any) -> Any:
        try:
            return self._keys.response(operation(**self._keys.request(kwargs)))
        except ClientError as error:
            if is_throttled(error):
                raise TemporarilyUnavailable("the database is busy; retry shortly") from error
            raise
