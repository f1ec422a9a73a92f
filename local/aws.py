"""Creates the stack's resources in moto and makes moto behave like AWS where tests rely on it."""

from __future__ import annotations

import functools
import threading
from typing import Any

from .template import function_by_handler, resolve, resources

API_HANDLER = "clinic.api.app.lambda_handler"
_DYNAMODB_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query")
_serialized = threading.RLock()
_patched = False


def serialize_dynamodb() -> None:
    """DynamoDB applies each request atomically; moto does not (a failed transaction even
    restores a whole-table copy, undoing a concurrent winner). Serializing moto's DynamoDB
    operations restores the one property concurrency tests need, without touching the
    handlers, which still run concurrently."""
    global _patched
    if _patched:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _DYNAMODB_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _serialized:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _patched = True


def create_tables(template: dict[str, Any], dynamodb: Any, prefix: str = "local") -> dict[str, str]:
    """Creates every table of the template (keys, indexes, TTL as synthesized); returns
    logical id -> table name."""
    names: dict[str, str] = {}
    for logical_id, resource in resources(template, "AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        name = f"{prefix}-{logical_id}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props["BillingMode"],
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical_id] = name
    return names


def function_environment(template: dict[str, Any], handler: str, physical_names: dict[str, str]) -> dict[str, str]:
    """The environment CDK gives the function, with resource references resolved locally."""
    variables = function_by_handler(template, handler).get("Environment", {}).get("Variables", {})
    return {key: resolve(value, physical_names) for key, value in variables.items()}
