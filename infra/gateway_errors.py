"""What API Gateway itself answers (a refused token, the firewall, a body over the limit,
throttling, its own faults), in the API's error shape `{"code", "message", "fields"}`.
Deployed as gateway responses (infra/constructs/api.py) and given by the local gateway
(local/gateway.py) from this one table, so the web client reads every error the same way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayError:
    status: int
    code: str
    message: str  # never a value from the request
    retry_after_seconds: int | None = None


GATEWAY_ERRORS = {
    "UNAUTHORIZED": GatewayError(401, "unauthorized", "sign in first: this route needs a valid staff identity token"),
    "ACCESS_DENIED": GatewayError(403, "forbidden", "this identity may not call this route"),
    "WAF_FILTERED": GatewayError(
        403, "blocked", "the firewall refused this request: too many from this address, or a pattern it blocks"
    ),
    "REQUEST_TOO_LARGE": GatewayError(413, "request_too_large", "the request body is larger than the API accepts"),
    "THROTTLED": GatewayError(429, "throttled", "too many requests; retry shortly", retry_after_seconds=1),
    "QUOTA_EXCEEDED": GatewayError(429, "throttled", "too many requests; retry shortly", retry_after_seconds=1),
    "DEFAULT_5XX": GatewayError(500, "internal_error", "something went wrong on our side; the request was not completed"),
}
# Any other refusal by API Gateway (a request its validator rejects, an unknown method):
# its own message, which names the rule and never the value.
DEFAULT_4XX = GatewayError(400, "bad_request", "")
