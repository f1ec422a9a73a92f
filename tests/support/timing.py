"""Waiting for what other threads (the state machine's) do, in real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout: float = 15.0, what: str = "", every: float = 0.03) -> T:
    """The first truthy value of `condition()`, polled `every` s; fails the test after `timeout` s
    (generous: on CI's two loaded cores an execution's next step can take seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    pytest.fail(f"still not true after {timeout}s: {what or condition}")
