"""The API's routes, one module per resource; the order here is the order they are listed
in the OpenAPI document."""

from __future__ import annotations

from . import access_log, appointments, clinics, courses, follow_ups, public, session, staff, waitlist

_MODULES = (clinics, appointments, courses, waitlist, session, follow_ups, access_log, staff, public)
ROUTERS = [module.routes.router for module in _MODULES]
ROUTES = [entry for module in _MODULES for entry in module.routes.policies]
