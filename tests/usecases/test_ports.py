"""The ports are real: the DynamoDB adapter and the in-memory fake each implement every
record port, method for method, with the same parameters."""

from __future__ import annotations

import inspect

import pytest
from clinic.adapters.cognito import CognitoAccounts
from clinic.adapters.dynamodb import DynamoRepository
from clinic.adapters.notifications import Notifier
from clinic.adapters.stepfunctions import StepFunctionsEngine
from clinic.usecases import ports

from tests.support.fakes import InMemoryRecords, RecordingAccounts, RecordingEngine, RecordingMessages

RECORD_PORTS = [
    ports.ClinicRecords, ports.PatientRecords, ports.AppointmentRecords, ports.SessionRecords, ports.LinkRecords,
    ports.MessageLog, ports.CourseRecords, ports.WaitlistRecords, ports.FollowUpRecords, ports.AccessRecords,
    ports.StaffRecords, ports.Records,
]
IMPLEMENTATIONS = [
    *((port, implementation) for port in RECORD_PORTS for implementation in (DynamoRepository, InMemoryRecords)),
    (ports.WorkflowEngine, StepFunctionsEngine), (ports.WorkflowEngine, RecordingEngine),
    (ports.PatientMessages, Notifier), (ports.PatientMessages, RecordingMessages),
    (ports.Messages, Notifier), (ports.Messages, RecordingMessages),
    (ports.StaffAccounts, CognitoAccounts), (ports.StaffAccounts, RecordingAccounts),
]


def _methods(port: type) -> list[str]:
    return [name for name, value in vars(port).items() if inspect.isfunction(value) and not name.startswith("_")] + [
        name for base in port.__bases__ if base.__module__ == ports.__name__ for name in _methods(base)
    ]


def test_every_port_is_in_the_list_above() -> None:
    declared = {value for value in vars(ports).values() if inspect.isclass(value) and value.__module__ == ports.__name__}
    assert declared == {port for port, _ in IMPLEMENTATIONS}


@pytest.mark.parametrize(("port", "implementation"), IMPLEMENTATIONS, ids=lambda v: v.__name__)
def test_the_implementation_has_every_method_of_the_port_with_its_parameters(port: type, implementation: type) -> None:
    assert _methods(port)
    for name in _methods(port):
        method = getattr(implementation, name, None)
        assert method is not None, f"{implementation.__name__} lacks {name}"
        wanted = list(inspect.signature(getattr(port, name)).parameters)
        assert list(inspect.signature(method).parameters) == wanted, f"{implementation.__name__}.{name}"
