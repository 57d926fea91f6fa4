"""The simulator's Flask application."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from qbdsim import api, control
from qbdsim.errors import SimError
from qbdsim.simulator import Simulator


def create_app(simulator: Simulator) -> Flask:
    """A Flask app serving ``simulator``: Conductor under ``/v1``, controls under ``/_sim``."""
    app = Flask("qbdsim")
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["qbdsim"] = simulator
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_error_handler(SimError, _sim_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _envelope(error: SimError):
    request_id = g.get("request_id") or api.new_request_id()
    g.request_id = request_id
    return api.json_response(error.envelope(request_id), error.status)


def _sim_error(error: SimError):
    if request.path.startswith("/_sim/"):
        return jsonify(error.envelope("req_sim_control")), error.status
    return _envelope(error)


def _http_error(error: HTTPException):
    if request.path.startswith("/v1/"):
        return _envelope(
            SimError(
                error.code or 500, "INVALID_REQUEST_ERROR", "INVALID_REQUEST", error.description
            )
        )
    return jsonify({"error": {"message": error.description, "httpStatusCode": error.code}}), (
        error.code
    )


def _unexpected_error(error: Exception):
    current_app.logger.exception("qbdsim: unexpected error on %s %s", request.method, request.path)
    return _envelope(
        SimError(
            500,
            "INTERNAL_ERROR",
            "INTERNAL_SERVER_ERROR",
            f"An internal server error occurred: {type(error).__name__}",
        )
    )
