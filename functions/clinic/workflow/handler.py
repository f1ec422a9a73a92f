"""Lambda entry point of the care workflow's tasks: `event["step"]` names the step, the
rest are its arguments (ids and numbers only), among them the organization the run belongs
to, which binds the step's records. Errors propagate: their class name is the
error the state machine retries (TemporarilyUnavailable) or catches (AppointmentClosed,
Superseded, anything else → needs attention)."""

from __future__ import annotations

import os
import traceback
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from botocore.exceptions import ClientError

from ..adapters.dynamodb import is_throttled
from ..composition import Wiring
from ..domain.errors import DomainError, TemporarilyUnavailable
from ..domain.escalations import LEVELS
from ..domain.tenancy import Reach
from ..environments import Environments
from ..settings import settings
from ..usecases.care_workflow import CareWorkflow

logger = Logger(service="care-workflow")


def _build() -> Wiring:
    # A session of its own: boto3's default session is not safe to share while threads create clients.
    return Wiring(settings(), boto3.session.Session())


ENVIRONMENTS = Environments(_build)


def _dispatch(workflow: CareWorkflow, event: dict[str, Any]) -> dict[str, Any]:
    appointment_id, run = event["appointmentId"], int(event["run"])
    match event["step"]:
        case "remind":
            return workflow.remind(appointment_id, run, int(event["hoursBefore"]))
        case "park":
            return workflow.park(appointment_id, run, event["waitFor"], event["taskToken"])
        case "missed-check-in":
            return workflow.missed_check_in(appointment_id, run)
        case "observation-check":
            return workflow.observation_check(appointment_id, run)
        case "overdue":
            return workflow.overdue(appointment_id, run, event["waitFor"])
        case "await-follow-up":
            return workflow.await_follow_up(
                appointment_id, run, int(event["number"]), int(event["hoursAfter"]), list(event["instruments"]), event["taskToken"]
            )
        case "follow-up-check":
            return workflow.follow_up_check(appointment_id, run, int(event["number"]))
        case "escalate":
            return workflow.escalate(appointment_id, run, int(event["number"]), event["taskToken"])
        case "hand-off-escalation":
            return workflow.hand_off_escalation(appointment_id, run, int(event["number"]))
        case "follow-up-task":
            return workflow.follow_up_task(appointment_id, run, int(event["number"]))
        case "rems-form-check":
            return workflow.rems_form_check(appointment_id, run)
        case "reminder-failed":
            return workflow.reminder_failed(appointment_id, run, event["error"])
        case "needs-attention":
            return workflow.needs_attention(appointment_id, run, event["failedStep"], event["error"])
    raise ValueError(f"unknown workflow step {event['step']!r}")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(step=event.get("step"), appointment_id=event.get("appointmentId"), run=event.get("run"))
    try:
        with ENVIRONMENTS.use() as wiring:
            workflow = wiring.for_reach(Reach(event["organizationId"])).care_workflow
            result = _dispatch(workflow, event)
    except DomainError:
        raise  # its message names ids and rules only
    except ClientError as error:
        if is_throttled(error):  # DynamoDB refused it for load: Step Functions retries
            raise TemporarilyUnavailable("the database is busy; retry shortly") from None
        _log_failure(error)
        raise _renamed(error) from None
    except Exception as error:  # noqa: BLE001 - re-raised under the same name, without its message
        _log_failure(error)
        raise _renamed(error) from None
    logger.info("workflow step done", extra={"result": result})
    if event.get("step") == "escalate" and result.get("attempt", 0) >= len(LEVELS):
        _unacknowledged_past_the_chain()
    if event.get("step") == "hand-off-escalation" and result.get("handedOff"):
        _count("EscalationHandedOff")  # the operator's alarm: paging stopped with nobody reached
    if event.get("step") == "rems-form-check" and result.get("overdue"):
        _rems_form_overdue()
    return result


def _log_failure(error: Exception) -> None:
    # Step Functions matches the error's name; its message may quote data, so it stays out
    # of the execution history, and the log gets where it happened only (no source text).
    frames = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(error.__traceback__)[-5:]]
    logger.error("workflow step failed", extra={"error_type": type(error).__name__, "frames": frames})


def _renamed(error: Exception) -> Exception:
    return type(type(error).__name__, (Exception,), {})("the step failed; see the function's log")


def _unacknowledged_past_the_chain() -> None:
    """The whole chain was paged and nobody acknowledged: the operator's alarm watches this."""
    _count("EscalationUnacknowledged")


def _rems_form_overdue() -> None:
    """A REMS Patient Monitoring Form passed its deadline unfiled: the operator's alarm watches this."""
    _count("RemsFormOverdue")


def _count(metric: str) -> None:
    # By stage too: the alarms of two stages in one account must not see each other's counts.
    metrics = EphemeralMetrics(namespace="KetamineClinic", service="care-workflow")
    metrics.add_dimension(name="stage", value=os.environ.get("STAGE", "local"))
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
