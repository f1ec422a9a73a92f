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

import pytest

from local.template import synthesized


@pytest.fixture(scope="session")
def template() -> dict:
    return synthesized()
