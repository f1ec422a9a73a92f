"""Alarms for the operator, delivered to an encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..settings import StageSettings


class Operations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StageSettings,
        key: kms.IKey,
        functions: dict[str, lambda_.IFunction],
        rest_api: apigw.RestApi,
        state_machine: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "OperatorAlerts", master_key=key, enforce_ssl=True)
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        alarm_action = actions.SnsAction(self.topic)
        five_minutes = Duration.minutes(5)
        # Errors, throttles and 5xx per 5 minutes: the stage's `errorAlarmThreshold` (a dev stack
        # tolerates a few). Failed workflows, escalations and REMS forms alarm at the first, always.
        errors = settings.error_alarm_threshold
        alarms: list[cloudwatch.Alarm] = []
        for name, function in functions.items():
            alarms.append(
                function.metric_errors(period=five_minutes).create_alarm(
                    self, f"{name}Errors", threshold=errors, evaluation_periods=1, alarm_description=f"{name} raised errors"
                )
            )
            alarms.append(
                function.metric_throttles(period=five_minutes).create_alarm(
                    self, f"{name}Throttles", threshold=errors, evaluation_periods=1, alarm_description=f"{name} was throttled"
                )
            )
        alarms.append(
            # By stage as well as the API's name: two stages in one account share the name.
            rest_api.deployment_stage.metric_server_error(period=five_minutes).create_alarm(
                self, "Api5xx", threshold=errors, evaluation_periods=1, alarm_description="The API answered 5xx"
            )
        )
        alarms.append(
            rest_api.deployment_stage.metric_latency(period=five_minutes, statistic="p99").create_alarm(
                self,
                "ApiLatencyP99",
                threshold=settings.api_latency_p99_ms,
                evaluation_periods=3,
                alarm_description="API p99 latency above target",
            )
        )
        # A failed execution has already flagged its appointment and paged the clinicians;
        # the operator hears of it too, since it means a step failed for good.
        alarms.append(
            state_machine.metric_failed(period=five_minutes).create_alarm(
                self, "WorkflowFailed", threshold=1, evaluation_periods=1, alarm_description="A care workflow failed"
            )
        )
        alarms.append(
            state_machine.metric_timed_out(period=five_minutes).create_alarm(
                self, "WorkflowTimedOut", threshold=1, evaluation_periods=1, alarm_description="A care workflow timed out"
            )
        )
        # The care workflow counts escalations still unacknowledged after the whole on-call chain
        # was paged, and REMS Patient Monitoring Forms past their deadline unfiled.
        for metric_name, description in (
            ("EscalationUnacknowledged", "A suicide-risk escalation went through the whole on-call chain unacknowledged"),
            (
                "EscalationHandedOff",
                "Paging stopped after escalationRounds of the on-call chain with nobody acknowledging; the "
                "escalation is on the clinic's alerts",
            ),
            ("RemsFormOverdue", "A Spravato REMS Patient Monitoring Form passed its deadline without being marked filed"),
        ):
            metric = cloudwatch.Metric(
                namespace="KetamineClinic",
                metric_name=metric_name,
                dimensions_map={"service": "care-workflow", "stage": settings.stage},
                statistic="Sum",
                period=five_minutes,
            )
            alarms.append(
                metric.create_alarm(
                    self,
                    metric_name,
                    threshold=1,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=description,
                )
            )
        for alarm in alarms:
            alarm.add_alarm_action(alarm_action)
        self.alarms = alarms
        # One page for the operator: every alarm's state and metric.
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [cloudwatch.AlarmStatusWidget(alarms=alarms, title="Alarms", width=24)],
                *[[cloudwatch.AlarmWidget(alarm=alarm, width=12) for alarm in alarms[i : i + 2]] for i in range(0, len(alarms), 2)],
            ],
        )
