"""Counts and times the AWS API calls the service makes, through botocore's `before-call`
and `after-call` events."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session


@dataclass
class Tally:
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> count
    seconds: float = 0.0  # spent waiting for AWS (here: moto)
    items_read: int = 0  # what Queries and Scans read (ScannedCount), the DynamoDB cost of a read


_tally: Tally | None = None
_lock = threading.Lock()
_began = threading.local()
_installed = False


def _before(model: Any, **_: Any) -> None:
    _began.at = time.perf_counter()
    with _lock:
        if _tally is not None:
            _tally.calls[f"{model.service_model.service_name}.{model.name}"] += 1


def _after(parsed: dict[str, Any], **_: Any) -> None:
    elapsed = time.perf_counter() - getattr(_began, "at", time.perf_counter())
    with _lock:
        if _tally is not None:
            _tally.seconds += elapsed
            _tally.items_read += int(parsed.get("ScannedCount", 0))


def install() -> None:
    """Every botocore session created from now on reports its calls (the functions build
    their own sessions when their environments are built)."""
    global _installed
    if _installed:
        return
    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-call.*.*", _before)
        self.register("after-call.*.*", _after)

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]
    _installed = True


@contextmanager
def counting() -> Iterator[Tally]:
    """The calls made while the block runs."""
    global _tally
    tally = Tally()
    with _lock:
        _tally = tally
    try:
        yield tally
    finally:
        with _lock:
            _tally = None
