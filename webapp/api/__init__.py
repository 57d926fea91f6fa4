"""JSON API v1 (DESIGN §7), under /api/v1. Every view is declared through `webapp.api.layer`,
which validates it with the models of `webapp.api.schemas` and describes it in openapi.json."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The order here is the order of the OpenAPI description.
from webapp.api import health, objects, sessions, conflicts, records, record_actions  # noqa: E402,F401,I001
from webapp.api import status, openapi  # noqa: E402,F401,I001
