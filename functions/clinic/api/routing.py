"""What every route module shares: `Routes` (a Powertools Router that also records which
roles each route lets in), the running invocation's use cases, its caller, and how a
create runs once per Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from pydantic import BaseModel

from ..composition import UseCases, from_settings
from ..domain.appointments import Appointment
from ..environments import Environments
from ..settings import settings
from ..usecases.kernel import Actor
from . import errors
from .auth import RoutePolicy, actor_of
from .idempotency import HEADER, run_once, valid_key
from .responses import ErrorBody, documented
from .views import appointment_view

Handler = Callable[..., Any]


class Routes:
    """One resource's routes: a Powertools Router, and the roles each route lets in (checked
    before the resolver runs, see auth.authorize)."""

    def __init__(self) -> None:
        self.router = Router()
        self.policies: list[tuple[RoutePolicy, Handler]] = []

    def __call__(
        self,
        method: str,
        path: str,
        groups: frozenset[str],
        *,
        returns: type[BaseModel] | None = None,
        status: int = 200,
        conflict: type[ErrorBody] = ErrorBody,
    ) -> Callable[[Handler], Handler]:
        """Registers a handler for the roles in `groups`; `returns` documents its success body,
        `conflict` its 409's."""

        def register(handler: Handler) -> Handler:
            self.policies.append((RoutePolicy(method, path, groups), handler))
            return self.router.route(path, method, responses=documented(returns, status, conflict))(handler)

        return register


class PerThreadRestResolver(APIGatewayRestResolver):
    """Powertools keeps the request being resolved on a class attribute that every resolver
    in the process shares. A Lambda process serves one request at a time, but the local
    server and the concurrency tests serve many on threads: there a handler would read
    another request's headers and body. Keeping the request per thread costs Lambda nothing."""

    _request = threading.local()

    @property
    def current_event(self) -> Any:  # type: ignore[override]
        return self._request.event

    @property
    def lambda_context(self) -> Any:  # type: ignore[override]
        return self._request.context

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._request.event = self._to_proxy_event(event)
        self._request.context = context
        return super().resolve(event, context)


class ApiEnvironment:
    """What one Lambda execution environment holds between invocations."""

    def __init__(self, routers: list[Router]) -> None:
        config = settings()
        # A session of its own: boto3's default session is not safe to share while threads create clients.
        session = boto3.session.Session()
        self.use_cases = from_settings(config, session)
        self.persistence = DynamoDBPersistenceLayer(table_name=config.idempotency_table_name, boto3_session=session)
        cors = CORSConfig(allow_origin=config.allowed_origin, allow_headers=[HEADER], max_age=600)
        # Metrics of its own (Powertools' Metrics is shared process-wide), flushed per invocation.
        self.metrics = EphemeralMetrics(namespace="KetamineClinic", service="clinic-api")
        self.resolver = PerThreadRestResolver(enable_validation=True, cors=cors)
        errors.register(self.resolver)
        for router in routers:
            self.resolver.include_router(router)


def _build() -> ApiEnvironment:
    from .routes import ROUTERS  # the route modules import this one: read them once they are loaded

    return ApiEnvironment(ROUTERS)


ENVIRONMENTS = Environments(_build)


def environment() -> ApiEnvironment:
    return ENVIRONMENTS.current()


def use_cases() -> UseCases:
    return environment().use_cases


def caller() -> Actor:
    return actor_of(environment().resolver.current_event.raw_event)


def count(metric: str) -> None:
    environment().metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def created(operation: str, payload: BaseModel, action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """Runs `action` once per caller and Idempotency-Key; a repeat gets the first reply."""
    event = environment().resolver.current_event
    body = run_once(
        environment().persistence,
        operation=operation,
        caller=caller().user_id,
        key=valid_key(event.headers.get(HEADER)),  # Powertools headers are case-insensitive
        payload=json.loads(payload.model_dump_json()),
        action=action,
    )
    return body, 201


def record_id(operation: str) -> str:
    """The id a create names its record with, from the caller and the Idempotency-Key: if the
    idempotency record could not be saved after the create landed, the repeated request finds
    the same record instead of creating a second one."""
    event = environment().resolver.current_event
    seed = f"{operation}|{caller().user_id}|{valid_key(event.headers.get(HEADER))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def appointment_reply(appointment: Appointment) -> dict[str, Any]:
    """An appointment as every route shows it: with its live phase."""
    return appointment_view(appointment, use_cases().rules)


def clinic_zone(clinic_id: str) -> ZoneInfo:
    return use_cases().configuration.clinic(clinic_id).profile.zone
