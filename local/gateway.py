"""Requests shaped the way API Gateway's REST proxy integration hands them to Lambda."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from infra.gateway_errors import DEFAULT_4XX, GATEWAY_ERRORS


@dataclass
class LambdaContext:
    function_name: str = "clinic-api-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:clinic-api-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    claims: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: str | dict[str, str] | None = None,
) -> dict[str, Any]:
    """`claims` are what the Cognito authorizer would have verified; None means no token."""
    if isinstance(query, str):
        query = dict(parse_qsl(query, keep_blank_values=True))
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request_context: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "stage": "local",
        "httpMethod": method,
        "path": path,
        "resourcePath": "/{proxy+}",
        "identity": {"sourceIp": "127.0.0.1"},
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": request_context,
        "body": raw_body,
        "isBase64Encoded": False,
    }


def gateway_error(kind: str, message: str | None = None) -> tuple[int, dict[str, str], str]:
    """What API Gateway answers by itself (`kind` as in infra/gateway_errors.py: UNAUTHORIZED,
    REQUEST_TOO_LARGE, ...), as status, headers and body: the deployed gateway responses' body.
    `message` is API Gateway's own, for the default 4xx."""
    answer = GATEWAY_ERRORS.get(kind, DEFAULT_4XX)
    headers = {"Retry-After": str(answer.retry_after_seconds)} if answer.retry_after_seconds else {}
    body = {"code": answer.code, "message": answer.message or message or "", "fields": []}
    return answer.status, headers, json.dumps(body)
