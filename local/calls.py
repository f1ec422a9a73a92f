"""Counts the AWS API calls the service makes, through botocore's `before-call` event."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session

_counter: Counter[str] | None = None
_lock = threading.Lock()
_installed = False


def _count(model: Any, **_: Any) -> None:
    with _lock:
        if _counter is not None:
            _counter[f"{model.service_model.service_name}.{model.name}"] += 1


def install() -> None:
    """Every botocore session created from now on reports its calls (the functions build
    their own sessions when their environments are built)."""
    global _installed
    if _installed:
        return
    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-call.*.*", _count)

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]
    _installed = True


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """The calls made while the block runs, as "service.Operation" -> count."""
    global _counter
    counts: Counter[str] = Counter()
    with _lock:
        _counter = counts
    try:
        yield counts
    finally:
        with _lock:
            _counter = None
