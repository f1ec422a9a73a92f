"""The care workflow's executions in AWS Step Functions."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..domain.errors import TemporarilyUnavailable

# The execution already ended or the token was used: the callback has nothing left to do.
_CALLBACK_SETTLED = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


class StepFunctionsEngine:
    def __init__(self, client: Any, state_machine_arn: str, organization_id: str):
        self.client = client
        self.state_machine_arn = state_machine_arn
        self.organization_id = organization_id  # every step's input carries it, to bind its records
        # Executions live under the machine's ARN: ...:stateMachine:{name} -> ...:execution:{name}:{execution}
        self._execution_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1)

    def start(self, name: str, payload: dict[str, Any]) -> None:
        try:
            self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=json.dumps({**payload, "organizationId": self.organization_id}))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":  # a retried start
                raise TemporarilyUnavailable("the care workflow could not be started") from error

    def stop(self, name: str) -> None:
        try:
            self.client.stop_execution(executionArn=f"{self._execution_prefix}:{name}", cause="appointment changed")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise TemporarilyUnavailable("the care workflow could not be stopped") from error

    def resume(self, token: str, output: dict[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as error:
            if error.response["Error"]["Code"] not in _CALLBACK_SETTLED:
                raise TemporarilyUnavailable("the care workflow could not be resumed") from error
