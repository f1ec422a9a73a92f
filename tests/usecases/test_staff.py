"""Staff management's rules on fakes: two practices share one user pool (as deployed); an
admin manages only their own practice's staff, grants only clinics they work at, never
raises their own role or widens their own clinics; each change is in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest
from clinic.composition import UseCases, use_cases
from clinic.domain.errors import Conflict, InvalidRequest, NotFound, NotPermitted, TemporarilyUnavailable, UsernameTaken
from clinic.domain.resources import ClinicProfile, TimeRange
from clinic.domain.rules import ClinicRules
from clinic.domain.tenancy import Reach
from clinic.usecases.kernel import Actor

from tests.support.fakes import InMemoryRecords, RecordingAccounts, RecordingEngine, RecordingMessages
from tests.usecases.conftest import NOW, WEEK, Clock

ANA = Actor(user_id="sub-ana", name="ana", groups=frozenset({"admin"}), reach=Reach("practice-a"))  # every clinic
NORA = Actor(user_id="sub-nora", name="nora", groups=frozenset({"admin"}), reach=Reach("practice-a", frozenset({"north"})))
BEA = Actor(user_id="sub-bea", name="bea", groups=frozenset({"admin"}), reach=Reach("practice-b"))


@dataclass
class Practices:
    a: UseCases
    b: UseCases
    records_a: InMemoryRecords
    accounts: RecordingAccounts
    clock: Clock

    def invite(self, actor: Actor = ANA, username: str = "robin", *, role: str = "front-desk", clinics: list[str] | None = None, invite_id: str = "i-1"):
        uses = self.b if actor is BEA else self.a
        return uses.staff.invite(
            actor, invite_id=invite_id, username=username, email=f"{username}@clinic.example", given_name="Robin",
            family_name="Desk", role=role, clinics=clinics,  # type: ignore[arg-type]
        )


@pytest.fixture
def practices() -> Practices:
    accounts, clock = RecordingAccounts(), Clock(NOW)
    hours = {day: [TimeRange(start=time(8), end=time(18))] for day in WEEK}
    made = []
    for organization, clinics in (("practice-a", ("north", "south")), ("practice-b", ("lakeside",))):
        records = InMemoryRecords()
        uses = use_cases(
            ClinicRules(), records, RecordingEngine(), RecordingMessages, lambda: accounts, organization_id=organization,
            patient_link_base_url="https://clinic.example/patient", clock=clock,
        )
        for clinic_id in clinics:
            uses.configuration.save_clinic_profile(
                ClinicProfile(clinic_id=clinic_id, name=clinic_id.title(), time_zone="America/New_York", opening_hours=hours)
            )
        made.append((uses, records))
    (a, records_a), (b, _) = made
    practices = Practices(a, b, records_a, accounts, clock)
    # Practice A's two admins are members too: the operator made the first, who invited the second.
    operator = Actor(user_id="operator", name="operator", groups=frozenset({"admin"}), reach=Reach("practice-a"))
    practices.invite(operator, "ana", role="admin", invite_id="i-ana")
    practices.invite(ANA, "nora", role="admin", clinics=["north"], invite_id="i-nora")
    return practices


def test_an_invite_makes_the_member_and_their_account_and_is_audited(practices: Practices) -> None:
    member = practices.invite(clinics=["north"])
    account = practices.accounts.accounts["robin"]
    assert (account.organization, account.role, account.clinics, account.enabled) == ("practice-a", "front-desk", ["north"], True)
    assert [m.username for m in practices.a.staff.staff(ANA)] == ["ana", "nora", "robin"]
    [entry] = practices.a.staff.audit(ANA, "robin")
    assert (entry.action, entry.actor_name, entry.before, entry.after.role, entry.after.clinics) == ("invited", "ana", None, "front-desk", ["north"])
    assert "Robin" not in entry.model_dump_json() and "@" not in entry.model_dump_json()  # no name, no email
    assert member.version == 1


def test_a_username_already_in_the_practice_or_in_the_pool_is_a_conflict_and_stores_nothing(practices: Practices) -> None:
    practices.invite()
    with pytest.raises(Conflict, match="already has this username"):
        practices.invite(invite_id="i-2")
    practices.invite(BEA, "sam")
    with pytest.raises(UsernameTaken):  # another practice's account: this practice keeps no record of the attempt
        practices.invite(username="sam", invite_id="i-3")
    assert practices.records_a.get_staff_member("sam") is None and practices.records_a.staff_audit("sam") == []
    assert practices.accounts.accounts["sam"].organization == "practice-b"


def test_an_invite_cut_short_is_finished_by_its_retry_and_a_failed_account_leaves_no_member(practices: Practices) -> None:
    practices.accounts.failing.add("create")
    with pytest.raises(TemporarilyUnavailable):
        practices.invite()
    assert practices.records_a.get_staff_member("robin") is None and "robin" not in practices.accounts.accounts
    practices.accounts.failing.add("set_access")  # the account is made, its group not yet
    with pytest.raises(TemporarilyUnavailable):
        practices.invite()
    practices.invite()  # the same invite again: the account is this invite's own
    assert practices.accounts.accounts["robin"].role == "front-desk"
    assert [e.action for e in practices.a.staff.audit(ANA, "robin")] == ["invited"]


def test_another_practices_member_is_not_found_for_every_action(practices: Practices) -> None:
    practices.invite()
    staff_b = practices.b.staff
    for attempt in (
        lambda: staff_b.change(BEA, "robin", role="admin", clinics=None),
        lambda: staff_b.disable(BEA, "robin"),
        lambda: staff_b.enable(BEA, "robin"),
        lambda: staff_b.audit(BEA, "robin"),
        lambda: staff_b.member(BEA, "robin"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert [m.username for m in staff_b.staff(BEA)] == []
    account = practices.accounts.accounts["robin"]
    assert (account.role, account.enabled) == ("front-desk", True)


def test_nobody_raises_their_own_role_or_widens_their_own_clinics_or_disables_themselves(practices: Practices) -> None:
    staff = practices.a.staff
    with pytest.raises(NotPermitted) as refused:
        staff.change(ANA, "ana", role="clinician", clinics=None)
    assert refused.value.field == "role"
    with pytest.raises(NotPermitted, match="only clinics you work at"):
        staff.change(NORA, "nora", role="admin", clinics=["north", "south"])
    # Even with a token that reaches more than her record (the API refuses such a token first).
    stale = Actor(user_id="sub-nora", name="nora", groups=frozenset({"admin"}), reach=Reach("practice-a"))
    with pytest.raises(NotPermitted, match="add clinics to your own account") as refused:
        staff.change(stale, "nora", role="admin", clinics=["north", "south"])
    assert refused.value.field == "clinics"
    with pytest.raises(NotPermitted, match="disable or enable your own"):
        staff.disable(ANA, "ana")
    narrowed = staff.change(ANA, "ana", role="admin", clinics=["north"])  # giving up clinics is allowed
    assert narrowed.clinics == ["north"] and practices.accounts.accounts["ana"].sessions_ended == 1


def test_an_admin_of_some_clinics_grants_only_those_and_manages_only_members_within_them(practices: Practices) -> None:
    staff = practices.a.staff
    for clinics in (["south"], ["north", "south"], None):
        with pytest.raises(NotPermitted, match="only clinics you work at") as refused:
            practices.invite(NORA, clinics=clinics, invite_id=f"i-{clinics}")
        assert refused.value.field == "clinics"
    practices.invite(NORA, clinics=["north"])
    with pytest.raises(NotPermitted, match="clinics outside yours"):
        staff.change(NORA, "ana", role="admin", clinics=["north"])  # cannot narrow an admin of every clinic
    with pytest.raises(NotPermitted, match="clinics outside yours"):
        staff.disable(NORA, "ana")
    assert staff.change(NORA, "robin", role="clinician", clinics=["north"]).role == "clinician"


def test_an_admin_of_some_clinics_sees_only_members_who_work_at_one_of_them(practices: Practices) -> None:
    practices.invite(ANA, "sol", clinics=["south"], invite_id="i-sol")
    practices.invite(ANA, "bobby", clinics=["north", "south"], invite_id="i-bobby")
    staff = practices.a.staff
    assert [m.username for m in staff.staff(NORA)] == ["ana", "bobby", "nora"]  # ana works at every clinic
    assert [m.username for m in staff.staff(ANA)] == ["ana", "bobby", "nora", "sol"]
    for attempt in (
        lambda: staff.audit(NORA, "sol"),
        lambda: staff.member(NORA, "sol"),
        lambda: staff.disable(NORA, "sol"),
        lambda: staff.change(NORA, "sol", role="front-desk", clinics=["north"]),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert [e.action for e in staff.audit(NORA, "bobby")] == ["invited"]
    assert staff.member(ANA, "sol").status == "active"


def test_clinics_granted_must_be_the_practices_own(practices: Practices) -> None:
    with pytest.raises(InvalidRequest) as refused:
        practices.invite(clinics=["north", "lakeside"])  # practice B's clinic
    assert refused.value.problems == [("clinics", "each must be a clinic of your practice")]
    assert practices.records_a.get_staff_member("robin") is None


def test_narrowing_and_disabling_end_the_members_sessions_widening_does_not_and_all_are_audited(practices: Practices) -> None:
    staff = practices.a.staff
    practices.invite(clinics=["north"])
    account = practices.accounts.accounts["robin"]
    staff.change(ANA, "robin", role="front-desk", clinics=["north", "south"])  # widening: the next token carries it
    assert (account.clinics, account.sessions_ended) == (["north", "south"], 0)
    staff.change(ANA, "robin", role="clinician", clinics=["north", "south"])  # another role: sessions end
    assert (account.role, account.sessions_ended) == ("clinician", 1)
    staff.disable(ANA, "robin")
    assert (account.enabled, account.sessions_ended) == (False, 2)
    assert staff.disable(ANA, "robin").version == 4  # repeated: nothing new in the record or the audit
    assert account.sessions_ended == 3  # the repeat may finish a first attempt cut short before the sign-out
    staff.enable(ANA, "robin")
    assert account.enabled
    entries = staff.audit(ANA, "robin")
    assert [(e.action, e.version, e.actor_name) for e in entries] == [
        ("invited", 1, "ana"), ("access-changed", 2, "ana"), ("access-changed", 3, "ana"), ("disabled", 4, "ana"), ("enabled", 5, "ana"),
    ]
    assert (entries[2].before.role, entries[2].after.role) == ("front-desk", "clinician")  # type: ignore[union-attr]
    assert (entries[3].before.status, entries[3].after.status) == ("active", "disabled")  # type: ignore[union-attr]


def test_a_narrowing_cut_short_before_the_sign_out_signs_out_when_repeated(practices: Practices) -> None:
    practices.invite(clinics=["north", "south"])
    account = practices.accounts.accounts["robin"]
    practices.accounts.failing.add("sign_out")
    with pytest.raises(TemporarilyUnavailable):
        practices.a.staff.change(ANA, "robin", role="front-desk", clinics=["north"])
    assert account.sessions_ended == 0 and practices.records_a.get_staff_member("robin").clinics == ["north"]  # type: ignore[union-attr]
    practices.a.staff.change(ANA, "robin", role="front-desk", clinics=["north"])
    assert account.sessions_ended == 1


def test_a_record_naming_another_practice_s_account_changes_nothing_of_it(practices: Practices) -> None:
    """Practice B's invite of a username A has, caught between saving its record and finding
    the account taken: B's admin acting on that record in the meantime reaches nothing."""
    practices.invite(clinics=["north"])
    records_b = practices.b.staff.records
    member = practices.a.staff.member(ANA, "robin").model_copy(update={"clinics": None, "invite_id": "b-invite"})
    entry = practices.a.staff.audit(ANA, "robin")[0]
    records_b.save_staff_member(None, member, entry)
    for attempt in (
        lambda: practices.b.staff.change(BEA, "robin", role="admin", clinics=None),
        lambda: practices.b.staff.disable(BEA, "robin"),
    ):
        with pytest.raises(NotFound):
            attempt()
    account = practices.accounts.accounts["robin"]
    assert (account.organization, account.role, account.clinics, account.enabled, account.sessions_ended) == (
        "practice-a", "front-desk", ["north"], True, 0
    )
    assert records_b.staff_audit("robin") == [entry]  # nothing written in B either


def test_a_token_asking_for_more_than_the_record_now_grants_is_refused(practices: Practices) -> None:
    practices.invite(clinics=["north", "south"])
    staff = practices.a.staff
    desk, north = frozenset({"front-desk"}), Reach("practice-a", frozenset({"north"}))
    both = Reach("practice-a", frozenset({"north", "south"}))
    assert staff.standing("robin").grants(desk, both)  # type: ignore[union-attr]
    staff.change(ANA, "robin", role="front-desk", clinics=["north"])
    member = staff.standing("robin")
    assert member is not None and not member.grants(desk, both) and member.grants(desk, north)
    staff.change(ANA, "robin", role="clinician", clinics=["north"])
    member = staff.standing("robin")
    assert member is not None and not member.grants(desk, north) and member.grants(frozenset({"clinician"}), north)
    staff.disable(ANA, "robin")
    assert not staff.standing("robin").grants(frozenset({"clinician"}), north)  # type: ignore[union-attr]
    assert staff.standing("nobody") is None  # an account made outside staff management: Cognito alone decides
