"""The simulator's Flask application."""

from __future__ import annotations

import socket
from contextlib import suppress

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from qbdsim import api, control
from qbdsim.errors import ResponseLost, SimError
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
    app.register_error_handler(ResponseLost, _lose_response)
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


def _lose_response(lost: ResponseLost):
    """Close the connection without a byte of answer (the write stays applied).

    The body fails before anything is sent, which the server takes for a dropped
    connection; shutting the socket first ends the keep-alive connection at once, so the
    client sees the server disconnect instead of waiting for an answer that never comes."""
    sock = request.environ.get("werkzeug.socket")

    def nothing():
        if sock is not None:
            with suppress(OSError):  # the client is already gone
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError(str(lost))
        yield b""  # a generator: the server runs it only when it sends the body

    return Response(nothing(), mimetype="application/json")


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
