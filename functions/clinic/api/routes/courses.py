"""Courses of treatment: plan, book all or nothing, a make-up session, cancel what is left."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ...domain.appointments import Appointment
from ...domain.courses import Course, PreferredTime
from ...usecases.courses import SessionChoice
from ..auth import FRONT_OFFICE, STAFF
from ..models import CancelRequest, CourseBookingRequest, CoursePlanRequest, CourseSessionRequest
from ..responses import AppointmentView, CoursePlanView, CourseView
from ..routing import Routes, appointment_reply, caller, clinic_zone, count, created, record_id, use_cases
from ..views import course_view, plan_view, planned_view

routes = Routes()


def _course(course: Course, sessions: list[Appointment]) -> dict[str, Any]:
    return course_view(course, [appointment_reply(a) for a in sessions])


@routes("POST", "/courses/plan", FRONT_OFFICE, returns=CoursePlanView)
def post_course_plan(body: Annotated[CoursePlanRequest, Body()]) -> dict[str, Any]:
    """Proposes the course's concrete sessions (nothing is booked): each session's placement is
    its wanted time or, when that must move, the nearest alternative; `sessions[].placement`
    can be sent to POST /courses as it is."""
    preferred = [PreferredTime(weekday=p.weekday, at=p.at) for p in body.preferred_times]
    plan = use_cases().courses.plan(
        body.clinic_id, body.patient_id, body.template, body.start_date, preferred, body.chair_id, body.provider_id
    )
    return plan_view(plan, clinic_zone(body.clinic_id))


@routes("POST", "/courses", FRONT_OFFICE, returns=CourseView, status=201)
def post_course(body: Annotated[CourseBookingRequest, Body()]) -> tuple[dict[str, Any], int]:
    """Books every session of the course, or none: a conflict on any session is a 409 naming it."""

    def book() -> dict[str, Any]:
        choices = [SessionChoice(s.start, s.chair_id, s.provider_id) for s in body.sessions]
        course, sessions = use_cases().courses.book(
            caller(),
            clinic_id=body.clinic_id,
            patient_id=body.patient_id,
            template_code=body.template,
            sessions=choices,
            course_id=record_id("book-course"),
        )
        count("CourseBooked")
        return _course(course, sessions)

    return created("book-course", body, book)


@routes("GET", "/courses/<course_id>", STAFF, returns=CourseView)
def get_course(course_id: str) -> dict[str, Any]:
    return _course(*use_cases().courses.course(course_id))


@routes("GET", "/courses/<course_id>/make-up", FRONT_OFFICE)
def get_course_make_up(course_id: str) -> dict[str, Any]:
    """Where one more session would go after the course's last, at the course's cadence."""
    course, _ = use_cases().courses.course(course_id)
    return planned_view(use_cases().courses.make_up(course_id), clinic_zone(course.clinic_id))


@routes("POST", "/courses/<course_id>/sessions", FRONT_OFFICE, returns=AppointmentView, status=201)
def post_course_session(course_id: str, body: Annotated[CourseSessionRequest, Body()]) -> tuple[dict[str, Any], int]:
    def add() -> dict[str, Any]:
        choice = SessionChoice(body.start, body.chair_id, body.provider_id)
        return appointment_reply(use_cases().courses.add_session(caller(), course_id, choice))

    return created(f"add-course-session-{course_id}", body, add)


@routes("POST", "/courses/<course_id>/cancel", FRONT_OFFICE, returns=CourseView)
def post_course_cancel(course_id: str, body: Annotated[CancelRequest, Body()]) -> dict[str, Any]:
    """Cancels every session not yet begun and stops their workflows, then the course."""
    return _course(*use_cases().courses.cancel(caller(), course_id, body.reason))
