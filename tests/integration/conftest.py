from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TypeVar
from unittest import mock

import pytest
from clinic.usecases import kernel
from moto import mock_aws

from local.aws import reset_functions
from local.server import LocalService
from tests.support.world import World


@pytest.fixture
def world(template, monkeypatch) -> World:
    with mock_aws():
        yield World(template, monkeypatch)


@pytest.fixture
def clinic(world: World) -> World:
    world.set_up_clinic()
    return world


W = TypeVar("W", bound=World)


def clinic_world(kind: type[W], template: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator[W]:
    """A fixture's body: a World of `kind` (with its own helpers) and the test clinic."""
    with mock_aws():
        world = kind(template, monkeypatch)
        world.set_up_clinic()
        yield world


@pytest.fixture(scope="module")
def shared_clinic(template) -> Iterator[World]:
    """One clinic for a whole module of many small cases (each compares what it needs itself)."""
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        world = World(template, patch)
        world.set_up_clinic()
        yield world


# Wednesday 2027-02-24, 10:00 New York: tests that need fixed dates (a DST change ahead, named
# weekdays) run the service on this clock.
FIXED_NOW = datetime(2027, 2, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(kernel, "utc_now", lambda: FIXED_NOW)
    return FIXED_NOW


@pytest.fixture(scope="module")
def service() -> Iterator[LocalService]:
    """`make run`'s whole service on a free port, for the module's tests over HTTP."""
    with mock.patch.dict(os.environ):  # the local stack points boto3 at its moto: not the next tests
        running = LocalService(port=0).start()
        try:
            yield running
        finally:
            running.stop()
    reset_functions()
