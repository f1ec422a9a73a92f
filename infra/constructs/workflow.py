"""The care workflow: one Standard Step Functions execution per appointment run, from
booking through reminders, check-in, dosing, observation and discharge to follow-up.

Human steps are task-token callbacks ("park" steps): the execution stores its token on the
appointment and the API route that records the step resumes it. Every park has a timeout
whose handler looks at the appointment again (and late parks keep re-checking), so a lost
callback delays, never strands, an execution. Every task retries transient errors; anything else marks the appointment
"needs attention", pages the clinicians and ends the execution as failed (which alarms)."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..nag import accept
from ..settings import StageSettings
from .functions import ClinicFunction
from .logging import encrypted_log_group
from .messaging import Messaging

TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TemporarilyUnavailable",  # our own: DynamoDB, SNS or Step Functions throttled us
]
# What every step and every Map item is given: whose run it is (the organization binds the
# step's records), which appointment, which run of it.
RUN = {"organizationId.$": "$.organizationId", "appointmentId.$": "$.appointmentId", "run.$": "$.run"}
ENDED = ["AppointmentClosed", "Superseded"]  # cancelled, no-show or rescheduled meanwhile


def state_machine_name(stack: Stack) -> str:
    return f"{stack.stack_name}-care"


def state_machine_arn(stack: Stack) -> str:
    """Built from the name, not the resource: the functions the machine calls need it too."""
    return stack.format_arn(
        service="states", resource="stateMachine", resource_name=state_machine_name(stack), arn_format=ArnFormat.COLON_RESOURCE_NAME
    )


class CareWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StageSettings,
        key: kms.IKey,
        table: dynamodb.ITable,
        messaging: Messaging,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        care = self._care = settings.clinic_rules.care
        self._escalation_pages = settings.escalation_pages
        environment = {
            "TABLE_NAME": table.table_name,
            "STATE_MACHINE_ARN": state_machine_arn(stack),
            "CLINIC_RULES": settings.clinic_rules.model_dump_json(by_alias=True),
            **messaging.environment(settings.patient_link_base_url),
        }
        steps = ClinicFunction(
            self,
            "Steps",
            handler="clinic.workflow.handler.lambda_handler",
            service="care-workflow",
            key=key,
            log_retention_days=settings.log_retention_days,
            retain_logs=settings.retain_data,
            config_cache_seconds=settings.config_cache_seconds,
            stage=settings.stage,
            environment=environment,
            reserved_concurrency=settings.workflow_reserved_concurrency,
            timeout_seconds=30,
        )
        self.function = steps.function
        self._live = steps.live
        table.grant_read_write_data(self.function)
        messaging.grant_send(self.function)
        # A step already done when the execution parks resumes it at once. (The ARN from the
        # name: a reference to the machine would make it depend on itself through this role.)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[state_machine_arn(stack)])
        )

        self._closed = sfn.Succeed(self, "Closed", comment="cancelled, no-show or rescheduled: nothing left to do")
        failed = sfn.Fail(self, "WorkflowFailed", error="NeedsAttention", cause="a step failed; the appointment is flagged")
        self._flag = self._task(
            "FlagNeedsAttention", "needs-attention", {"failedStep.$": "$.failedStep", "error.$": "$.error"}, catch=False
        )
        self._flag.add_catch(failed, errors=["States.ALL"], result_path="$.flagFailure")
        self._flag.next(failed)

        definition = (
            self._reminders()
            .next(sfn.Wait(self, "WaitForStart", time=sfn.WaitTime.timestamp_path("$.start")))
            .next(self._check_in(care.check_in_grace_minutes))
        )
        self._dose(care.dose_overdue_minutes, definition)

        log_group = encrypted_log_group(
            self, "ExecutionLogs", key=key, retention_days=settings.log_retention_days, retain=settings.retain_data
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(stack),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            tracing_enabled=True,
            # Inputs and outputs are ids and times by design; still, keep them out of the logs.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        function_id = stack.resolve(self.function.node.default_child.logical_id)  # type: ignore[union-attr]
        accept(
            self.state_machine.role,
            {
                "AwsSolutions-IAM5[Resource::*]": "CloudWatch Logs delivery and X-Ray actions take no resource.",
                f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]": "The steps function's own versions, "
                "granted by CDK.",
                "HIPAA.Security-IAMNoInlinePolicy": "CDK writes the machine's grants (invoke the steps function, "
                "logs, X-Ray) into its role's inline policy.",
            },
        )
        table_id = stack.resolve(table.node.default_child.logical_id)  # type: ignore[union-attr]
        accept(
            self.function.role,  # type: ignore[arg-type]
            {f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]": "The table's own indexes, granted by CDK."},
        )
        accept(
            self.function,
            {
                "HIPAA.Security-LambdaDLQ": "Invoked synchronously by Step Functions, which retries and catches "
                "every error itself."
            },
        )

    # --- the journey -----------------------------------------------------------------
    def _reminders(self) -> sfn.Map:
        reminders = sfn.Map(
            self,
            "Reminders",
            items_path="$.reminders",
            item_selector={
                **RUN,
                "at.$": "$$.Map.Item.Value.at",
                "hoursBefore.$": "$$.Map.Item.Value.hoursBefore",
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        remind = self._task("Remind", "remind", {"hoursBefore.$": "$.hoursBefore"}, catch=False)
        # A reminder that cannot go out flags the appointment; the session itself goes on.
        remind.add_catch(sfn.Succeed(self, "ReminderNotNeeded"), errors=ENDED, result_path=sfn.JsonPath.DISCARD)
        failed = self._task("ReminderFailed", "reminder-failed", {"error.$": "$.failure.Error"}, catch=False)
        remind.add_catch(failed, errors=["States.ALL"], result_path="$.failure")
        reminders.item_processor(
            sfn.Wait(self, "WaitForReminder", time=sfn.WaitTime.timestamp_path("$.at")).next(remind)
        )
        self._on_failure(reminders, "Reminders")
        return reminders

    def _check_in(self, grace_minutes: int) -> sfn.IChainable:
        missed = self._task("MissedCheckIn", "missed-check-in", {}, result_path="$.checkIn")
        no_show = sfn.Succeed(self, "NoShow", comment="not checked in within the grace period; the chair is released")
        self._arrived_late = sfn.Choice(self, "ArrivedLate?")
        missed.next(self._arrived_late.otherwise(no_show))
        return self._park("AwaitCheckIn", "check-in", Duration.minutes(grace_minutes), sfn.JsonPath.DISCARD, missed)

    def _dose(self, overdue_minutes: int, chain: sfn.Chain) -> None:
        after_dose = self._observation()
        await_dose = self._overdue_park("Dose", "dose", Duration.minutes(overdue_minutes), "$.dose", after_dose)
        self._arrived_late.when(sfn.Condition.boolean_equals("$.checkIn.arrived", True), await_dose)
        chain.next(await_dose)

    def _observation(self) -> sfn.IChainable:
        wait = sfn.Wait(self, "WaitForBloodPressureCheck", time=sfn.WaitTime.timestamp_path("$.dose.bloodPressureDueAt"))
        check = self._task("ObservationCheck", "observation-check", {}, result_path="$.observation")
        follow_ups = self._follow_ups()
        await_discharge = self._overdue_park(
            "Discharge", "discharge", sfn.Timeout.at("$.observation.overdueInSeconds"), "$.discharge", follow_ups
        )
        wait.next(check).next(await_discharge)
        return wait

    def _follow_ups(self) -> sfn.IChainable:
        care = self._care
        follow_ups = sfn.Map(
            self,
            "FollowUps",
            items_path="$.discharge.followUps",
            max_concurrency=1,
            item_selector={
                **RUN,
                "number.$": "$$.Map.Item.Value.number",
                "at.$": "$$.Map.Item.Value.at",
                "hoursAfter.$": "$$.Map.Item.Value.hoursAfter",
                "instruments.$": "$$.Map.Item.Value.instruments",
                "followUp": {"waitSeconds": care.survey_reminder_hours * 3600},
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        number = {"number.$": "$.number"}
        # What is due next comes from the steps (and the answer route) as $.followUp.next.
        check = self._task("FollowUpCheck", "follow-up-check", number, result_path="$.followUp", catch=False)
        await_answers = self._task(
            "AwaitFollowUp",
            "await-follow-up",
            {**number, "hoursAfter.$": "$.hoursAfter", "instruments.$": "$.instruments", "taskToken": sfn.JsonPath.task_token},
            result_path="$.followUp",
            catch=False,
            wait_for_token=True,
            timeout=sfn.Timeout.at("$.followUp.waitSeconds"),
            on_timeout=check,
        )
        # Pages climb the on-call chain every escalationAcknowledgeMinutes until acknowledged.
        escalate = self._task(
            "Escalate",
            "escalate",
            {**number, "taskToken": sfn.JsonPath.task_token},
            catch=False,
            wait_for_token=True,
            timeout=sfn.Timeout.duration(Duration.minutes(care.escalation_acknowledge_minutes)),
        )
        # Bounded: after escalationRounds times the whole chain's pages, paging stops (an open loop
        # would reach Step Functions' 25,000-event history in about a month and fail the execution).
        # The escalation stays on the clinic's alerts, every clinician is paged once, the operator alarmed.
        pages = self._escalation_pages
        start_paging = sfn.Pass(
            self, "StartPaging", result=sfn.Result.from_object({"pages": 1}), result_path="$.escalation"
        )
        unacknowledged = sfn.Pass(
            self,
            "Unacknowledged",
            comment="no acknowledgment in time: page the next in the chain",
            parameters={"pages.$": "States.MathAdd($.escalation.pages, 1)"},
            result_path="$.escalation",
        )
        hand_off = self._task("HandOffEscalation", "hand-off-escalation", number, catch=False)
        escalate.add_catch(unacknowledged, errors=["States.Timeout"], result_path=sfn.JsonPath.DISCARD)
        unacknowledged.next(
            sfn.Choice(self, "ChainExhausted?")
            .when(sfn.Condition.number_greater_than("$.escalation.pages", pages), hand_off)
            .otherwise(escalate)
        )
        hand_off.next(check)
        start_paging.next(escalate)
        escalate.next(check)
        task = self._task("CreateFollowUpTask", "follow-up-task", number, result_path="$.followUp", catch=False)
        next_step = (
            sfn.Choice(self, "FollowUpNext?")
            .when(sfn.Condition.string_equals("$.followUp.next", "wait"), await_answers)
            .when(sfn.Condition.string_equals("$.followUp.next", "escalate"), start_paging)
            .when(sfn.Condition.string_equals("$.followUp.next", "task"), task)
            # A park that runs late, or answers that arrive late, can find the reminder or the
            # expiry already due: the check does it.
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.followUp.next", "remind"),
                    sfn.Condition.string_equals("$.followUp.next", "expire"),
                ),
                check,
            )
            .otherwise(sfn.Succeed(self, "FollowUpClosed"))
        )
        await_answers.next(next_step)
        check.next(next_step)
        task.next(next_step)
        follow_ups.item_processor(
            sfn.Wait(self, "WaitForFollowUp", time=sfn.WaitTime.timestamp_path("$.at")).next(await_answers)
        )
        self._on_failure(follow_ups, "FollowUps")
        return follow_ups.next(self._rems_form())

    def _rems_form(self) -> sfn.IChainable:
        """A REMS session (Spravato) waits until its Patient Monitoring Form is overdue (the
        clinic's midnight after `remsFormDueDays`, from the observation check) and checks that
        it was marked filed; an unfiled form pages the clinicians and counts `RemsFormOverdue`,
        which alarms the operator. Other sessions are done. After the follow-ups rather than in
        parallel with them: no Parallel state to pay for or to re-route the catches through; the
        alarm comes late only when the last follow-up is still open at the deadline."""
        done = sfn.Succeed(self, "Done")
        overdue_at = "$.observation.remsFormOverdueAt"
        wait = sfn.Wait(self, "WaitForRemsFormDeadline", time=sfn.WaitTime.timestamp_path(overdue_at))
        check = self._task("RemsFormCheck", "rems-form-check", {}, result_path="$.remsForm")
        wait.next(check).next(done)
        return sfn.Choice(self, "RemsForm?").when(sfn.Condition.is_present(overdue_at), wait).otherwise(done)

    # --- building blocks ---------------------------------------------------------------
    def _overdue_park(
        self, name: str, step: str, timeout: Duration | sfn.Timeout, result_path: str, then: sfn.IChainable
    ) -> sfn.IChainable:
        """Parks at `step`; when it runs late, flags the appointment, pages, and keeps waiting,
        looking at the appointment again every `overdueRecheckMinutes` (a lost callback)."""
        overdue = self._task(f"{name}Overdue", "overdue", {"waitFor": step}, result_path=result_path)
        park = self._park(f"Await{name}", step, timeout, result_path, overdue)
        recheck = Duration.minutes(self._care.overdue_recheck_minutes)
        late = self._park(f"AwaitLate{name}", step, recheck, result_path, overdue)
        overdue.next(
            sfn.Choice(self, f"{name}Done?")
            .when(sfn.Condition.boolean_equals(f"{result_path}.done", True), then)
            .otherwise(late)
        )
        late.next(then)
        park.next(then)
        return park

    def _park(
        self,
        name: str,
        step: str,
        timeout: Duration | sfn.Timeout | None,
        result_path: str,
        on_timeout: sfn.IChainable | None = None,
    ) -> tasks.LambdaInvoke:
        if isinstance(timeout, Duration):
            timeout = sfn.Timeout.duration(timeout)
        return self._task(
            name,
            "park",
            {"waitFor": step, "taskToken": sfn.JsonPath.task_token},
            result_path=result_path,
            wait_for_token=True,
            timeout=timeout,
            on_timeout=on_timeout,
        )

    def _task(
        self,
        name: str,
        step: str,
        arguments: dict[str, Any],
        *,
        result_path: str = sfn.JsonPath.DISCARD,
        catch: bool = True,
        wait_for_token: bool = False,
        timeout: sfn.Timeout | None = None,
        on_timeout: sfn.IChainable | None = None,
    ) -> tasks.LambdaInvoke:
        payload = {"step": step, **RUN, **arguments}
        # A plain call returns the function's result as is; a parked one, the callback's output.
        pattern: dict[str, Any] = (
            {"integration_pattern": sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN}
            if wait_for_token
            else {"payload_response_only": True}
        )
        task = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=self._live,
            payload=sfn.TaskInput.from_object(payload),
            **pattern,
            retry_on_service_exceptions=False,
            result_path=result_path,
            task_timeout=timeout,
        )
        task.add_retry(
            errors=TRANSIENT,
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        if on_timeout is not None:  # before the catch-alls: the first matching catcher wins
            task.add_catch(on_timeout, errors=["States.Timeout"], result_path=sfn.JsonPath.DISCARD)
        if catch:
            self._on_failure(task, name)
        return task

    def _on_failure(self, state: tasks.LambdaInvoke | sfn.Map, name: str) -> None:
        state.add_catch(self._closed, errors=ENDED, result_path=sfn.JsonPath.DISCARD)
        # Only the error's name goes on: its cause may quote data.
        record = sfn.Pass(
            self,
            f"{name}Failed",
            parameters={**RUN, "failedStep": name, "error.$": "$.failure.Error"},
        )
        record.next(self._flag)
        state.add_catch(record, errors=["States.ALL"], result_path="$.failure")
