"""Deny by default, whatever the spelling: every route of the resolver, every caller, and the
ways a path can be spelled oddly (trailing, doubled or encoded slashes, another case, an
unknown tail) or sent wrongly (another method, a body that is not JSON). None of them is
ever served where the plain path is refused, none is a 5xx, and each answers in the
documented error shape. The role check runs on exactly the path the resolver serves."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from clinic.api import app as api_module
from clinic.api.app import ROUTES

from local.gateway import LambdaContext, rest_event
from tests.support.bodies import body_for
from tests.support.world import CLINIC, World, claims_for

CALLERS = [None, "front-desk", "clinician", "admin"]


def _concrete(path: str) -> str:
    values = {"clinic_id": CLINIC, "chair_id": "chair-1", "provider_id": "nurse-a"}
    return re.sub(r"<([^>]+)>", lambda m: values.get(m.group(1), "does-not-exist"), path)


def _misspellings(path: str) -> dict[str, str]:
    head, _, tail = path.rpartition("/")
    return {
        "trailing slash": path + "/",
        "two trailing slashes": path + "//",
        "doubled slash inside": path.replace("/", "//", 2).replace("//", "/", 1) if path.count("/") > 1 else "/" + path,
        "leading double slash": "/" + path,
        "another case": path.upper(),
        "encoded slash": f"{head}%2F{tail}",
        "unknown tail": path + "/no-such/route",
        "dot segment": f"{head}/./{tail}",
    }


def _call(
    method: str, path: str, caller: str | None, *, body: Any = None, content_type: str = "application/json", query: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": content_type, "Idempotency-Key": "path-forms-1"}
    event = rest_event(method, path, body=body, claims=claims_for(caller), headers=headers, query=query)
    reply = api_module.lambda_handler(event, LambdaContext())
    return reply["statusCode"], json.loads(reply["body"]) if reply.get("body") else {}


def _shaped(body: dict[str, Any]) -> bool:
    return set(body) == {"code", "message", "fields"} and isinstance(body["fields"], list)


@pytest.mark.parametrize(("policy"), [policy for policy, _ in ROUTES], ids=lambda p: f"{p.method} {p.path}")
def test_no_spelling_of_a_route_is_served_and_none_is_a_5xx(shared_clinic: World, policy) -> None:
    plain = _concrete(policy.path)
    body = {} if policy.method != "GET" else None
    before = shared_clinic.items()
    for caller in CALLERS:
        for form, path in _misspellings(plain).items():
            status, reply = _call(policy.method, path, caller, body=body)
            assert not 200 <= status < 300 and status < 500 and _shaped(reply), (form, path, caller, status, reply)
            if form not in ("encoded slash", "another case"):  # those may spell another route's id
                assert status == 404, (form, path, caller, status, reply)
    # Another method on the plain path: 405 naming the methods it takes.
    other = "DELETE"
    status, reply = _call(other, plain, "admin")
    assert status == 405 and _shaped(reply) and policy.method in reply["message"], (status, reply)
    # A body that is not JSON: 415, before the role check and before anything is parsed.
    if policy.method != "GET":
        status, reply = _call(policy.method, plain, "admin", body="a=1&b=2", content_type="application/x-www-form-urlencoded")
        assert status == 415 and _shaped(reply), (status, reply)
    assert shared_clinic.items() == before


def test_an_unknown_route_is_404_for_anyone_and_a_public_one_never_500s(shared_clinic: World) -> None:
    for caller in CALLERS:
        for path in ("/nothing-here", "/public", "/public/", "/public/surveys/x", "/clinics", "/"):
            for method in ("GET", "POST"):
                status, reply = _call(method, path, caller, body={} if method == "POST" else None)
                assert status in (404, 405) and _shaped(reply), (method, path, caller, status, reply)
    for path in ("/public/surveys", "/public/surveys/answers", "/public/confirmations", "/public/waitlist-offers"):
        for body in (None, "", "null", "[]", "{", '{"token": 5}', '{"token": null}', "x" * 5000):
            status, reply = _call("POST", path, None, body=body)
            assert 400 <= status < 500 and _shaped(reply), (path, body[:20] if body else body, status, reply)


@pytest.mark.parametrize(
    "policy", [policy for policy, _ in ROUTES if "<" in policy.path], ids=lambda p: f"{p.method} {p.path}"
)
def test_an_id_longer_than_any_key_takes_is_refused_naming_it(shared_clinic: World, policy) -> None:
    """DynamoDB refuses a key over 1024 bytes with an error of its own (a 500 if it got there)."""
    before = shared_clinic.items()
    for parameter in re.findall(r"<([^>]+)>", policy.path):
        path = _concrete(policy.path.replace(f"<{parameter}>", "x" * 2000))
        body = body_for(policy.method, policy.path, {"clinic_id": CLINIC, "patient_id": "does-not-exist"})
        query = {"date": "2030-01-07", "sessionType": "spravato"} if policy.method == "GET" else None
        status, reply = _call(policy.method, path, sorted(policy.groups)[0], body=body, query=query)
        assert status == 422 and _shaped(reply), (parameter, status, reply)
        field = re.sub(r"_(\w)", lambda m: m.group(1).upper(), parameter)
        assert field in [f["field"] for f in reply["fields"]] and "x" * 20 not in reply["message"], reply
    assert shared_clinic.items() == before
