"""Clinic rules validate at synth and at cold start with the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clinic.domain.resources import TimeRange
from clinic.domain.rules import ClinicRules
from pydantic import ValidationError


def test_defaults_follow_the_clinical_rules() -> None:
    rules = ClinicRules()
    spravato = rules.session_types["spravato"]
    assert spravato.observation_minutes == 120 and spravato.requires_rems
    assert rules.late_cancellation_hours == 24


def test_a_block_too_long_for_one_transaction_is_refused() -> None:
    with pytest.raises(ValidationError, match="one DynamoDB transaction"):
        ClinicRules.model_validate({"grainMinutes": 5, "slotStepMinutes": 15})


def test_slot_step_must_sit_on_the_grain() -> None:
    with pytest.raises(ValidationError, match="multiple of grainMinutes"):
        ClinicRules.model_validate({"grainMinutes": 10, "slotStepMinutes": 15})


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not an IANA time zone name"):
        ClinicRules.model_validate({"defaultTimeZone": "Mars/Olympus"})


def test_a_time_range_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        TimeRange(start="17:00", end="08:00")


def test_care_settings_default_to_the_clinical_guides() -> None:
    care = ClinicRules().care
    assert care.reminder_hours_before == [48, 24]
    assert care.check_in_grace_minutes == 30
    assert (care.pre_dose_blood_pressure_limit.systolic, care.pre_dose_blood_pressure_limit.diastolic) == (140, 90)
    assert care.discharge_overdue_minutes == 240
    assert care.follow_up_hours_after_discharge == [24, 168]


def test_discharge_overdue_must_leave_room_for_the_minimum_observation() -> None:
    with pytest.raises(ValidationError, match="must exceed session type 'spravato'"):
        ClinicRules.model_validate({"care": {"dischargeOverdueMinutes": 120}})


@pytest.mark.parametrize(
    ("hours", "problem"), [([0], "between 1 hour and 90 days"), ([24 * 91], "between 1 hour"), ([24, 24], "once")]
)
def test_offsets_are_distinct_and_between_an_hour_and_ninety_days(hours: list[int], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ClinicRules.model_validate({"care": {"followUpHoursAfterDischarge": hours}})


def test_cdk_json_spravato_counts_observation_from_the_first_device() -> None:
    context = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]
    rules = ClinicRules.model_validate(context["clinicRules"])
    assert rules.session_types["spravato"].minimum_observation.total_seconds() == 120 * 60
    assert rules.care == ClinicRules().care  # cdk.json states the defaults explicitly


def test_each_follow_up_sends_known_questionnaires() -> None:
    rules = ClinicRules()
    assert rules.instruments_for("spravato", 24) == ["phq-9"]
    assert rules.instruments_for("spravato", 168) == ["phq-9", "gad-7"]
    with pytest.raises(ValidationError, match="must name the follow-ups"):
        ClinicRules.model_validate({"care": {"followUpInstruments": {"24": ["phq-9"]}}})
    with pytest.raises(ValidationError, match="known questionnaires"):
        ClinicRules.model_validate({"care": {"followUpInstruments": {"24": ["beck"], "168": ["phq-9"]}}})


def test_a_session_type_may_choose_its_own_questionnaires() -> None:
    ptsd_course = {"24": ["phq-9"], "168": ["phq-9", "pcl-5"]}
    rules = ClinicRules.model_validate({"sessionTypes": {"iv-ketamine": {
        "label": "IV", "dosingMinutes": 40, "observationMinutes": 60, "turnoverMinutes": 20, "followUpInstruments": ptsd_course
    }}})
    assert rules.instruments_for("iv-ketamine", 168) == ["phq-9", "pcl-5"]


def test_spacing_between_doses_comes_from_the_session_type_or_a_stricter_course() -> None:
    from datetime import timedelta

    context = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]
    rules = ClinicRules.model_validate(context["clinicRules"])
    assert rules.spacing("spravato") == timedelta(hours=48)
    assert rules.spacing("iv-ketamine") == timedelta(hours=44)
    assert rules.spacing("spravato", rules.course_templates["spravato-maintenance"]) == timedelta(hours=144)
    unspaced = ClinicRules.model_validate({"sessionTypes": {"iv-ketamine": {
        "label": "IV", "dosingMinutes": 40, "observationMinutes": 60, "turnoverMinutes": 20}}})
    assert unspaced.spacing("iv-ketamine") == timedelta(minutes=120)  # never closer than the chair block itself
