"""Validation problems in the words a front desk reads next to a field: what to enter, with
an example, never a regular expression or a parser's jargon ("Value error", "Input should")."""

from __future__ import annotations

import re
from typing import Any

PHONE_FIELDS = re.compile(r"(^|\.)phone$", re.IGNORECASE)
EMAIL_FIELDS = re.compile(r"(^|\.)email$", re.IGNORECASE)
PHONE_EXAMPLE = "Enter the phone number with its country code, for example +1 555 010 0199"
EMAIL_EXAMPLE = "Enter an email address, for example name@example.org"


def plain(error: dict[str, Any], field: str) -> str:
    """The problem of one pydantic error, for the field it names (camelCase, dotted)."""
    kind, context = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        if PHONE_FIELDS.search(field):
            return PHONE_EXAMPLE
        if EMAIL_FIELDS.search(field):
            return EMAIL_EXAMPLE
        return "has characters or a form this field does not accept"
    fixed = {
        "missing": "is required",
        "extra_forbidden": "has a field this request does not take",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "date_parsing": "must be a date, for example 2026-12-31",
        "date_from_datetime_parsing": "must be a date, for example 2026-12-31",
        "datetime_parsing": "must be a date and time with its offset, for example 2026-12-31T09:00:00-05:00",
        "datetime_from_date_parsing": "must be a date and time with its offset, for example 2026-12-31T09:00:00-05:00",
        "timezone_aware": "must give its offset from UTC, for example 2026-12-31T09:00:00-05:00",
        "time_parsing": "must be a time of day, for example 09:30",
        "string_type": "must be text",
        "dict_type": "must be an object of named fields",
        "model_type": "must be an object of named fields",
        "list_type": "must be a list",
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "string_too_short":
        return "is required" if context.get("min_length") == 1 else f"must be at least {context.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be {'at least' if kind.endswith('equal') else 'more than'} {context.get('ge', context.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be {'at most' if kind.endswith('equal') else 'less than'} {context.get('le', context.get('lt'))}"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return re.sub(r"^Input should be", "must be", message)
