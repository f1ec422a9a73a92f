"""cdk-nag rule packs. Each accepted finding is acknowledged next to the construct that
causes it, with its reason, through `accept`."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))


def accept(construct: IConstruct, findings: dict[str, str]) -> None:
    for rule, reason in findings.items():
        Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
