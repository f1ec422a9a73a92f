"""Idempotency-Key for every POST that creates something (Powertools Idempotency on DynamoDB).

The key is scoped to the caller and the operation; the same key with a different body is
refused rather than silently answered with the first response."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..domain.errors import InvalidRequest

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
CONFIG = IdempotencyConfig(
    event_key_jmespath="[operation, caller, key]",
    payload_validation_jmespath="payload",
    expires_after_seconds=24 * 3600,
    raise_on_no_idempotency_key=True,
)


def valid_key(value: str | None) -> str:
    if not value:
        raise InvalidRequest(HEADER, "header is required on requests that create something (a fresh UUID per request)")
    if not KEY_FORMAT.match(value):
        raise InvalidRequest(HEADER, "must be 8 to 128 letters, digits, '-' or '_'")
    return value


def run_once(
    persistence: DynamoDBPersistenceLayer,
    *,
    operation: str,
    caller: str,
    key: str,
    payload: dict[str, Any],
    action: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Runs `action` the first time; later calls with the same key return its stored result."""

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=CONFIG)
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return action()

    return once(request={"operation": operation, "caller": caller, "key": key, "payload": payload})
