"""The session's clinical rules and the workflow's view of an appointment, without AWS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from clinic.domain.appointments import (
    Action,
    Appointment,
    Status,
    Workflow,
    attention_after,
    attention_after_vitals,
    attention_raised,
    next_status,
    phase_of,
    raise_attention,
)
from clinic.domain.care import (
    Attention,
    AttentionKind,
    BloodPressure,
    Checklist,
    Discharge,
    Dose,
    Vitals,
    assemble_rems_form,
    check_discharge,
    check_dose,
    due_soon,
    follow_up_times,
    released_after_discharge,
    reminder_times,
)
from clinic.domain.errors import IllegalTransition, InvalidRequest
from clinic.domain.rules import BloodPressureLimit, CareRules, ClinicRules
from clinic.domain.workflow import AppointmentClosed, Step, Superseded, callback_output, execution_input, open_for_run

from tests.support.appointments import START, appointment

RULES = ClinicRules()
SPRAVATO = RULES.session_types["spravato"]
IV = RULES.session_types["iv-ketamine"]
LIMIT = BloodPressureLimit()
ZONE = ZoneInfo("America/New_York")
FIRST_DEVICE = START + timedelta(minutes=5)
COMPLETE = Checklist(
    vitals_acceptable=True, sedation_resolved=True, dissociation_resolved=True, breathing_normal=True, ride_present=True
)


def dose(started_at: datetime = FIRST_DEVICE, pressure: tuple[int, int] = (128, 82), recorded_at: datetime | None = None) -> Dose:
    return Dose(
        pre_dose_blood_pressure=BloodPressure(systolic=pressure[0], diastolic=pressure[1]),
        started_at=started_at,
        dose_mg=56,
        device_count=2,
        lot_number="LOT-1",
        recorded_by="nurse",
        recorded_at=recorded_at or started_at,
    )


def dose_problems(**overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "session_type": SPRAVATO,
        "checked_in_at": START - timedelta(minutes=10),
        "pre_dose": BloodPressure(systolic=128, diastolic=82),
        "started_at": FIRST_DEVICE,
        "dose_mg": 56,
        "device_count": 2,
        "lot_number": "LOT-1",
        "prescriber_ids": {"dr-b"},
        "override_prescriber": None,
        "limit": LIMIT,
        "now": FIRST_DEVICE + timedelta(minutes=1),
    }
    arguments.update(overrides)
    try:
        check_dose(**arguments)  # type: ignore[arg-type]
    except InvalidRequest as refused:
        return [field for field, _ in refused.problems]
    return []


# --- dosing ------------------------------------------------------------------------------
def test_a_dose_within_the_rules_is_accepted() -> None:
    assert dose_problems() == []


@pytest.mark.parametrize(
    ("pressure", "needs_override"),
    [((140, 90), False), ((141, 80), True), ((130, 91), True), ((165, 100), True)],
)
def test_a_pre_dose_pressure_above_140_over_90_needs_a_prescriber_override(pressure: tuple[int, int], needs_override: bool) -> None:
    high = BloodPressure(systolic=pressure[0], diastolic=pressure[1])
    assert dose_problems(pre_dose=high) == (["override"] if needs_override else [])
    assert dose_problems(pre_dose=high, override_prescriber="dr-b") == []


def test_only_a_prescriber_of_the_clinic_can_override() -> None:
    high = BloodPressure(systolic=150, diastolic=95)
    assert dose_problems(pre_dose=high, override_prescriber="nurse-a") == ["override.prescriberId"]


def test_the_guide_comes_from_configuration() -> None:
    stricter = BloodPressureLimit(systolic=130, diastolic=85)
    assert dose_problems(pre_dose=BloodPressure(systolic=135, diastolic=80), limit=stricter) == ["override"]


def test_spravato_needs_a_lot_number_and_iv_does_not() -> None:
    assert dose_problems(lot_number=None) == ["lotNumber"]
    assert dose_problems(lot_number=None, session_type=IV) == []


def test_spravato_doses_are_whole_devices_of_28_mg() -> None:
    assert dose_problems(dose_mg=84, device_count=3) == []
    assert dose_problems(dose_mg=1000, device_count=2) == ["doseMg"]
    assert dose_problems(device_count=None) == ["deviceCount"]
    assert dose_problems(device_count=4, dose_mg=112) == ["deviceCount"]
    assert dose_problems(session_type=IV, dose_mg=35.5, device_count=None, lot_number=None) == []


def test_a_dose_cannot_start_in_the_future_or_before_check_in() -> None:
    now = FIRST_DEVICE
    assert dose_problems(started_at=now + timedelta(minutes=10), now=now) == ["startedAt"]
    assert dose_problems(started_at=START - timedelta(hours=1), now=now) == ["startedAt"]


def test_a_tablet_clock_up_to_5_minutes_ahead_is_accepted_and_further_is_refused() -> None:
    now = FIRST_DEVICE
    assert dose_problems(started_at=now + timedelta(minutes=5), now=now) == []
    assert dose_problems(started_at=now + timedelta(minutes=5, seconds=1), now=now) == ["startedAt"]


def test_every_problem_is_named_at_once() -> None:
    high = BloodPressure(systolic=150, diastolic=95)
    assert dose_problems(pre_dose=high, lot_number=None) == ["lotNumber", "override"]


# --- observation and discharge -------------------------------------------------------------
def test_spravato_discharge_is_refused_at_119_minutes_and_allowed_at_120_from_the_first_device() -> None:
    with pytest.raises(IllegalTransition, match="allowed from 11:05 \\(America/New_York\\)"):
        check_discharge(dose(), SPRAVATO, COMPLETE, FIRST_DEVICE + timedelta(minutes=119), ZONE)
    check_discharge(dose(), SPRAVATO, COMPLETE, FIRST_DEVICE + timedelta(minutes=120), ZONE)


def test_a_dose_entered_ten_minutes_late_counts_from_when_it_started_not_when_it_was_entered() -> None:
    late = dose(recorded_at=FIRST_DEVICE + timedelta(minutes=10))
    with pytest.raises(IllegalTransition, match="allowed from 11:05 "):
        check_discharge(late, SPRAVATO, COMPLETE, datetime(2026, 12, 7, 16, 4, tzinfo=UTC), ZONE)
    check_discharge(late, SPRAVATO, COMPLETE, datetime(2026, 12, 7, 16, 5, tzinfo=UTC), ZONE)
    observing = phase_of(appointment(status=Status.ARRIVED, checked_in_at=START, dose=late), SPRAVATO)
    assert observing.since == datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    assert observing.discharge_allowed_at == datetime(2026, 12, 7, 16, 5, tzinfo=UTC)
    assert observing.blood_pressure_due_at == datetime(2026, 12, 7, 14, 45, tzinfo=UTC)


def test_iv_observation_starts_when_the_infusion_ends() -> None:
    # 40 min of infusion, then 60 min of recovery: 100 min from the infusion's start.
    with pytest.raises(IllegalTransition):
        check_discharge(dose(), IV, COMPLETE, FIRST_DEVICE + timedelta(minutes=99), ZONE)
    check_discharge(dose(), IV, COMPLETE, FIRST_DEVICE + timedelta(minutes=100), ZONE)


def test_an_incomplete_checklist_names_every_unchecked_item() -> None:
    partial = COMPLETE.model_copy(update={"ride_present": False, "sedation_resolved": False, "breathing_normal": False})
    with pytest.raises(InvalidRequest) as refused:
        check_discharge(dose(), SPRAVATO, partial, FIRST_DEVICE + timedelta(hours=3), ZONE)
    assert [field for field, _ in refused.value.problems] == [
        "checklist.sedationResolved",
        "checklist.breathingNormal",
        "checklist.ridePresent",
    ]


def test_discharge_needs_a_recorded_dose() -> None:
    with pytest.raises(IllegalTransition, match="before the dose"):
        check_discharge(None, SPRAVATO, COMPLETE, FIRST_DEVICE + timedelta(hours=3), ZONE)


def test_discharge_frees_the_chair_after_turnover() -> None:
    grains = [START + timedelta(minutes=15 * n) for n in range(10)]
    discharged = START + timedelta(minutes=100)  # 15:40 UTC; turnover 15 min -> free from 15:55
    assert released_after_discharge(grains, discharged, SPRAVATO) == [START + timedelta(minutes=15 * n) for n in (8, 9)]


def test_a_dosed_appointment_cannot_be_cancelled() -> None:
    arrived = appointment(status=Status.ARRIVED, dose=dose())
    with pytest.raises(IllegalTransition, match="after dosing"):
        next_status(arrived, Action.CANCEL, FIRST_DEVICE, "2026-12-07")


def test_rems_form_takes_the_three_pressures_and_the_worst_observations() -> None:
    readings = [
        Vitals(vitals_id="v0", taken_at=FIRST_DEVICE - timedelta(minutes=10), blood_pressure=BloodPressure(systolic=138, diastolic=88), moaas=5, spo2=88, recorded_by="n"),
        Vitals(vitals_id="v1", taken_at=FIRST_DEVICE + timedelta(minutes=38), blood_pressure=BloodPressure(systolic=150, diastolic=92), moaas=4, recorded_by="n"),
        Vitals(vitals_id="v2", taken_at=FIRST_DEVICE + timedelta(minutes=60), spo2=93, dissociation=12, respiratory_rate=11, recorded_by="n"),
        Vitals(vitals_id="v3", taken_at=FIRST_DEVICE + timedelta(minutes=115), blood_pressure=BloodPressure(systolic=126, diastolic=80), moaas=5, recorded_by="n"),
    ]
    discharged = Discharge(
        at=FIRST_DEVICE + timedelta(minutes=125), by="nurse", checklist=COMPLETE, ready_at=FIRST_DEVICE + timedelta(minutes=95)
    )
    form = assemble_rems_form(
        appointment_id="a1",
        clinic_id="north",
        patient_id="p1",
        session_date=date(2026, 12, 7),
        session_type=SPRAVATO,
        dose=dose(),
        discharge=discharged,
        vitals=readings,
        care=CareRules(),
        clinician_name="Nurse A",
    )
    assert form.due_date == date(2026, 12, 14)
    assert (form.minutes_monitored, form.minutes_until_ready) == (125, 95)
    # The reading before the dose is not the post-dose one, nor counted in the session's worst values.
    assert (form.post_dose_blood_pressure.systolic, form.pre_discharge_blood_pressure.systolic) == (150, 126)
    assert (form.lowest_moaas, form.highest_dissociation, form.lowest_spo2, form.lowest_respiratory_rate) == (4, 12, 93, 11)
    assert form.breathing_normal_at_discharge
    assert form.vitals_acceptable_before_dosing and form.vitals_acceptable_before_leaving
    assert form.lot_number == "LOT-1" and form.concomitant_sedating_medicines is None


# --- schedules -----------------------------------------------------------------------------
def test_reminders_still_ahead_are_scheduled_and_passed_ones_skipped() -> None:
    care = CareRules()
    assert reminder_times(START, care, START - timedelta(days=5)) == [
        (START - timedelta(hours=48), 48),
        (START - timedelta(hours=24), 24),
    ]
    assert reminder_times(START, care, START - timedelta(hours=30)) == [(START - timedelta(hours=24), 24)]
    assert reminder_times(START, care, START - timedelta(hours=2)) == []


def test_follow_ups_follow_discharge_at_the_configured_offsets() -> None:
    plan = {24: ["phq-9"], 72: ["gad-7"], 168: ["phq-9", "gad-7"]}
    care = CareRules(follow_up_hours_after_discharge=[168, 24, 72], follow_up_instruments=plan)
    discharged = START + timedelta(hours=2)
    assert [hours for _, hours in follow_up_times(discharged, care)] == [24, 72, 168]
    assert follow_up_times(discharged, care)[0][0] == discharged + timedelta(hours=24)


def test_phase_shows_observation_and_when_discharge_is_allowed() -> None:
    assert phase_of(appointment(), SPRAVATO).name == "awaiting-check-in"
    arrived = appointment(status=Status.ARRIVED, checked_in_at=START)
    assert phase_of(arrived, SPRAVATO).name == "awaiting-dose"
    observing = phase_of(arrived.model_copy(update={"dose": dose()}), SPRAVATO)
    assert observing.name == "observing" and observing.since == FIRST_DEVICE
    assert observing.discharge_allowed_at == FIRST_DEVICE + timedelta(minutes=120)
    assert observing.blood_pressure_due_at == FIRST_DEVICE + timedelta(minutes=40)


# --- the workflow's view ------------------------------------------------------------------
def test_execution_input_carries_ids_and_times_only() -> None:
    payload = execution_input(appointment(), RULES, START - timedelta(days=3))
    assert payload == {
        "appointmentId": "a1",
        "run": 1,
        "start": "2026-12-07T14:00:00Z",
        "reminders": [{"at": "2026-12-05T14:00:00Z", "hoursBefore": 48}, {"at": "2026-12-06T14:00:00Z", "hoursBefore": 24}],
    }


def test_a_step_resumes_only_once_its_work_is_done() -> None:
    booked = appointment()
    assert callback_output(booked, Step.CHECK_IN, RULES) is None
    arrived = booked.model_copy(update={"status": Status.ARRIVED, "checked_in_at": START})
    assert callback_output(arrived, Step.CHECK_IN, RULES) == {}
    assert callback_output(arrived, Step.DOSE, RULES) is None
    dosed = arrived.model_copy(update={"dose": dose()})
    assert callback_output(dosed, Step.DOSE, RULES) == {"bloodPressureDueAt": "2026-12-07T14:45:00Z"}
    discharged = dosed.model_copy(
        update={"status": Status.FULFILLED, "discharge": Discharge(at=START + timedelta(hours=2), by="n", checklist=COMPLETE)}
    )
    assert callback_output(discharged, Step.DISCHARGE, RULES) == {
        "followUps": [
            {"number": 1, "at": "2026-12-08T16:00:00Z", "hoursAfter": 24, "instruments": ["phq-9"]},
            {"number": 2, "at": "2026-12-14T16:00:00Z", "hoursAfter": 168, "instruments": ["phq-9", "gad-7"]},
        ]
    }


def test_a_closed_or_superseded_appointment_ends_its_run() -> None:
    with pytest.raises(AppointmentClosed):
        open_for_run(appointment(status=Status.CANCELLED), "a1", 1)
    with pytest.raises(AppointmentClosed):
        open_for_run(None, "a1", 1)
    with pytest.raises(Superseded):
        open_for_run(appointment(workflow=Workflow(run=2)), "a1", 1)
    assert open_for_run(appointment(workflow=Workflow(run=2)), "a1", 2).workflow.run == 2


# --- flags ---------------------------------------------------------------------------------
def flagged(kind: AttentionKind) -> Appointment:
    return appointment(attention=Attention(kind=kind, reason="why", since=START))


@pytest.mark.parametrize(
    ("kind", "action", "settled"),
    [
        (AttentionKind.PATIENT_ANSWER, Action.CHECK_IN, True),
        (AttentionKind.UNREACHABLE, Action.CHECK_IN, True),
        (AttentionKind.DOSE_OVERDUE, Action.CHECK_IN, False),
        (AttentionKind.DOSE_OVERDUE, Action.RECORD_DOSE, True),
        (AttentionKind.DISCHARGE_OVERDUE, Action.RECORD_DOSE, False),
        (AttentionKind.DISCHARGE_OVERDUE, Action.DISCHARGE, True),
        (AttentionKind.WORKFLOW, Action.DISCHARGE, False),
        (AttentionKind.WORKFLOW, Action.RESCHEDULE, True),
    ],
)
def test_each_action_settles_only_its_own_flags(kind: AttentionKind, action: Action, settled: bool) -> None:
    assert (attention_after(flagged(kind), action) is None) is settled


def test_a_failed_workflow_outranks_a_later_lesser_flag() -> None:
    failed = Attention(kind=AttentionKind.WORKFLOW, reason="stopped", since=START)
    overdue = Attention(kind=AttentionKind.DISCHARGE_OVERDUE, reason="late", since=START)
    assert raise_attention(failed, overdue) is failed
    assert raise_attention(overdue, failed) is failed
    assert raise_attention(None, overdue) is overdue


def test_forms_due_by_tomorrow_or_overdue_are_the_alert() -> None:
    today = date(2026, 12, 8)
    forms = {days: SimpleNamespace(status="due", due_date=today + timedelta(days=days)) for days in (-2, 0, 1, 2)}
    submitted = SimpleNamespace(status="submitted", due_date=today)
    assert due_soon([*forms.values(), submitted], today, 1) == [forms[-2], forms[0], forms[1]]


# --- readings after the dose ---------------------------------------------------------------
def reading(systolic: int, diastolic: int, minutes_after_first_device: int) -> Vitals:
    return Vitals(
        vitals_id="v", taken_at=FIRST_DEVICE + timedelta(minutes=minutes_after_first_device), recorded_by="nurse",
        blood_pressure=BloodPressure(systolic=systolic, diastolic=diastolic),
    )


def test_a_post_dose_pressure_above_the_limit_flags_and_one_back_within_it_settles() -> None:
    flagged = attention_after_vitals(None, dose(), reading(150, 94, 40), LIMIT)
    assert flagged is not None and flagged.kind is AttentionKind.VITALS
    assert flagged.reason == "blood pressure after the dose above 140/90: recheck and tell the prescriber"
    assert flagged.since == FIRST_DEVICE + timedelta(minutes=40)
    assert attention_after_vitals(None, dose(), reading(141, 80, 40), LIMIT) is not None  # systolic alone
    assert attention_after_vitals(None, dose(), reading(130, 91, 40), LIMIT) is not None  # diastolic alone
    assert attention_after_vitals(None, dose(), reading(140, 90, 40), LIMIT) is None  # the limit itself
    assert attention_after_vitals(flagged, dose(), reading(132, 84, 55), LIMIT) is None
    assert attention_after_vitals(None, None, reading(150, 94, 40), LIMIT) is None  # no dose yet
    assert attention_after_vitals(None, dose(), reading(150, 94, -10), LIMIT) is None  # taken before the dose


def test_a_reading_within_the_limit_leaves_other_flags_and_a_failed_workflow_outranks_a_high_one() -> None:
    overdue = Attention(kind=AttentionKind.DISCHARGE_OVERDUE, reason="overdue", since=FIRST_DEVICE)
    assert attention_after_vitals(overdue, dose(), reading(132, 84, 40), LIMIT) == overdue
    missed = Attention(kind=AttentionKind.BLOOD_PRESSURE_CHECK, reason="check due", since=FIRST_DEVICE)
    assert attention_after_vitals(missed, dose(), reading(132, 84, 44), LIMIT) is None  # the missed check, taken
    failed = Attention(kind=AttentionKind.WORKFLOW, reason="failed", since=FIRST_DEVICE)
    assert attention_after_vitals(failed, dose(), reading(150, 94, 40), LIMIT) == failed


def test_a_flag_about_the_chair_landing_after_the_discharge_changes_nothing() -> None:
    missed = Attention(kind=AttentionKind.BLOOD_PRESSURE_CHECK, reason="check due", since=FIRST_DEVICE)
    in_chair = appointment(status=Status.ARRIVED, checked_in_at=START, dose=dose())
    assert attention_raised(in_chair, missed) == missed
    discharged = in_chair.model_copy(update={"status": Status.FULFILLED, "discharge": Discharge(
        at=FIRST_DEVICE + timedelta(minutes=120), by="nurse", checklist=COMPLETE)})
    assert attention_raised(discharged, missed) is None
    overdue = Attention(kind=AttentionKind.UNREACHABLE, reason="unreachable", since=FIRST_DEVICE)
    assert attention_raised(discharged, overdue) == overdue  # not about the chair: still raised
