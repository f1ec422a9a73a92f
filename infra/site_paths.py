"""The web client's paths, one table for the hosted site (infra/constructs/site.py) and the
local server (local/server.py): which web/ file each page path opens, and which npm file
each /vendor/ name is. Plain Python, no CDK: the local server imports it."""

from __future__ import annotations

# Patient links open /patient/...; clinicians' page links /patient/escalations/<id> and
# /patient/tasks/<id> open the board.
PAGES = {
    "/": "index.html",
    "/patient/survey": "survey.html",
    "/patient/confirm": "confirm.html",
    "/patient/offer": "offer.html",
}
STAFF_LINKS = r"^/patient/(escalations|tasks)/[A-Za-z0-9-]+$"
API_EXPLORER = {"/docs": "docs.html"}  # not shipped to production
LOCAL_ONLY = {"/outbox": "outbox.html"}  # reads the local stack's outbox; nothing to show deployed
VENDOR = {  # /vendor/<name>: the npm files the pages load (package.json pins them)
    "chart.js": "chart.js/dist/chart.umd.js",
    "amazon-cognito-identity.js": "amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js",
    "qrcode.mjs": "qrcode-generator/dist/qrcode.mjs",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
}
EXPLORER_VENDOR = {"swagger-ui.css", "swagger-ui-bundle.js"}
