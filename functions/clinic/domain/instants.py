"""The one text form of a UTC instant: what the table's sort keys, Step Functions' Wait
states and the API's `...Z` fields all use (whole seconds, so keys sort as times)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
