"""Patient links: no staff identity, the link's single-use token (in the body, never the
URL) is the credential."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from ..auth import PUBLIC
from ...composition import UseCases
from ..models import ConfirmationRequest, OfferRequest, ReminderLinkRequest, SurveyAnswersRequest, SurveyRequest
from ..routing import Routes, clinic_zone, link_use_cases
from ..views import survey_view

routes = Routes()


@routes("POST", "/public/surveys", PUBLIC)
def post_survey(body: Annotated[SurveyRequest, Body()]) -> dict[str, Any]:
    """The questionnaires the link still asks (POST: the token stays out of URLs and logs)."""
    return survey_view(link_use_cases(body.token).follow_ups.survey(body.token))


@routes("POST", "/public/surveys/answers", PUBLIC)
def post_survey_answers(body: Annotated[SurveyAnswersRequest, Body()]) -> dict[str, Any]:
    follow_up = link_use_cases(body.token).follow_ups.submit(body.token, body.instrument, dict(body.answers))
    view = survey_view(follow_up)
    if view["crisisResources"]:
        view["message"] = "If you are thinking about harming yourself, please reach out now. A clinician will contact you."
    elif follow_up.session.finished:
        view["message"] = "Thank you. Your answers have reached your care team."
    return view


@routes("POST", "/public/confirmations", PUBLIC)
def post_confirmation(body: Annotated[ConfirmationRequest, Body()]) -> dict[str, Any]:
    link_use_cases(body.token).reminder_links.confirm_attendance(body.token, body.attending, body.ride_arranged)
    if not body.attending:
        message = "Thank you for letting us know. The clinic will call you to find another time."
    elif not body.ride_arranged:
        message = "Please arrange for someone to drive you home: you must not drive until the next day. The clinic will call you."
    else:
        message = "Thank you, see you soon. Remember: no driving until the next day."
    return {"recorded": True, "message": message}


@routes("POST", "/public/confirmations/open", PUBLIC)
def post_confirmation_open(body: Annotated[ReminderLinkRequest, Body()]) -> dict[str, Any]:
    """What a reminder's link opens: which appointment it asks about (the clinic, the session
    and its time; nothing else about the patient). The link stays unused."""
    uses = link_use_cases(body.token)
    appointment = uses.reminder_links.appointment_of(body.token)
    return _session_at(uses, appointment.clinic_id, appointment.session_type, appointment.start)


@routes("POST", "/public/waitlist-offers", PUBLIC)
def post_waitlist_offer(body: Annotated[OfferRequest, Body()]) -> dict[str, Any]:
    """What a waitlist offer's link opens: the time, and whether it is still to be had."""
    uses = link_use_cases(body.token)
    offer, mine = uses.waitlist.offer(body.token)
    return {**_session_at(uses, offer.clinic_id, offer.session_type, offer.start), "status": "yours" if mine else offer.status.value}


@routes("POST", "/public/waitlist-offers/accept", PUBLIC)
def post_waitlist_accept(body: Annotated[OfferRequest, Body()]) -> dict[str, Any]:
    """The first patient to accept books the time; the others get 410 and stay on the waitlist."""
    uses = link_use_cases(body.token)
    appointment = uses.waitlist.accept(body.token)
    return {
        "booked": True,
        "startLocal": appointment.start.astimezone(clinic_zone(appointment.clinic_id, uses)).isoformat(),
        "message": "The time is yours. The clinic will send you a reminder before it.",
    }


def _session_at(uses: UseCases, clinic_id: str, session_type: str, start: datetime) -> dict[str, Any]:
    """What a patient's page may say of a session: the clinic, the session and its local time."""
    clinic = uses.configuration.clinic(clinic_id)
    return {
        "clinic": clinic.profile.name,
        "session": uses.rules.session_types[session_type].label,
        "startLocal": start.astimezone(clinic.profile.zone).isoformat(),
        "timeZone": clinic.profile.zone.key,
    }
