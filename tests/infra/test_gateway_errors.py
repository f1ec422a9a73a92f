"""API Gateway's own answers (401, 403, 413, 429, its 4xx and 5xx) carry CORS headers and the
API's error body, deployed and locally alike."""

from __future__ import annotations

import json
import re

import pytest

from clinic.api.responses import ErrorBody
from local.gateway import gateway_error
from local.template import resources

VTL_MESSAGE = "$context.error.messageString"  # API Gateway's own message, already a JSON string


@pytest.fixture(scope="module")
def responses(template) -> dict[str, dict]:
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()}


def test_every_answer_of_the_gateway_itself_is_in_the_error_shape_with_cors(responses) -> None:
    assert set(responses) == {
        "UNAUTHORIZED", "ACCESS_DENIED", "WAF_FILTERED", "REQUEST_TOO_LARGE", "THROTTLED", "QUOTA_EXCEEDED",
        "DEFAULT_4XX", "DEFAULT_5XX",
    }
    statuses = {kind: r.get("StatusCode") for kind, r in responses.items()}
    assert statuses == {
        "UNAUTHORIZED": "401", "ACCESS_DENIED": "403", "WAF_FILTERED": "403", "REQUEST_TOO_LARGE": "413",
        "THROTTLED": "429", "QUOTA_EXCEEDED": "429", "DEFAULT_4XX": None, "DEFAULT_5XX": None,  # the gateway's own
    }
    for kind, response in responses.items():
        headers = response["ResponseParameters"]
        # The local stack's origin; deployed, the site's (tests/infra/test_site.py).
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'http://localhost:8000'", kind
        body = json.loads(response["ResponseTemplates"]["application/json"].replace(VTL_MESSAGE, '"Invalid request body"'))
        ErrorBody.model_validate(body)  # the documented shape, nothing more
    assert responses["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert json.loads(responses["WAF_FILTERED"]["ResponseTemplates"]["application/json"])["code"] == "blocked"


@pytest.mark.parametrize("kind", ["UNAUTHORIZED", "ACCESS_DENIED", "WAF_FILTERED", "REQUEST_TOO_LARGE", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"])
def test_the_local_gateway_gives_the_deployed_body(responses, kind: str) -> None:
    deployed = responses[kind]
    status, headers, body = gateway_error(kind, "Invalid request body")
    assert json.loads(body) == json.loads(deployed["ResponseTemplates"]["application/json"].replace(VTL_MESSAGE, '"Invalid request body"'))
    if "StatusCode" in deployed:
        assert str(status) == deployed["StatusCode"]
    retry = deployed["ResponseParameters"].get("gatewayresponse.header.Retry-After")
    assert headers.get("Retry-After") == (retry.strip("'") if retry else None)


def test_a_401_tells_the_client_to_sign_in_without_echoing_anything() -> None:
    status, _, body = gateway_error("UNAUTHORIZED")
    assert status == 401 and json.loads(body)["code"] == "unauthorized"
    assert re.search(r"sign in", json.loads(body)["message"])
