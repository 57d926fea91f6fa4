"""Scripted answers: the next Conductor requests answered as told, one answer each, in turn
(``POST /_sim/answers``). Tests use them to meet every status and QuickBooks code a client
must tell apart, without waiting for a random fault to come up.

Each answer is one of:

- ``{"status": 503, "type"?, "code"?, "integrationCode"?, "message"?}``: an error in Conductor's
  envelope (``httpStatusCode`` = the status). What is left out follows the status: 401
  ``AUTHENTICATION_ERROR``, 403 ``PERMISSION_ERROR``, 5xx ``INTERNAL_ERROR``, other 4xx
  ``INVALID_REQUEST_ERROR``. With an ``integrationCode`` and no type, a 502
  ``INTEGRATION_ERROR`` / ``QBD_REQUEST_ERROR`` as QuickBooks' own refusals come.
- ``{"drop": true}``: the connection closed without an answer (before any work is done).
- ``{"delay_ms": N}``: the request answered normally, N ms late (a client timeout below it).

``{"answers": [...]}`` appends to the script (``"replace": true`` starts it over); the script
empties on ``/_sim/reset``. Answers are taken in the order requests reach QuickBooks (one at a
time), and an SDK retry is a request of its own: it takes the next answer.
"""

from __future__ import annotations

import threading
from collections import deque

from qbdsim.errors import MASKED_MESSAGE, ResponseLost, SimError, invalid_request

ERROR_TYPES = ("INTEGRATION_ERROR", "INTEGRATION_CONNECTION_ERROR", "INVALID_REQUEST_ERROR",
               "AUTHENTICATION_ERROR", "PERMISSION_ERROR", "INTERNAL_ERROR")
_DEFAULT_CODES = {400: "INVALID_REQUEST", 401: "API_KEY_INVALID", 403: "PERMISSION_DENIED",
                  404: "RESOURCE_MISSING", 408: "REQUEST_TIMEOUT", 409: "CONFLICT",
                  422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS",
                  500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE",
                  504: "GATEWAY_TIMEOUT"}
_KEYS = {"status", "type", "code", "integrationCode", "message", "drop", "delay_ms"}


class Script:
    """The answers still to give, shared by the request threads."""

    def __init__(self) -> None:
        self._answers: deque[dict] = deque()
        self._lock = threading.Lock()

    def load(self, body: dict) -> int:
        """Validate and queue ``body["answers"]`` (all or none); answers how many are queued."""
        answers = body.get("answers")
        if not isinstance(answers, list):
            raise invalid_request('"answers" must be a list of answers')
        checked = [_checked(answer) for answer in answers]
        with self._lock:
            if body.get("replace"):
                self._answers.clear()
            self._answers.extend(checked)
            return len(self._answers)

    def pending(self) -> list[dict]:
        with self._lock:
            return list(self._answers)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def take(self) -> SimError | ResponseLost | float | None:
        """The next answer as what to do: an error to raise, seconds to delay, or ``None``
        when the script is empty (the request is served as usual)."""
        with self._lock:
            if not self._answers:
                return None
            answer = self._answers.popleft()
        if answer.get("drop"):
            return ResponseLost()
        if "delay_ms" in answer:
            return answer["delay_ms"] / 1000.0
        return _error(answer)


def _checked(answer) -> dict:
    if not isinstance(answer, dict) or not answer:
        raise invalid_request("Each answer must be a JSON object")
    unknown = set(answer) - _KEYS
    if unknown:
        raise invalid_request(f"Unknown answer fields: {sorted(unknown)}")
    forms = [key for key in ("status", "drop", "delay_ms") if key in answer]
    if len(forms) != 1:
        raise invalid_request('An answer has exactly one of "status", "drop" or "delay_ms"')
    if "drop" in answer:
        if answer["drop"] is not True or len(answer) > 1:
            raise invalid_request('"drop" must be true, alone')
        return dict(answer)
    if "delay_ms" in answer:
        value = answer["delay_ms"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise invalid_request('"delay_ms" must be a number >= 0')
        if len(answer) > 1:
            raise invalid_request('"delay_ms" comes alone')
        return dict(answer)
    status = answer["status"]
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise invalid_request('"status" must be an HTTP error status (400-599)')
    if "type" in answer and answer["type"] not in ERROR_TYPES:
        raise invalid_request(f'"type" must be one of {list(ERROR_TYPES)}')
    for key in ("code", "integrationCode", "message"):
        if key in answer and (not isinstance(answer[key], str) or not answer[key]):
            raise invalid_request(f'"{key}" must be a non-empty string')
    return dict(answer)


def _default_type(status: int, integration_code: str | None) -> str:
    if integration_code is not None:
        return "INTEGRATION_ERROR"
    if status == 401:
        return "AUTHENTICATION_ERROR"
    if status == 403:
        return "PERMISSION_ERROR"
    return "INTERNAL_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR"


def _error(answer: dict) -> SimError:
    status = answer["status"]
    integration = answer.get("integrationCode")
    type_ = answer.get("type") or _default_type(status, integration)
    if type_ == "INTEGRATION_ERROR":
        code = answer.get("code") or "QBD_REQUEST_ERROR"
        text = answer.get("message") or "QuickBooks refused the request (scripted)."
        message = f"QBD Request Error ({integration}): {text}" if integration else text
        user_facing = f"QuickBooks Desktop could not complete the request: {text}"
    else:
        code = answer.get("code") or _DEFAULT_CODES.get(status, f"HTTP_{status}")
        message = answer.get("message") or f"Scripted {status} {code}."
        user_facing = MASKED_MESSAGE
    return SimError(status, type_, code, message, user_facing, integration)
