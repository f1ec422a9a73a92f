#!/usr/bin/env python3
"""CDK entry point: `npx aws-cdk deploy -c stage=prod` (settings in cdk.json)."""

from __future__ import annotations

import os

from aws_cdk import App, Environment

from infra import nag
from infra.settings import load
from infra.stack import ClinicStack


def build(app: App) -> ClinicStack:
    settings = load(app)
    stack = ClinicStack(
        app,
        f"KetamineClinic-{settings.stage}",
        settings=settings,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
        description="Ketamine clinic appointments, care workflow and follow-up",
    )
    nag.check(app)
    return stack


if __name__ == "__main__":
    application = App()
    build(application)
    application.synth()
