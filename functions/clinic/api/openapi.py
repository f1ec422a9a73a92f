"""The API's OpenAPI document: what Powertools derives from the routes, plus what it cannot
see: a create (a route that answers 201) needs an Idempotency-Key header, and may answer 409
`request_in_progress` while a request with the same key is still being processed."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from .idempotency import HEADER, KEY_FORMAT

IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": True,
    "description": "a fresh UUID per request; a retry with the same key gets the first reply",
    "schema": {"type": "string", "pattern": KEY_FORMAT.pattern},
}
IN_PROGRESS = (
    "conflict or illegal transition; or `request_in_progress`: a request with this "
    "Idempotency-Key is still being processed (retry after Retry-After seconds)"
)


def document(resolver: APIGatewayRestResolver) -> dict[str, Any]:
    schema = json.loads(resolver.get_openapi_json_schema(title="Ketamine clinic API", version="1"))
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "201" in operation.get("responses", {}):
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                operation["responses"]["409"]["description"] = IN_PROGRESS
    return schema
