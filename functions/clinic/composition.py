"""The one composition root: both Lambda handlers (api/app.py, workflow/handler.py) and the
local demo seed build their use cases here, from the settings and one boto3 session."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from collections.abc import Callable
from typing import Any

from .adapters.dynamodb import DynamoRepository
from .adapters.notifications import Notifier
from .adapters.stepfunctions import StepFunctionsEngine
from .domain.rules import ClinicRules
from .settings import ServiceSettings
from .usecases.appointments import AppointmentStore, StatusChanges, WorkflowRuns
from .usecases.booking import Bookings
from .usecases.care_workflow import CareWorkflow
from .usecases.configuration import ClinicConfiguration
from .usecases.courses import Courses
from .usecases.follow_ups import FollowUps
from .usecases.front_desk import FrontDesk
from .usecases.kernel import Clock, system_clock
from .usecases.patient_links import ReminderLinks
from .usecases.ports import Messages, WorkflowEngine
from .usecases.session import ClinicianSession
from .usecases.waitlist import Waitlist


@dataclass(frozen=True)
class UseCases:
    rules: ClinicRules
    configuration: ClinicConfiguration
    appointments: AppointmentStore
    front_desk: FrontDesk
    bookings: Bookings
    session: ClinicianSession
    reminder_links: ReminderLinks
    courses: Courses
    waitlist: Waitlist
    follow_ups: FollowUps
    care_workflow: CareWorkflow


def use_cases(
    rules: ClinicRules,
    repository: Any,
    engine: WorkflowEngine,
    messages: Callable[[], Messages],
    *,
    patient_link_base_url: str,
    config_cache_seconds: float = 0,
    clock: Clock = system_clock,
) -> UseCases:
    """Wires every use case to its ports. `repository` implements every record port (the
    DynamoDB adapter, or the tests' in-memory fakes); `messages` is made on first use."""
    configuration = ClinicConfiguration(repository, config_cache_seconds)
    clinic = configuration.clinic
    store = AppointmentStore(repository, clock)
    runs = WorkflowRuns(engine, store, rules)
    status = StatusChanges(store, runs, clinic, rules)
    waitlist = Waitlist(rules, clinic, repository, repository, store, runs, repository, messages, patient_link_base_url, clock)
    bookings = Bookings(rules, clinic, repository, store, runs, status, waitlist.offer_freed, clock)
    follow_ups = FollowUps(
        rules, clinic, repository, repository, store, repository, repository, repository, engine, messages, patient_link_base_url, clock
    )
    return UseCases(
        rules=rules,
        configuration=configuration,
        appointments=store,
        front_desk=FrontDesk(rules, clinic, repository, store, status, clock),
        bookings=bookings,
        session=ClinicianSession(rules, clinic, repository, store, runs, clock),
        reminder_links=ReminderLinks(repository, store, clock),
        courses=Courses(rules, clinic, repository, repository, store, runs, bookings.cancel, clock),
        waitlist=waitlist,
        follow_ups=follow_ups,
        care_workflow=CareWorkflow(
            rules, clinic, repository, store, runs, status, repository, repository, repository, follow_ups, messages,
            patient_link_base_url, clock,
        ),
    )


def from_settings(config: ServiceSettings, session: Any) -> UseCases:
    """The deployed wiring: DynamoDB, Step Functions, SNS and SES through `session`."""
    repository = DynamoRepository(session.resource("dynamodb").Table(config.table_name))
    engine = StepFunctionsEngine(session.client("stepfunctions"), config.state_machine_arn)

    @cache
    def messages() -> Notifier:
        return Notifier(session.client("sns"), session.client("ses"), config.clinician_topic_arn, config.email_sender)

    return use_cases(
        config.clinic_rules,
        repository,
        engine,
        messages,
        patient_link_base_url=config.patient_link_base_url,
        config_cache_seconds=config.config_cache_seconds,
    )
