"""Bad input at scale: schemathesis generates requests for every operation of the OpenAPI
document the API itself publishes, valid and invalid, and each goes through the real
handler as a caller of every role. No answer may be a 5xx, and every 4xx says what was
wrong in the documented error shape. Every reply (here and in every integration test) must
match the schema the document gives its status (tests/support/conformance.py)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
from clinic.api.app import ROUTES
from hypothesis import HealthCheck, given, settings

from tests.support import conformance
from tests.support.world import World

APPOINTMENT = {
    "appointmentId": "a1", "clinicId": "north", "patientId": "p1", "sessionType": "spravato", "chairId": "chair-1",
    "providerId": "nurse-a", "start": "2027-03-01T14:00:00Z", "end": "2027-03-01T16:30:00Z", "localDate": "2027-03-01",
    "status": "booked", "version": 1, "phase": {"name": "awaiting-check-in"},
}
EXAMPLES_PER_OPERATION = 20  # about 1,000 requests over the ~50 operations; raise it locally for depth


def test_generated_requests_never_get_a_5xx_and_every_refusal_says_why(shared_clinic: World) -> None:
    schema = schemathesis.openapi.from_dict(conformance.document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len({(p.method, p.path) for p, _ in ROUTES})  # every route is documented
    statuses: Counter[int] = Counter()
    problems: list[str] = []

    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def send(case: Any) -> None:
            body = None if isinstance(case.body, schemathesis.core.NotSet) else case.body
            query = {key: str(value) for key, value in (case.query or {}).items()} or None
            reply = shared_clinic.call(
                case.method.upper(), case.formatted_path, body, role="[front-desk clinician admin]",
                headers={"Idempotency-Key": "fuzz-key-0001"}, query=query,
            )
            statuses[reply.status] += 1
            if reply.status >= 500:
                problems.append(f"{case.method} {case.formatted_path} {json.dumps(body, default=str)[:200]} -> {reply.status}")
            elif reply.status >= 400 and not (reply.body and reply.body.get("code") and reply.body.get("message")):
                problems.append(f"{case.method} {case.formatted_path} -> {reply.status} without code and message: {reply.body}")

        send()

    assert problems == []
    assert sum(statuses.values()) >= 15 * len(operations)
    assert statuses[422] > 0 and any(200 <= status < 300 for status in statuses)  # both kinds were generated


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, {"appointmentId": "a1"}, "is a required property"),
        (200, {**APPOINTMENT, "appointmentId": 7}, "appointmentId: 7 is not of type 'string'"),
        (200, {**APPOINTMENT, "status": "lost"}, "status: 'lost' is not one of"),
        (404, {"code": "not_found", "message": "no appointment", "fields": [], "trace": "..."}, "Additional properties"),
        (418, {}, "does not list"),
    ],
    ids=["missing field", "wrong type", "unknown status", "error with extras", "undocumented status"],
)
def test_a_reply_that_departs_from_the_document_is_caught(shared_clinic: World, status: int, body: Any, problem: str) -> None:
    conformance.check("GET", "/appointments/a1", 200, APPOINTMENT)  # the reference body itself conforms
    with pytest.raises(AssertionError, match=problem):
        conformance.check("GET", "/appointments/a1", status, body)
