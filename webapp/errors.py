"""Error pages and JSON errors; nothing internal (tracebacks, Conductor payloads) leaks out."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.security import PLAIN_HTTP_NOTE, json_error, plain_http_blocks_login

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _csrf_error(error: CSRFError):
    message = f"The request was refused: {error.description}"
    if plain_http_blocks_login():
        message += f" {PLAIN_HTTP_NOTE}"
    if _is_api():
        return json_error(400, "csrf_failed", message + " Send the X-CSRFToken header.")
    return render_template("error.html", code=400, message=message), 400


def _http_error(error: HTTPException):
    code = error.code or 500
    name = (error.name or "error").lower().replace(" ", "_")
    if _is_api():
        return json_error(code, name, error.description or error.name)
    return render_template("error.html", code=code, message=error.description), code


def _unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    if isinstance(error, HTTPException):  # pragma: no cover - routed above
        return _http_error(error)
    message = "Something went wrong on our side. It has been logged; please try again."
    if _is_api():
        return json_error(500, "internal_error", message)
    return render_template("error.html", code=500, message=message), InternalServerError.code
