"""The one composition root: both Lambda handlers (api/app.py, workflow/handler.py) and the
local demo seed build their use cases here, from the settings and one boto3 session.

Use cases are bound to one organization (and, for staff, their clinics): the adapters they
get scope every key to it, so no use case can load another practice's record by id."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from collections.abc import Callable
from typing import Any

from .adapters.cognito import CognitoAccounts
from .adapters.dynamodb import ClinicCache, DynamoRepository
from .adapters.notifications import Notifier
from .adapters.stepfunctions import StepFunctionsEngine
from .domain.rules import ClinicRules
from .domain.tenancy import Reach
from .settings import ServiceSettings
from .usecases.access_log import AccessLog
from .usecases.appointments import AppointmentStore, StatusChanges, WorkflowRuns
from .usecases.booking import Bookings
from .usecases.care_workflow import CareWorkflow
from .usecases.configuration import ClinicConfiguration
from .usecases.courses import Courses
from .usecases.follow_ups import FollowUps
from .usecases.front_desk import FrontDesk
from .usecases.kernel import Clock, system_clock
from .usecases.patient_links import ReminderLinks
from .usecases.ports import Messages, Records, StaffAccounts, WorkflowEngine
from .usecases.session import ClinicianSession
from .usecases.staff import StaffManagement
from .usecases.waitlist import Waitlist


@dataclass(frozen=True)
class UseCases:
    rules: ClinicRules
    access_log: AccessLog
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
    staff: StaffManagement


def use_cases(
    rules: ClinicRules,
    repository: Records,
    engine: WorkflowEngine,
    messages: Callable[[], Messages],
    accounts: Callable[[], StaffAccounts],
    *,
    organization_id: str,
    patient_link_base_url: str,
    clock: Clock = system_clock,
) -> UseCases:
    """Wires every use case to its ports. `repository` is every record port at once (the
    DynamoDB adapter, or the tests' in-memory fakes), bound to `organization_id` like
    `engine`; `messages` and `accounts` (staff sign-in accounts) are made on first use."""
    configuration = ClinicConfiguration(repository)
    shared = {"rules": rules, "clinic": configuration.clinic, "clock": clock}
    store = AppointmentStore(records=repository, clock=clock)
    runs = WorkflowRuns(engine=engine, store=store, rules=rules)
    status = StatusChanges(store=store, runs=runs, clinic=configuration.clinic, rules=rules)
    messaging = {
        "messages": messages, "patient_link_base_url": patient_link_base_url.rstrip("/"), "organization_id": organization_id
    }
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
        access_log=AccessLog(repository, clock),
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
        staff=StaffManagement(repository, accounts, configuration.clinic, clock, organization_id),
    )


class Wiring:
    """The deployed adapters' shared parts (clients, the clinic cache), made once per
    execution environment; `for_reach` binds a set of use cases to one caller's reach."""

    def __init__(self, config: ServiceSettings, session: Any):
        self.config = config
        self.table = session.resource("dynamodb").Table(config.table_name)
        self.stepfunctions = session.client("stepfunctions")
        self.clinic_cache = ClinicCache(config.config_cache_seconds)

        @cache
        def messages() -> Notifier:
            return Notifier(session.client("sns"), session.client("ses"), config.email_sender)

        self.messages = messages

        @cache
        def accounts() -> CognitoAccounts:
            return CognitoAccounts(session.client("cognito-idp"), config.user_pool_id)

        self.accounts = accounts

    def for_reach(self, reach: Reach) -> UseCases:
        config = self.config
        return use_cases(
            config.clinic_rules,
            DynamoRepository(self.table, reach, self.clinic_cache),
            StepFunctionsEngine(self.stepfunctions, config.state_machine_arn, reach.organization_id),
            self.messages,
            self.accounts,
            organization_id=reach.organization_id,
            patient_link_base_url=config.patient_link_base_url,
        )


def operator_staff(session: Any, table_name: str, user_pool_id: str, organization_id: str) -> StaffManagement:
    """Staff management for the operator's first-admin command (infra/first_admin.py): one
    organization's records and the stack's user pool, nothing of the care workflow."""
    repository = DynamoRepository(session.resource("dynamodb").Table(table_name), Reach(organization_id))
    accounts = CognitoAccounts(session.client("cognito-idp"), user_pool_id)
    return StaffManagement(repository, lambda: accounts, ClinicConfiguration(repository).clinic, system_clock, organization_id)
