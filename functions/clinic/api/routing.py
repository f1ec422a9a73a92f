"""What every route module shares: `Routes` (a Powertools Router that also records which
roles each route lets in), the running invocation's use cases, its caller, and how a
create runs once per Idempotency-Key."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from ..composition import UseCases, Wiring
from ..domain.appointments import Appointment
from ..domain.errors import InvalidRequest
from ..domain.links import organization_of
from ..domain.tenancy import Reach
from ..environments import Environments
from ..settings import settings
from ..usecases.kernel import Actor
from . import errors
from .auth import RoutePolicy, actor_of, claims_of
from .idempotency import HEADER, run_once, valid_key
from .responses import ErrorBody, documented
from .standing import StaffStanding
from .views import appointment_view

Handler = Callable[..., Any]
MAX_PATH_ID = 128  # ids the service makes are 32 hex digits; clinic, chair and provider ids are short slugs


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
        reads_patient: bool = False,
        conflict: type[ErrorBody] = ErrorBody,
    ) -> Callable[[Handler], Handler]:
        """Registers a handler for the roles in `groups`; `returns` documents its success body.
        A route that `reads_patient` (its `patient_id`) writes an access entry for each read;
        `conflict` documents its 409's body."""

        def register(handler: Handler) -> Handler:
            self.policies.append((RoutePolicy(method, path, groups), handler))
            template = re.sub(r"<([^>]+)>", lambda m: "{" + to_camel(m.group(1)) + "}", path)
            route = _accounted(handler, f"{method} {template}") if reads_patient else handler
            return self.router.route(path, method, responses=documented(returns, status, conflict))(route)

        return register


def _accounted(handler: Handler, route: str) -> Handler:
    """The read, then its access entry; if the entry cannot be written the read fails, so no
    record leaves unaccounted for. A refused read (404) writes nothing."""

    @functools.wraps(handler)
    def read(**kwargs: Any) -> Any:
        reply = handler(**kwargs)
        account_reads([kwargs["patient_id"]], route)
        return reply

    return read


def account_reads(patient_ids: list[str], route: str) -> None:
    """An access entry for each patient whose record this request shows (before its reply)."""
    request_id = environment().resolver.current_event.request_context.request_id
    use_cases().access_log.record(caller(), patient_ids, route, request_id)


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
        self.wiring = Wiring(config, session)
        self.persistence = DynamoDBPersistenceLayer(table_name=config.idempotency_table_name, boto3_session=session)
        cors = CORSConfig(allow_origin=config.allowed_origin, allow_headers=[HEADER], max_age=600)
        # Metrics of its own (Powertools' Metrics is shared process-wide), flushed per invocation.
        self.metrics = EphemeralMetrics(namespace="KetamineClinic", service="clinic-api")
        self.resolver = PerThreadRestResolver(enable_validation=True, cors=cors)
        self.standing = StaffStanding(config.staff_standing_seconds)
        self.resolver.use([_in_standing, _ids_bounded])
        errors.register(self.resolver)
        for router in routers:
            self.resolver.include_router(router)


def _in_standing(app: APIGatewayRestResolver, next_middleware: Callable[..., Any]) -> Any:
    """Every staff request: the token asks for no more than the member's record grants now
    (api/standing.py). Patient links carry no staff token."""
    if claims_of(app.current_event.raw_event):
        actor = caller()
        environment().standing.check(actor, lambda: use_cases().staff.standing(actor.name))
    return next_middleware(app)


def _ids_bounded(app: APIGatewayRestResolver, next_middleware: Callable[..., Any]) -> Any:
    """A path id longer than any the service makes is refused before it reaches a key
    (DynamoDB refuses keys over 1024 bytes with an error that would be a 500)."""
    segments = set(app.current_event.path.split("/"))
    for name, value in app.context.get("_route_args", {}).items():  # with the body, once validated
        if isinstance(value, str) and value in segments and len(value) > MAX_PATH_ID:
            raise InvalidRequest(to_camel(name), f"is longer than any id ({MAX_PATH_ID} characters at most)")
    return next_middleware(app)


def forget_standing(username: str) -> None:
    """After a change to a member: this environment reads their record again on their next request."""
    reach = caller().reach
    assert reach is not None
    environment().standing.forget(reach.organization_id, username)


def _build() -> ApiEnvironment:
    from .routes import ROUTERS  # the route modules import this one: read them once they are loaded

    return ApiEnvironment(ROUTERS)


ENVIRONMENTS = Environments(_build)


def environment() -> ApiEnvironment:
    return ENVIRONMENTS.current()


@lru_cache(maxsize=64)
def _bound(wiring: Wiring, reach: Reach) -> UseCases:
    return wiring.for_reach(reach)


def use_cases_for(reach: Reach) -> UseCases:
    """The use cases a request with this reach is given (kept while the environment is warm)."""
    return _bound(environment().wiring, reach)


def use_cases() -> UseCases:
    """The use cases of the signed-in caller: bound to their organization and clinics."""
    reach = caller().reach
    assert reach is not None  # actor_of refuses a token without one
    return use_cases_for(reach)


def link_use_cases(token: str) -> UseCases:
    """A patient link's use cases: bound to the organization the link names (every clinic of
    it; the link's own record says which appointment)."""
    return use_cases_for(Reach(organization_of(token)))


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


def clinic_zone(clinic_id: str, uses: UseCases | None = None) -> ZoneInfo:
    return (uses or use_cases()).configuration.clinic(clinic_id).profile.zone
