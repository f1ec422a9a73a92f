"""REST API entry point (the Lambda handler): check the caller's role for the route, then
let the resolver parse the request and call the route (api/routes/, one module per
resource), which calls a use case (usecases/) and shapes the reply (api/views.py)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from ..settings import settings
from . import errors
from .auth import AccessDenied, authorize
from .idempotency import CONFIG as IDEMPOTENCY_CONFIG
from .routes import ROUTES
from .routing import ENVIRONMENTS

logger = Logger(service="clinic-api")
POLICIES = [policy for policy, _ in ROUTES]
__all__ = ["ENVIRONMENTS", "ROUTES", "lambda_handler"]


def _denied(denied: AccessDenied) -> dict[str, Any]:
    return {
        "statusCode": denied.status,
        "headers": {
            "Content-Type": "application/json", "Access-Control-Allow-Origin": settings().allowed_origin, **denied.headers
        },
        "body": json.dumps(errors.error_body(denied.code, denied.message)),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        authorize(event, POLICIES)
    except AccessDenied as denied:
        return _denied(denied)
    IDEMPOTENCY_CONFIG.register_lambda_context(context)
    with ENVIRONMENTS.use() as current:
        try:
            return current.resolver.resolve(event, context)
        finally:
            current.metrics.flush_metrics()
