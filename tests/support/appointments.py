"""An appointment to test rules on, without a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clinic.domain.appointments import Appointment, Status

START = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in New York


def appointment(**changes: Any) -> Appointment:
    """A Spravato appointment booked three days ahead; `changes` override any field."""
    base = Appointment(
        appointment_id="a1",
        clinic_id="north",
        patient_id="p1",
        session_type="spravato",
        chair_id="chair-1",
        provider_id="nurse-a",
        start=START,
        end=START + timedelta(minutes=150),
        local_date="2026-12-07",
        status=Status.BOOKED,
        version=1,
        created_at=START - timedelta(days=3),
        updated_at=START - timedelta(days=3),
    )
    return base.model_copy(update=changes)
