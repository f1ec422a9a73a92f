"""Both stages synthesized once per session from cdk.json's own context, as the CDK CLI passes
it, with cdk-nag on; prod with its own domains for the API and the site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.template import synthesize

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
DOMAIN = "api.example-clinic.com"
CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-4000-8000-000000000000"
SITE = "desk.example-clinic.com"
SITE_CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/11111111-0000-4000-8000-000000000000"


def synthesized(**context: Any) -> dict[str, Any]:
    """cdk-nag checks both stages; CloudFormation's schema check runs once, in the nag test."""
    return synthesize({**CONTEXT, **context}, None, nag_check=True, schema_check=False)


@pytest.fixture(scope="session")
def dev() -> dict[str, Any]:
    return synthesized(stage="dev")


@pytest.fixture(scope="session")
def prod() -> dict[str, Any]:
    return synthesized(
        stage="prod", apiDomainName=DOMAIN, apiCertificateArn=CERTIFICATE, siteDomainName=SITE, siteCertificateArn=SITE_CERTIFICATE
    )
