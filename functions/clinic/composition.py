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
from .usecases.ports import Messages, Records, WorkflowEngine
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
    repository: Records,
    engine: WorkflowEngine,
    messages: Callable[[], Messages],
    *,
    patient_link_base_url: str,
    config_cache_seconds: float = 0,
    clock: Clock = system_clock,
) -> UseCases:
    """Wires every use case to its ports. `repository` is every record port at once (the
    DynamoDB adapter, or the tests' in-memory fakes); `messages` is made on first use."""
    configuration = ClinicConfiguration(repository, config_cache_seconds)
    shared = {"rules": rules, "clinic": configuration.clinic, "clock": clock}
    store = AppointmentStore(records=repository, clock=clock)
    runs = WorkflowRuns(engine=engine, store=store, rules=rules)
    status = StatusChanges(store=store, runs=runs, clinic=configuration.clinic, rules=rules)
    messaging = {"messages": messages, "patient_link_base_url": patient_link_base_url.rstrip("/")}
    waitlist = Waitlist(**shared, records=repository, patients=repository, store=store, runs=runs, links=repository, **messaging)
    bookings = Bookings(
        **shared, patients=repository, store=store, runs=runs, status=status, offer_freed_time=waitlist.offer_freed
    )
    follow_ups = FollowUps(
        **shared, records=repository, patients=repository, store=store, session_records=repository, links=repository,
        log=repository, engine=engine, **messaging,
    )
    return UseCases(
        rules=rules,
        configuration=configuration,
        appointments=store,
        front_desk=FrontDesk(**shared, patients=repository, store=store, status=status),
        bookings=bookings,
        session=ClinicianSession(**shared, records=repository, store=store, runs=runs),
        reminder_links=ReminderLinks(links=repository, store=store, clock=clock),
        courses=Courses(
            **shared, records=repository, patients=repository, store=store, runs=runs, cancel_session=bookings.cancel
        ),
        waitlist=waitlist,
        follow_ups=follow_ups,
        care_workflow=CareWorkflow(
            **shared, patients=repository, store=store, runs=runs, status=status, session_records=repository,
            links=repository, log=repository, follow_ups=follow_ups, **messaging,
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
