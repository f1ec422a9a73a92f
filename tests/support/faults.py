"""Faults injected into the AWS calls the functions make.

A botocore `before-call` handler answers in AWS's place with an error response, so the
client raises the exception AWS would (a modelled class where there is one), and every
layer above it handles it for real: the adapters' translation, the handlers, Powertools'
idempotency, Step Functions' retries and catches. botocore's own retries are skipped: an
injected error is what the caller sees once the SDK has given up.

Faults apply only to calls made inside a function invocation (the API's or a workflow
step's, on the same thread), never to the test's own reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

_invocation = threading.local()


@dataclass(frozen=True)
class Call:
    """One AWS call a function made: botocore's service id ("dynamodb", "sns", "sfn"), the
    operation, its parameters, and the invocation it was made in."""

    service: str
    operation: str
    params: dict[str, Any]
    function: str  # "api" or "workflow"
    event: dict[str, Any]  # the invocation's event (a workflow step's: step, appointmentId, ...)

    @property
    def step(self) -> str | None:
        return self.event.get("step") if self.function == "workflow" else None


@dataclass
class Fault:
    """Fails the calls `where` selects with `codes` in turn (the last one repeats), `times`
    times in all (None: for ever). `extra` joins the error response (CancellationReasons)."""

    where: Callable[[Call], bool]
    codes: Sequence[str]
    times: int | None = None
    status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)
    hits: list[Call] = field(default_factory=list)

    def answer(self, call: Call) -> tuple[AWSResponse, dict[str, Any]] | None:
        if (self.times is not None and len(self.hits) >= self.times) or not self.where(call):
            return None
        code = self.codes[min(len(self.hits), len(self.codes) - 1)]
        self.hits.append(call)
        http = AWSResponse(url="https://fault.invalid/", status_code=self.status, headers={}, raw=None)
        metadata = {"HTTPStatusCode": self.status, "HTTPHeaders": {}, "RetryAttempts": 0}
        return http, {"Error": {"Code": code, "Message": "injected fault"}, "ResponseMetadata": metadata, **self.extra}


class Faults:
    """The faults of one test and every call the functions made while it ran."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.calls: list[Call] = []

    def inject(self, where: Callable[[Call], bool], *codes: str, times: int | None = None, **options: Any) -> Fault:
        fault = Fault(where, codes, times, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults.remove(fault)

    @contextmanager
    def injected(self, where: Callable[[Call], bool], *codes: str, **options: Any) -> Iterator[Fault]:
        fault = self.inject(where, *codes, **options)
        try:
            yield fault
        finally:
            self.remove(fault)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        function, event = getattr(_invocation, "current", (None, None))
        if function is None:
            return None  # the test's own call
        call = Call(model.service_model.service_id.hyphenize(), model.name, _api_params(params), function, event)
        with self._lock:
            self.calls.append(call)
            for fault in self._faults:
                if (answer := fault.answer(call)) is not None:
                    return answer
        return None


def _api_params(request: dict[str, Any]) -> dict[str, Any]:
    """What identifies the call: the JSON protocols' decoded body, the query protocol's form."""
    body = request.get("body")
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes | str) and body[:1] in (b"{", "{"):
        return json.loads(body)
    return {}


def _tracked(function: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def invoke(event: Any, context: Any) -> Any:
        _invocation.current = (function, event)
        try:
            return handler(event, context)
        finally:
            _invocation.current = (None, None)

    return invoke


@contextmanager
def injecting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    """Hooks every botocore session created from now on; the functions start cold so theirs are.
    (The `faults` fixture in tests/conftest.py.)"""
    from clinic.api import app as api_module
    from clinic.workflow import handler as workflow_handler

    from local.aws import reset_functions

    plan = Faults()
    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-call.*.*", plan._before_call)

    monkeypatch.setattr(botocore.session.Session, "__init__", init)
    monkeypatch.setattr(api_module, "lambda_handler", _tracked("api", api_module.lambda_handler))
    monkeypatch.setattr(workflow_handler, "lambda_handler", _tracked("workflow", workflow_handler.lambda_handler))
    reset_functions()
    yield plan
    reset_functions()  # no function keeps a hooked client
