"""A body each staff route accepts in shape, for the matrices that call every route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.world import CHECKLIST, at, clinic_day, dose_body

DAY = clinic_day(10)
START = at(DAY, 9)


def body_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    """A body the route accepts in shape, naming the victims' records wherever it names one."""
    placement = {"start": START.isoformat(), "chairId": "chair-3", "providerId": "nurse-a"}
    bodies: dict[str, dict[str, Any]] = {
        "/clinics/<clinic_id>": {"name": "Taken over", "openingHours": {"mon": [{"start": "08:00", "end": "18:00"}]}},
        "/clinics/<clinic_id>/chairs/<chair_id>": {"name": "Chair 9"},
        "/clinics/<clinic_id>/providers/<provider_id>": {
            "name": "Dr Mallory", "role": "prescriber", "workingHours": {"mon": [{"start": "08:00", "end": "18:00"}]},
            "pager": "+15555550666",
        },
        "/appointments": {"clinicId": ids["clinic_id"], "patientId": ids["patient_id"], "sessionType": "iv-ketamine", **placement},
        "/appointments/<appointment_id>/reschedule": {"start": (START + timedelta(hours=3)).isoformat()},
        "/appointments/<appointment_id>/cancel": {"reason": "patient unwell"},
        "/appointments/<appointment_id>/check-in": {},
        "/appointments/<appointment_id>/no-show": {},
        "/courses/plan": {
            "clinicId": ids["clinic_id"], "patientId": ids["patient_id"], "template": "iv-booster",
            "startDate": DAY.isoformat(), "preferredTimes": [{"weekday": "mon", "at": "09:00"}],
        },
        "/courses": {"clinicId": ids["clinic_id"], "patientId": ids["patient_id"], "template": "iv-booster", "sessions": [placement]},
        "/courses/<course_id>/sessions": placement,
        "/courses/<course_id>/cancel": {"reason": "patient moved away"},
        "/appointments/<appointment_id>/dose": dose_body(START),
        "/appointments/<appointment_id>/vitals": {"bloodPressure": {"systolic": 120, "diastolic": 80}},
        "/appointments/<appointment_id>/discharge": {"checklist": CHECKLIST},
        "/escalations/<escalation_id>/acknowledge": {"note": "called the patient"},
        "/appointments/<appointment_id>/attention/resolve": {"note": "called the patient"},
        "/tasks/<task_id>/complete": {"note": "called the patient"},
        "/staff/<username>": {"role": "admin", "clinics": [ids["clinic_id"]]},
        "/clinics/<clinic_id>/waitlist": {
            "patientId": ids["patient_id"], "sessionType": "spravato", "weekdays": ["mon"], "earliest": "08:00", "latest": "12:00",
        },
    }
    return None if method == "GET" else bodies.get(path, {})
