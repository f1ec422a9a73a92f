"""Clinic rules validate at synth and at cold start with the same model."""

from __future__ import annotations

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
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        ClinicRules.model_validate({"defaultTimeZone": "Mars/Olympus"})


def test_a_time_range_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        TimeRange(start="17:00", end="08:00")
