from __future__ import annotations

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
