"""The Lambda handler the harness tests deploy. Each event's `action` says what the step does."""

from __future__ import annotations

import queue
import threading
from collections import Counter
from typing import Any

from local.stepfunctions import current_clock

# Task tokens handed to `park`, for a test to answer.
tokens: queue.Queue[str] = queue.Queue()
# The events of `now` calls, in order.
calls: list[dict[str, Any]] = []
_attempts: Counter[str] = Counter()
_lock = threading.Lock()


class Flaky(Exception):
    """Fails the first `failures` attempts of each key."""


class Broken(Exception):
    """Fails every time."""


def reset() -> None:
    with _lock:
        calls.clear()
        _attempts.clear()
    while not tokens.empty():
        tokens.get_nowait()


def handle(event: dict[str, Any], context: Any) -> Any:
    action = event["action"]
    if action == "now":
        with _lock:
            calls.append(event)
        return {"now": current_clock().now().isoformat(), "input": event.get("input")}
    if action == "park":
        tokens.put(event["token"])
        return {}
    if action == "flaky":
        with _lock:
            _attempts[event["key"]] += 1
            attempt = _attempts[event["key"]]
        if attempt <= event["failures"]:
            raise Flaky(f"attempt {attempt} of {event['key']} failed")
        return {"attempt": attempt}
    if action == "broken":
        raise Broken("the step always fails")
    raise ValueError(f"unknown action {action!r}")
