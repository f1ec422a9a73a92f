"""The clinic's DynamoDB table (single-table design, see docs/table-design.md), the
idempotency table and their backups."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..names import per_creation
from ..nag import accept

STRING = dynamodb.AttributeType.STRING


class ClinicData(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, retain: bool) -> None:
        """`retain` (the stage's `retainData`): the tables survive a deleted stack and refuse deletion."""
        super().__init__(scope, construct_id)
        common = {
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED,
            "encryption_key": key,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            "deletion_protection": retain,
            "removal_policy": RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        }
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=STRING),
            sort_key=dynamodb.Attribute(name="sk", type=STRING),
            time_to_live_attribute="expiresAt",
            **common,
        )
        for index in ("gsi1", "gsi2"):
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=f"{index}pk", type=STRING),
                sort_key=dynamodb.Attribute(name=f"{index}sk", type=STRING),
            )
        # Powertools Idempotency's records: the stored responses may hold PHI, so same key and care.
        self.idempotency_table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name="id", type=STRING),
            time_to_live_attribute="expiration",
            **common,
        )
        # The vault outlives the stack in every stage (it holds the recovery points).
        vault = backup.BackupVault(
            self, "BackupVault", backup_vault_name=per_creation(Stack.of(self).stack_name), removal_policy=RemovalPolicy.RETAIN
        )
        plan = backup.BackupPlan.daily35_day_retention(self, "BackupPlan", vault)
        plan.add_rule(backup.BackupPlanRule.monthly1_year())
        plan.add_selection(
            "Tables",
            resources=[backup.BackupResource.from_dynamo_db_table(self.table)],
        )
        self.backup_plan = plan
        accept(
            self.idempotency_table,
            {
                "HIPAA.Security-DynamoDBInBackupPlan": "Holds 24-hour replay records of API responses only; point-in-time "
                "recovery covers it and a restore would bring back nothing a clinic needs."
            },
        )
        accept(
            plan,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]": "AWS Backup's own service role policy for DynamoDB backups."
            },
        )
