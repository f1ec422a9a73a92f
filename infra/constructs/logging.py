"""Log groups that may see PHI-adjacent data: KMS-encrypted, retained, kept on delete where
the stage retains its data."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def encrypted_log_group(
    scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int, retain: bool, name: str | None = None
) -> logs.LogGroup:
    removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
    group = logs.LogGroup(scope, construct_id, log_group_name=name, encryption_key=key, removal_policy=removal)
    # RetentionDays is an enum of names; operators think in days, and CloudFormation takes days.
    resource = group.node.default_child
    assert isinstance(resource, logs.CfnLogGroup)
    resource.retention_in_days = retention_days
    return group
