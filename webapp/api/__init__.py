"""JSON API v1 (DESIGN §7), under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from webapp.api import health, objects  # noqa: E402,F401 - registers the routes
