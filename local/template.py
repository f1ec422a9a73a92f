"""Synthesizes the CDK stack (once per process) and reads what the local AWS needs from it."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

STACK_ID = "KetamineClinic-local"
# The local server is the site: CORS and patient links point at it, not at CloudFront.
LOCAL_SITE = {"allowedOrigin": "http://localhost:8000", "patientLinkBaseUrl": "http://localhost:8000/patient"}


@cache
def synthesized(validate: bool = False) -> dict[str, Any]:
    """The CloudFormation template of the stack, as `cdk synth` produces it. Validation
    (cdk-nag and CloudFormation's schema check) is the slow part; the infrastructure tests run it once."""
    return synthesize(LOCAL_SITE, STACK_ID, nag_check=validate, schema_check=validate)


def synthesize(context: dict[str, Any], stack_id: str | None, *, nag_check: bool, schema_check: bool) -> dict[str, Any]:
    """The template for `context` (what `-c key=value` and cdk.json give the CLI); the stack is
    named `stack_id`, or for its stage as app.py names it."""
    # A comma list of Node major versions whose end-of-life banner jsii should not print.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from aws_cdk import App

    from infra import nag
    from infra.settings import load
    from infra.stack import ClinicStack

    app = App(context={**context, "aws:cdk:enable-path-metadata": True}, outdir=None)
    settings = load(app)
    stack = ClinicStack(app, stack_id or f"KetamineClinic-{settings.stage}", settings=settings)
    if nag_check:
        nag.check(app)
    previous = os.environ.get("CDK_VALIDATION")
    os.environ["CDK_VALIDATION"] = "true" if schema_check else "false"
    try:
        return app.synth().get_stack_by_name(stack.stack_name).template
    finally:
        if previous is None:
            os.environ.pop("CDK_VALIDATION", None)
        else:
            os.environ["CDK_VALIDATION"] = previous


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def function_by_handler(template: dict[str, Any], handler: str) -> dict[str, Any]:
    for resource in resources(template, "AWS::Lambda::Function").values():
        if resource["Properties"]["Handler"] == handler:
            return resource["Properties"]
    raise KeyError(f"no Lambda function with handler {handler!r} in the template")
