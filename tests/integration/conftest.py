from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.support.world import World


@pytest.fixture
def world(template, monkeypatch) -> World:
    with mock_aws():
        yield World(template, monkeypatch)


@pytest.fixture
def clinic(world: World) -> World:
    world.set_up_clinic()
    return world


@pytest.fixture(scope="module")
def shared_clinic(template) -> Iterator[World]:
    """One clinic for a whole module of many small cases (each compares what it needs itself)."""
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        world = World(template, patch)
        world.set_up_clinic()
        yield world
