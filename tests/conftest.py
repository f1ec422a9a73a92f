"""Shared fixtures. Nothing here talks to a real AWS account: moto stands in for it."""

from __future__ import annotations

import os

# Before boto3 or Powertools are imported anywhere: a fake account, no tracing daemon.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "KetamineClinicTest",
        "POWERTOOLS_SERVICE_NAME": "clinic-api",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest

from local.template import synthesized
from tests.support.faults import Faults, injecting


@pytest.fixture(scope="session", autouse=True)
def one_set_of_service_models() -> Iterator[None]:
    """Every Lambda environment the tests start makes its own boto3 session, whose loader
    would read each service model from disk again (hundreds of times a run): share one."""
    loader = botocore.loaders.create_loader()
    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.register_component("data_loader", loader)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "__init__", init)
        yield


@pytest.fixture(scope="session")
def template() -> dict:
    return synthesized()


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    """AWS errors injected into the functions' calls (tests/support/faults.py)."""
    with injecting(monkeypatch) as plan:
        yield plan
