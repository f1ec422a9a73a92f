"""Creates the stack's resources in moto and makes moto behave like AWS where tests rely on it."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import boto3

from .identity import UserPool, create_user_pool
from .stepfunctions import create_functions, create_state_machine, resolve_intrinsics
from .template import function_by_handler, resources

API_HANDLER = "clinic.api.app.lambda_handler"
WORKFLOW_HANDLER = "clinic.workflow.handler.lambda_handler"
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
    _copy_each_table_once()
    _patched = True


def stored_items(table_name: str, region: str) -> list[dict[str, Any]]:
    """Every item of a moto table, as a Scan returns them, read from moto's store between two
    operations: the tests compare whole tables around thousands of calls, and moto's Scan
    spends four times as long serializing its reply."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    with _serialized:
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
        return [{name: value.to_regular_json() for name, value in item.attrs.items()} for item in table.all_items()]


_transaction_copies = threading.local()


def _copy_each_table_once() -> None:
    """moto backs up a whole table before each of a transaction's items, so a 25-item
    booking copied the table 25 times: slow, and slower as the table grows. One copy per
    table per transaction is the same backup."""
    import copy

    from moto.dynamodb import models

    def deepcopy_once(value: Any, memo: Any = None) -> Any:
        copies = getattr(_transaction_copies, "by_id", None)
        if copies is None:
            return copy.deepcopy(value, memo)
        if id(value) not in copies:
            copies[id(value)] = copy.deepcopy(value, memo)
        return copies[id(value)]

    models.copy = SimpleNamespace(deepcopy=deepcopy_once, copy=copy.copy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        _transaction_copies.by_id = {}
        try:
            return original(self, *args, **kwargs)
        finally:
            _transaction_copies.by_id = None

    models.DynamoDBBackend.transact_write_items = transact_write_items


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


def create_topics(template: dict[str, Any], prefix: str = "local") -> dict[str, str]:
    """Creates every SNS topic of the template; returns logical id -> topic ARN."""
    sns = boto3.client("sns")
    return {
        logical_id: sns.create_topic(Name=f"{prefix}-{logical_id}")["TopicArn"]
        for logical_id in resources(template, "AWS::SNS::Topic")
    }


def function_environment(template: dict[str, Any], handler: str, physical_names: dict[str, str]) -> dict[str, str]:
    """The environment CDK gives the function, with resource references resolved locally."""
    variables = function_by_handler(template, handler).get("Environment", {}).get("Variables", {})
    return {key: resolve_intrinsics(value, physical_names) for key, value in variables.items()}


@dataclass(frozen=True)
class LocalDeployment:
    names: dict[str, str]  # logical id -> the local resource's name or ARN
    environment: dict[str, str]  # what the functions read from their environment, resolved
    state_machine_arn: str
    user_pool: UserPool  # the staff pool and its web client (no users yet)

    @property
    def table_name(self) -> str:
        return self.environment["TABLE_NAME"]


def reset_functions() -> None:
    """Makes the in-process functions start cold: they read their environment again and
    build new clients (after a new moto, or new environment variables)."""
    from clinic.api import app
    from clinic.settings import settings
    from clinic.workflow import handler

    settings.cache_clear()
    app.ENVIRONMENTS.clear()
    handler.ENVIRONMENTS.clear()


def deploy(template: dict[str, Any], prefix: str = "local") -> LocalDeployment:
    """Creates the stack's tables, topics, user pool, functions and state machine in moto, from
    the synthesized template. The functions run in this process and share its environment, so
    it carries every function's variables (their shared names hold the same values)."""
    names = create_tables(template, boto3.client("dynamodb"), prefix)
    names |= create_topics(template, prefix)
    user_pool = create_user_pool(template, boto3.client("cognito-idp"))
    names[user_pool.logical_id] = user_pool.user_pool_id
    names |= create_functions(template, names)
    arn = create_state_machine(template, names)
    environment: dict[str, str] = {}
    for handler in (API_HANDLER, WORKFLOW_HANDLER):
        variables = function_environment(template, handler, names)
        environment |= {k: v for k, v in variables.items() if not k.startswith("POWERTOOLS_")}
    return LocalDeployment(names, environment, arn, user_pool)
