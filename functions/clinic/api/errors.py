"""Every failure becomes one JSON shape, in one place:
{"code": ..., "message": ..., "fields": [{"field": ..., "problem": ...}]}.
Messages name fields and rules, never the values sent (which may be PHI)."""

from __future__ import annotations

import json
import traceback
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from ..adapters.dynamodb import is_throttled
from ..domain.errors import (
    Conflict,
    InvalidRequest,
    LinkGone,
    LinkInvalid,
    NotFound,
    NotPermitted,
    OutsideReach,
    PossibleDuplicate,
    TemporarilyUnavailable,
)
from .auth import AccessDenied
from .views import patient_match
from .wording import plain

logger = Logger(service="clinic-api")
M = TypeVar("M", bound=BaseModel)
RETRY_AFTER_SECONDS = "2"


class InvalidFields(Exception):
    """A domain model built from request data refused it. (A model refusing data read
    back from the table is our fault, not the caller's, and stays a 500.)"""

    def __init__(self, error: ValidationError):
        super().__init__("invalid request fields")
        self.errors = error.errors()


def throttled(error: BaseException | None) -> bool:
    """An AWS refusal that a retry after a pause can cure, however it reached us: raised by
    boto3 directly (Powertools' idempotency store), wrapped, or a throttled transaction."""
    while error is not None:
        if isinstance(error, TemporarilyUnavailable):
            return True
        if isinstance(error, ClientError):
            return is_throttled(error)
        error = error.__cause__
    return False


def from_request(model: type[M], **data: Any) -> M:
    try:
        return model(**data)
    except ValidationError as error:
        raise InvalidFields(error) from None


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or []}


def _field_name(location: tuple[Any, ...]) -> str:
    # Models built in handlers report Python names; the API speaks camelCase.
    parts = [to_camel(str(part)) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _problems(errors: list[Any]) -> list[dict[str, str]]:
    # An unknown field is named by where it was found, never by its own name (what was sent).
    named = [(_field_name(tuple(e.get("loc", ()))[: -1 if e.get("type") == "extra_forbidden" else None]), e) for e in errors]
    return [{"field": field, "problem": plain(e, field)} for field, e in named]


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers=headers)


def _unprocessable(problems: list[dict[str, str]]) -> Response:
    message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return _json(422, error_body("invalid_request", message, problems))


def register(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _request_invalid(error: RequestValidationError) -> Response:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _json(400, error_body("malformed_json", "the request body is not valid JSON", [{"field": "body", "problem": "is not valid JSON"}]))
        return _unprocessable(_problems(errors))

    @app.exception_handler(InvalidFields)
    def _model_invalid(error: InvalidFields) -> Response:
        return _unprocessable(_problems(error.errors))

    @app.exception_handler(InvalidRequest)
    def _invalid(error: InvalidRequest) -> Response:
        return _unprocessable([{"field": field, "problem": problem} for field, problem in error.problems])

    @app.exception_handler(LinkInvalid)
    def _link_invalid(error: LinkInvalid) -> Response:
        return _json(401, error_body("link_invalid", error.message))

    @app.exception_handler(LinkGone)
    def _link_gone(error: LinkGone) -> Response:
        return _json(410, error_body("link_gone", error.message))

    @app.exception_handler(AccessDenied)
    def _denied(error: AccessDenied) -> Response:
        return _json(error.status, error_body(error.code, error.message), headers=error.headers)

    @app.exception_handler(NotPermitted)
    def _not_permitted(error: NotPermitted) -> Response:
        problem = [{"field": error.field, "problem": error.message}]
        return _json(403, error_body("forbidden", f"{error.field}: {error.message}", problem))

    @app.exception_handler(OutsideReach)
    def _outside_reach(error: OutsideReach) -> Response:
        return _json(403, error_body("forbidden", error.message))

    @app.exception_handler(NotFound)
    def _not_found(error: NotFound) -> Response:
        return _json(404, error_body("not_found", error.message))

    @app.exception_handler(Conflict)
    def _conflict(error: Conflict) -> Response:
        return _json(409, error_body("conflict", error.message))

    @app.exception_handler(PossibleDuplicate)
    def _possible_duplicate(error: PossibleDuplicate) -> Response:
        body = error_body("possible_duplicate", error.message)
        return _json(409, {**body, "duplicates": [patient_match(p) for p in error.patients]})

    @app.exception_handler(IdempotencyValidationError)
    def _key_reused(_: IdempotencyValidationError) -> Response:
        problem = "was already used for a different request; send a new key for a new request"
        return _json(422, error_body("idempotency_key_reused", f"Idempotency-Key: {problem}", [{"field": "Idempotency-Key", "problem": problem}]))

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response:
        return _json(
            409,
            error_body("request_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly"),
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(TemporarilyUnavailable)
    def _unavailable(error: TemporarilyUnavailable) -> Response:
        return _json(503, error_body("temporarily_unavailable", error.message), headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler([ClientError, IdempotencyPersistenceLayerError])
    def _aws_failed(error: Exception) -> Response:
        if not throttled(error):
            return _internal_error(error)
        busy = "the database is busy; retry shortly"
        return _json(503, error_body("temporarily_unavailable", busy), headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        return _internal_error(error)


def _internal_error(error: Exception) -> Response:
    # The traceback's frames name code, not values; the exception text may hold input, so it stays out.
    logger.error(
        "unhandled error",
        extra={"error_type": type(error).__name__, "frames": traceback.format_tb(error.__traceback__)[-5:]},
    )
    return _json(500, error_body("internal_error", "something went wrong on our side; the request was not completed"))
