"""The web client in a real browser: Playwright drives Debian's Chromium against `make run`'s
service (moto inside, the real state machine executing), with its clock started at a fixed
morning so the test can book, dose and fast-forward through the day."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest

from local.aws import reset_functions
from local.server import LocalService

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium on a machine with no way out: no background connections, no sandbox as root.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
MORNING = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # a Tuesday, 08:00 in the demo clinic's New York
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests share one local service and one Chromium: they run one after the
    other on one worker (`--dist loadgroup`), the way a clinic's day follows on."""
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="package")
def service() -> Iterator[LocalService]:
    with mock.patch.dict(os.environ):
        # Many execution environments share this process and pages poll every 3 s: an admin's
        # change to a member reaches every environment's check within a second, not 30 s.
        os.environ["STAFF_STANDING_SECONDS"] = "1"
        running = LocalService(port=0, start=MORNING).start()
        try:
            yield running
        finally:
            running.stop()
    reset_functions()


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
