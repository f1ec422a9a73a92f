"""Clinic rules: session types and booking policy.

Operators set these in cdk.json (context key `clinicRules`); the stack hands them to the
Lambdas as JSON and this model validates them at synth time and at cold start alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from .model import StrictRecord

# DynamoDB allows 100 items in one transaction; a reschedule touches, at worst, every grain
# of the old and the new block for both the chair and the provider, plus three records.
MAX_TRANSACTION_ITEMS = 100
RECORDS_PER_RESCHEDULE = 3


def known_zone(value: str) -> str:
    """Pydantic validator body: `value` must name an IANA time zone."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not an IANA time zone name (for example America/New_York)") from exc
    return value


def check_instrument_plan(plan: dict[int, list[str]], follow_up_hours: list[int]) -> None:
    """Every follow-up sends at least one known questionnaire, and only follow-ups that exist."""
    from .instruments import INSTRUMENTS

    if set(plan) != set(follow_up_hours):
        raise ValueError(f"followUpInstruments must name the follow-ups {sorted(follow_up_hours)} (hours after discharge)")
    for hours, codes in plan.items():
        unknown = [c for c in codes if c not in INSTRUMENTS]
        if not codes or unknown:
            raise ValueError(f"the {hours} h follow-up needs known questionnaires ({', '.join(INSTRUMENTS)}); got {codes}")


class SessionType(StrictRecord):
    label: str
    dosing_minutes: int = Field(ge=1, le=240)
    observation_minutes: int = Field(ge=0, le=480)
    turnover_minutes: int = Field(ge=0, le=120)
    requires_rems: bool = False
    # Spravato's REMS counts the 2 h from the first device; an infusion's recovery starts when it ends.
    observation_counts_from: Literal["dose-start", "dose-end"] = "dose-end"
    blood_pressure_check_minutes: int = Field(default=40, ge=5, le=240, description="after the dose starts")
    # Device-dosed products (Spravato: 28 mg a device, up to 3) state the dose as devices.
    mg_per_device: float | None = Field(default=None, gt=0, le=500)
    max_devices: int = Field(default=3, ge=1, le=10)
    follow_up_instruments: dict[int, list[str]] | None = None  # overrides care.followUpInstruments
    # Two doses too close together: every path that places a session (booking, reschedule,
    # course, make-up, waitlist) keeps this from the patient's other scheduled sessions.
    minimum_spacing_hours: int = Field(default=0, ge=0, le=24 * 28, description="between two sessions of one patient")

    @property
    def block(self) -> timedelta:
        """How long the chair is held: dosing, the observation window and turnover."""
        return timedelta(minutes=self.dosing_minutes + self.observation_minutes + self.turnover_minutes)

    @property
    def minimum_observation(self) -> timedelta:
        """From the dose start until discharge may be considered."""
        lead = 0 if self.observation_counts_from == "dose-start" else self.dosing_minutes
        return timedelta(minutes=lead + self.observation_minutes)


class BloodPressureLimit(StrictRecord):
    systolic: int = Field(default=140, ge=90, le=250)
    diastolic: int = Field(default=90, ge=50, le=150)


class CareRules(StrictRecord):
    """The workflow's timing and safety thresholds."""

    reminder_hours_before: list[int] = Field(default=[48, 24], max_length=5)
    check_in_grace_minutes: int = Field(default=30, ge=5, le=240)
    pre_dose_blood_pressure_limit: BloodPressureLimit = Field(default_factory=BloodPressureLimit)
    # A reading above it after the dose flags the appointment for the clinician.
    post_dose_blood_pressure_limit: BloodPressureLimit = Field(default_factory=BloodPressureLimit)
    # A reading this many minutes before the post-dose check is due counts as that check.
    blood_pressure_check_tolerance_minutes: int = Field(default=10, ge=0, le=60)
    dose_overdue_minutes: int = Field(default=120, ge=15, le=720, description="after check-in, with no dose recorded")
    discharge_overdue_minutes: int = Field(default=240, ge=30, le=720, description="after the dose starts")
    overdue_recheck_minutes: int = Field(default=60, ge=5, le=720, description="how often an overdue step is re-checked")
    follow_up_hours_after_discharge: list[int] = Field(default=[24, 168], max_length=10)
    # Which questionnaires each follow-up sends (by its hours after discharge); a session type may override.
    follow_up_instruments: dict[int, list[str]] = Field(default_factory=lambda: {24: ["phq-9"], 168: ["phq-9", "gad-7"]})
    survey_expiry_hours: int = Field(default=72, ge=1, le=336)
    survey_reminder_hours: int = Field(default=24, ge=1, le=335, description="after the survey link, if unanswered")
    # After PHQ-9 item 9 above 0: this long to answer the C-SSRS screener before it counts as unanswered (high risk).
    screener_answer_minutes: int = Field(default=30, ge=5, le=240)
    escalation_acknowledge_minutes: int = Field(default=15, ge=1, le=120, description="before the next in the chain is paged")
    # Bounds the paging loop: then the escalation stays on the clinic's alerts and the operator is alarmed
    # (20 rounds of 3 pages stay far inside Step Functions' 25,000-event history).
    escalation_rounds: int = Field(default=3, ge=1, le=20, description="times the on-call chain is paged before hand-off")
    ptsd_cutoff: int = Field(default=33, ge=31, le=33, description="PCL-5 total suggesting probable PTSD")
    # Patients treated for PTSD get the PCL-5 with their next follow-up once this long has passed since the last.
    ptsd_check_every_days: int = Field(default=30, ge=7, le=180)
    rems_form_due_days: int = Field(default=7, ge=1, le=30, description="REMS Patient Monitoring Form deadline")
    rems_form_alert_days: int = Field(default=1, ge=0, le=14, description="a form this close to its deadline is on the alerts")

    @model_validator(mode="after")
    def _instruments_for_each_follow_up(self) -> CareRules:
        check_instrument_plan(self.follow_up_instruments, self.follow_up_hours_after_discharge)
        if self.survey_reminder_hours >= self.survey_expiry_hours:
            raise ValueError("surveyReminderHours must be less than surveyExpiryHours")
        return self

    @field_validator("reminder_hours_before", "follow_up_hours_after_discharge")
    @classmethod
    def _positive_hours(cls, hours: list[int]) -> list[int]:
        if any(h < 1 or h > 24 * 90 for h in hours):
            raise ValueError("each offset must be between 1 hour and 90 days")
        if len(set(hours)) != len(hours):
            raise ValueError("each offset may appear once")
        return hours


class CoursePhase(StrictRecord):
    """`sessions` sessions, `per_week` in each week it runs, every `every_weeks` weeks."""

    sessions: int = Field(ge=1, le=52)
    per_week: int = Field(default=1, ge=1, le=5)
    every_weeks: int = Field(default=1, ge=1, le=8)


class CourseTemplate(StrictRecord):
    label: str
    session_type: str
    phases: list[CoursePhase] = Field(min_length=1, max_length=5)
    minimum_spacing_hours: int = Field(default=0, ge=0, le=24 * 28, description="between two sessions of the course")
    within_days: int | None = Field(default=None, ge=1, le=365, description="first to last session")

    @property
    def total_sessions(self) -> int:
        return sum(phase.sessions for phase in self.phases)

    @property
    def weekdays_needed(self) -> int:
        return max(phase.per_week for phase in self.phases)

    @property
    def minimum_spacing(self) -> timedelta:
        return timedelta(hours=self.minimum_spacing_hours)


def default_course_templates() -> dict[str, CourseTemplate]:
    return {
        "spravato-induction": CourseTemplate(
            label="Spravato induction and optimization (weeks 1-4 twice weekly, weeks 5-8 weekly)",
            session_type="spravato",
            phases=[CoursePhase(sessions=8, per_week=2), CoursePhase(sessions=4, per_week=1)],
            minimum_spacing_hours=48,
        ),
        "spravato-maintenance": CourseTemplate(
            label="Spravato maintenance (every 2 weeks)",
            session_type="spravato",
            phases=[CoursePhase(sessions=6, per_week=1, every_weeks=2)],
            minimum_spacing_hours=144,
        ),
        "iv-induction": CourseTemplate(
            label="IV ketamine induction (6 infusions over 2-3 weeks)",
            session_type="iv-ketamine",
            phases=[CoursePhase(sessions=6, per_week=3)],
            minimum_spacing_hours=44,
            within_days=21,
        ),
        "iv-booster": CourseTemplate(
            label="IV ketamine booster",
            session_type="iv-ketamine",
            phases=[CoursePhase(sessions=1)],
        ),
    }


def _default_session_types() -> dict[str, SessionType]:
    return {
        "spravato": SessionType(
            label="Spravato (esketamine nasal spray)",
            dosing_minutes=15,
            observation_minutes=120,
            turnover_minutes=15,
            requires_rems=True,
            observation_counts_from="dose-start",
            mg_per_device=28,
            minimum_spacing_hours=48,
        ),
        "iv-ketamine": SessionType(
            label="IV ketamine infusion",
            dosing_minutes=40,
            observation_minutes=60,
            turnover_minutes=20,
            minimum_spacing_hours=44,
        ),
    }


class ClinicRules(StrictRecord):
    default_time_zone: str = "America/New_York"
    slot_step_minutes: int = Field(default=15, ge=5, le=120)
    grain_minutes: int = Field(default=15, ge=5, le=60)
    minimum_notice_minutes: int = Field(default=60, ge=0)
    late_cancellation_hours: int = Field(default=24, ge=0)
    booking_horizon_days: int = Field(default=180, ge=1, le=730)
    default_provider_capacity: int = Field(default=2, ge=1, le=20)
    session_types: dict[str, SessionType] = Field(default_factory=_default_session_types)
    care: CareRules = Field(default_factory=CareRules)
    course_templates: dict[str, CourseTemplate] = Field(default_factory=default_course_templates)
    waitlist_offer_size: int = Field(default=3, ge=1, le=20, description="waitlisted patients offered a freed time at once")
    # A course session that must move is offered this many alternatives, this many days either side at most.
    course_alternatives: int = Field(default=3, ge=1, le=10)
    course_alternative_days: int = Field(default=3, ge=0, le=14)

    _known_zone = field_validator("default_time_zone")(known_zone)

    @model_validator(mode="after")
    def _fits_dynamodb(self) -> ClinicRules:
        if self.slot_step_minutes % self.grain_minutes:
            raise ValueError("slotStepMinutes must be a multiple of grainMinutes")
        if not self.session_types:
            raise ValueError("at least one session type is required")
        for code, session_type in self.session_types.items():
            if session_type.follow_up_instruments is not None:
                check_instrument_plan(session_type.follow_up_instruments, self.care.follow_up_hours_after_discharge)
            if session_type.minimum_observation >= timedelta(minutes=self.care.discharge_overdue_minutes):
                raise ValueError(f"care.dischargeOverdueMinutes must exceed session type {code!r}'s minimum observation")
        if "course_templates" not in self.model_fields_set:
            # The built-in templates fit the built-in session types; keep those that apply.
            fitting = {c: t for c, t in self.course_templates.items() if t.session_type in self.session_types}
            object.__setattr__(self, "course_templates", fitting)
        for code, template in self.course_templates.items():
            if template.session_type not in self.session_types:
                raise ValueError(f"course template {code!r} names unknown session type {template.session_type!r}")
        for code, session_type in self.session_types.items():
            grains = -(-int(session_type.block.total_seconds()) // (self.grain_minutes * 60))
            if 4 * grains + RECORDS_PER_RESCHEDULE > MAX_TRANSACTION_ITEMS:
                raise ValueError(
                    f"session type {code!r} spans {grains} grains of {self.grain_minutes} min; "
                    "raise grainMinutes so a reschedule fits in one DynamoDB transaction"
                )
        return self

    def spacing(self, session_type: str, template: CourseTemplate | None = None) -> timedelta:
        """The least time a session of this type keeps from the patient's other sessions: the
        session type's minimum, a course template's if stricter, and never less than the block."""
        kind = self.session_types[session_type]
        hours = max(kind.minimum_spacing_hours, template.minimum_spacing_hours if template else 0)
        return max(timedelta(hours=hours), kind.block)

    def instruments_for(self, session_type: str, hours_after: int) -> list[str]:
        plan = self.session_types[session_type].follow_up_instruments or self.care.follow_up_instruments
        return plan[hours_after]

    @property
    def grain(self) -> timedelta:
        return timedelta(minutes=self.grain_minutes)

    @property
    def slot_step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)
