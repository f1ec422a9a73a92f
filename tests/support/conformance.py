"""Every reply the tests see is checked against the OpenAPI document the API publishes: its
status must be documented for the route and its body must match that status's schema."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from clinic.api import openapi
from clinic.api.app import ENVIRONMENTS, ROUTES
from jsonschema import Draft202012Validator


@cache
def document() -> dict[str, Any]:
    with ENVIRONMENTS.use() as api:
        return openapi.document(api.resolver)


@cache
def _validator(path: str, method: str, status: int) -> Draft202012Validator | None:
    documented = document()["paths"][path][method]["responses"].get(str(status))
    if documented is None:
        raise AssertionError(f"{method.upper()} {path} answered {status}, which its OpenAPI document does not list")
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    return Draft202012Validator({**schema, "components": document()["components"]}) if schema else None


def check(method: str, concrete_path: str, status: int, body: Any) -> None:
    """Raises AssertionError naming the first way the reply departs from the document."""
    for policy, _ in ROUTES:
        if policy.method == method and policy.pattern.match(concrete_path):
            path = re.sub(r"<([^>]+)>", r"{\1}", policy.path)
            validator = _validator(path, method.lower(), status)
            errors = sorted(validator.iter_errors(body), key=str) if validator else []
            if errors:
                where = "/".join(str(p) for p in errors[0].absolute_path) or "the body"
                raise AssertionError(f"{method} {path} {status}: {where}: {errors[0].message}")
            return
