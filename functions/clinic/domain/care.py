"""The treatment session itself: dosing, vitals, the observation window and discharge.

Pure rules, no AWS. Times are UTC instants; the clinic's time zone is only for display."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import Field, StrictBool, model_validator
from pydantic.alias_generators import to_camel

from .errors import IllegalTransition, InvalidRequest
from .model import StrictRecord
from .rules import BloodPressureLimit, CareRules, SessionType

CLOCK_SKEW = timedelta(minutes=5)  # a tablet's clock may run a little ahead of ours


class BloodPressure(StrictRecord):
    systolic: int = Field(ge=50, le=300)
    diastolic: int = Field(ge=20, le=200)

    @model_validator(mode="after")
    def _systolic_above_diastolic(self) -> BloodPressure:
        if self.systolic <= self.diastolic:
            raise ValueError("systolic must be above diastolic")
        return self

    def above(self, limit: BloodPressureLimit) -> bool:
        return self.systolic > limit.systolic or self.diastolic > limit.diastolic


class Override(StrictRecord):
    """A prescriber's decision to dose despite a blood pressure above the guide."""

    prescriber_id: str
    reason: str
    recorded_by: str
    at: datetime


class Dose(StrictRecord):
    pre_dose_blood_pressure: BloodPressure
    started_at: datetime  # Spravato: the first device; IV: the infusion start
    dose_mg: float
    device_count: int | None = None
    lot_number: str | None = None
    override: Override | None = None
    recorded_by: str
    recorded_at: datetime


class Measurements(StrictRecord):
    blood_pressure: BloodPressure | None = None
    heart_rate: int | None = Field(default=None, ge=20, le=250)
    spo2: int | None = Field(default=None, ge=50, le=100)
    respiratory_rate: int | None = Field(default=None, ge=4, le=60)
    moaas: int | None = Field(default=None, ge=0, le=5, description="sedation, MOAA/S: 5 alert ... 0 no response")
    dissociation: int | None = Field(default=None, ge=0, le=92, description="CADSS total")

    @model_validator(mode="after")
    def _measures_something(self) -> Measurements:
        measures = (self.blood_pressure, self.heart_rate, self.spo2, self.respiratory_rate, self.moaas, self.dissociation)
        if all(m is None for m in measures):
            raise ValueError("record at least one measurement")
        return self


class Vitals(Measurements):
    vitals_id: str
    taken_at: datetime
    recorded_by: str


class Checklist(StrictRecord):
    """What the REMS asks before a patient leaves: every item must be confirmed."""

    vitals_acceptable: StrictBool
    sedation_resolved: StrictBool
    dissociation_resolved: StrictBool
    breathing_normal: StrictBool  # no respiratory problems
    ride_present: StrictBool


class Discharge(StrictRecord):
    at: datetime
    by: str
    checklist: Checklist
    ready_at: datetime | None = None  # when the patient would have been ready without the minimum observation
    adverse_events: str | None = None


class AttentionKind(StrEnum):
    PATIENT_ANSWER = "patient-answer"  # not coming, or no ride home
    UNREACHABLE = "unreachable"  # a reminder could not be delivered
    DOSE_OVERDUE = "dose-overdue"
    DISCHARGE_OVERDUE = "discharge-overdue"
    WORKFLOW = "workflow"  # the workflow failed or could not start: only a reschedule restarts it
    VITALS = "vitals"  # a reading after the dose outside the configured limits
    BLOOD_PRESSURE_CHECK = "blood-pressure-check"  # the post-dose check was not taken on time


class Attention(StrictRecord):
    """Why staff must look at this appointment now."""

    kind: AttentionKind
    reason: str
    since: datetime


# --- dosing ----------------------------------------------------------------------------
def check_dose(
    *,
    session_type: SessionType,
    checked_in_at: datetime | None,
    pre_dose: BloodPressure,
    started_at: datetime,
    dose_mg: float,
    device_count: int | None,
    lot_number: str | None,
    prescriber_ids: set[str],
    override_prescriber: str | None,
    limit: BloodPressureLimit,
    now: datetime,
) -> None:
    """Raises InvalidRequest naming every field that keeps this dose from being recorded."""
    problems: list[tuple[str, str]] = []
    if started_at > now + CLOCK_SKEW:
        problems.append(("startedAt", "is in the future"))
    if checked_in_at is not None and started_at < checked_in_at - CLOCK_SKEW:
        problems.append(("startedAt", "is before the patient was checked in"))
    if session_type.mg_per_device is not None:
        if device_count is None or device_count > session_type.max_devices:
            problems.append(("deviceCount", f"give the number of devices used, 1 to {session_type.max_devices}"))
        elif abs(dose_mg - session_type.mg_per_device * device_count) > 0.01:
            problems.append(("doseMg", f"must be {session_type.mg_per_device:g} mg per device"))
    if session_type.requires_rems and not lot_number:
        problems.append(("lotNumber", "is required for this session type (REMS monitoring form)"))
    if pre_dose.above(limit) and override_prescriber is None:
        guide = f"{limit.systolic}/{limit.diastolic}"
        problem = f"the pre-dose blood pressure is above the {guide} guide: a prescriber must decide to go ahead"
        problems.append(("override", f"{problem} (prescriberId and reason)"))
    if override_prescriber is not None and override_prescriber not in prescriber_ids:
        problems.append(("override.prescriberId", "is not a prescriber of this clinic"))
    if problems:
        raise InvalidRequest(problems[0][0], problems[0][1], *problems[1:])


def discharge_allowed_at(dose: Dose, session_type: SessionType) -> datetime:
    return dose.started_at + session_type.minimum_observation


def discharge_overdue_at(dose: Dose, care: CareRules) -> datetime:
    return dose.started_at + timedelta(minutes=care.discharge_overdue_minutes)


def blood_pressure_due_at(dose: Dose, session_type: SessionType) -> datetime:
    return dose.started_at + timedelta(minutes=session_type.blood_pressure_check_minutes)


def check_discharge(dose: Dose | None, session_type: SessionType, checklist: Checklist, now: datetime, zone: ZoneInfo) -> None:
    if dose is None:
        raise IllegalTransition("cannot discharge before the dose is recorded")
    missing = [item for item in Checklist.model_fields if not getattr(checklist, item)]
    if missing:
        problems = [(f"checklist.{to_camel(item)}", "must be confirmed before discharge") for item in missing]
        raise InvalidRequest(problems[0][0], problems[0][1], *problems[1:])
    allowed = discharge_allowed_at(dose, session_type)
    if now < allowed:
        minutes = int(session_type.minimum_observation.total_seconds() // 60)
        local = allowed.astimezone(zone)
        raise IllegalTransition(f"discharge is allowed from {local:%H:%M} ({zone.key}), {minutes} min after the dose started")


def blood_pressure_recorded_since(vitals: list[Vitals], since: datetime) -> bool:
    return any(v.blood_pressure is not None and v.taken_at >= since for v in vitals)


# --- schedules -------------------------------------------------------------------------
def reminder_times(start: datetime, care: CareRules, now: datetime) -> list[tuple[datetime, int]]:
    """(when, hours before) of each reminder still ahead; a reminder whose time has passed
    at booking is skipped rather than sent late."""
    times = [(start - timedelta(hours=hours), hours) for hours in care.reminder_hours_before]
    return sorted((at, hours) for at, hours in times if at > now)


def follow_up_times(discharged_at: datetime, care: CareRules) -> list[tuple[datetime, int]]:
    return sorted((discharged_at + timedelta(hours=hours), hours) for hours in care.follow_up_hours_after_discharge)


def released_after_discharge(grain_starts: list[datetime], discharged_at: datetime, session_type: SessionType) -> list[datetime]:
    """Held time the chair no longer needs: everything after discharge plus turnover."""
    free_from = discharged_at + timedelta(minutes=session_type.turnover_minutes)
    return [at for at in grain_starts if at >= free_from]


class RemsForm(StrictRecord):
    """The Spravato REMS Patient Monitoring Form, assembled from the session's records.
    Fields the service cannot know (concomitant sedating medicines) stay empty for the
    clinician to complete; submitting to the REMS stays a human act."""

    appointment_id: str
    clinic_id: str
    patient_id: str
    session_date: date
    due_date: date
    status: str = "due"  # "submitted" once staff filed it with the REMS (a human act)
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    monitoring_clinician: str
    dose_mg: float
    device_count: int | None = None
    lot_number: str | None = None
    first_device_at: datetime
    monitoring_ended_at: datetime
    minutes_monitored: int
    minutes_until_ready: int | None = None  # from the first device, had there been no minimum
    pre_dose_blood_pressure: BloodPressure
    post_dose_blood_pressure: BloodPressure | None = None
    pre_discharge_blood_pressure: BloodPressure | None = None
    vitals_acceptable_before_dosing: bool
    vitals_acceptable_before_leaving: bool
    lowest_moaas: int | None = None
    highest_dissociation: int | None = None
    lowest_spo2: int | None = None
    lowest_respiratory_rate: int | None = None
    breathing_normal_at_discharge: bool
    serious_adverse_events: str | None = None
    concomitant_sedating_medicines: str | None = None


def due_soon(forms: list[RemsForm], today: date, days_ahead: int) -> list[RemsForm]:
    """Forms due within `days_ahead` days of the clinic's today, or overdue: the alert."""
    return [form for form in forms if form.status == "due" and (form.due_date - today).days <= days_ahead]


def rems_form_overdue(form: RemsForm, today: date) -> bool:
    """Past its deadline (the clinic's `today` is after the due date) and not marked filed."""
    return form.status == "due" and today > form.due_date


def rems_form_overdue_at(session_date: date, care: CareRules, zone: ZoneInfo) -> datetime:
    """When a session's form becomes overdue: the clinic's midnight after its due date, in UTC."""
    day_after_due = session_date + timedelta(days=care.rems_form_due_days + 1)
    return datetime.combine(day_after_due, time(), tzinfo=zone).astimezone(UTC)


def assemble_rems_form(
    *,
    appointment_id: str,
    clinic_id: str,
    patient_id: str,
    session_date: date,
    session_type: SessionType,
    dose: Dose,
    discharge: Discharge,
    vitals: list[Vitals],
    care: CareRules,
    clinician_name: str,
) -> RemsForm:
    # Readings from the session's monitoring window only: a check-in reading is not post-dose.
    monitored = [v for v in vitals if dose.started_at <= v.taken_at <= discharge.at]
    pressures = sorted((v.taken_at, v.blood_pressure) for v in monitored if v.blood_pressure is not None)
    check_due = blood_pressure_due_at(dose, session_type)
    after_dose = min(pressures, key=lambda p: abs(p[0] - check_due), default=None)
    before_discharge = pressures[-1] if pressures and pressures[-1] is not after_dose else None
    ready = discharge.ready_at
    return RemsForm(
        appointment_id=appointment_id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        session_date=session_date,
        due_date=session_date + timedelta(days=care.rems_form_due_days),
        monitoring_clinician=clinician_name,
        dose_mg=dose.dose_mg,
        device_count=dose.device_count,
        lot_number=dose.lot_number,
        first_device_at=dose.started_at,
        monitoring_ended_at=discharge.at,
        minutes_monitored=_minutes(discharge.at - dose.started_at),
        minutes_until_ready=_minutes(ready - dose.started_at) if ready else None,
        pre_dose_blood_pressure=dose.pre_dose_blood_pressure,
        post_dose_blood_pressure=after_dose[1] if after_dose else None,
        pre_discharge_blood_pressure=before_discharge[1] if before_discharge else None,
        vitals_acceptable_before_dosing=not dose.pre_dose_blood_pressure.above(care.pre_dose_blood_pressure_limit),
        vitals_acceptable_before_leaving=discharge.checklist.vitals_acceptable,
        lowest_moaas=min((v.moaas for v in monitored if v.moaas is not None), default=None),
        highest_dissociation=max((v.dissociation for v in monitored if v.dissociation is not None), default=None),
        lowest_spo2=min((v.spo2 for v in monitored if v.spo2 is not None), default=None),
        lowest_respiratory_rate=min((v.respiratory_rate for v in monitored if v.respiratory_rate is not None), default=None),
        breathing_normal_at_discharge=discharge.checklist.breathing_normal,
        serious_adverse_events=discharge.adverse_events,
    )


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
