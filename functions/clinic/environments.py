"""Execution environments, kept warm the way Lambda keeps them.

Lambda gives each concurrent invocation an environment of its own and reuses idle ones.
In AWS one process holds one environment; locally (the dev server, the workflow under
moto) many invocations share a process on many threads, so the same rule needs a pool:
an invocation takes an idle environment or builds one, and returns it when done."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Environments(Generic[T]):
    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._idle: list[T] = []
        self._lock = threading.Lock()
        self._current = threading.local()

    @contextmanager
    def use(self) -> Iterator[T]:
        with self._lock:
            environment = self._idle.pop() if self._idle else None
        if environment is None:
            environment = self._build()
        self._current.environment = environment
        try:
            yield environment
        finally:
            self._current.environment = None
            with self._lock:
                self._idle.append(environment)

    def current(self) -> T:
        """The environment of the invocation running on this thread."""
        environment = getattr(self._current, "environment", None)
        if environment is None:
            raise RuntimeError("no invocation is running on this thread")
        return environment

    def clear(self) -> None:
        """Forgets idle environments (new settings, a new moto)."""
        with self._lock:
            self._idle.clear()
