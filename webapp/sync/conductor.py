"""Conductor access in one place: the client, raw-JSON calls, and error classification.

* The client is built with explicit timeouts. Idempotent reads keep the SDK's retries; cursor
  requests and writes never retry inside the SDK (a retried cursor request skips a page, a
  retried create can duplicate a record — FACTS §2.2, §8).
* Responses are read as raw JSON (orjson): building the SDK's typed models costs ~3x the time.
* Calls are serialised per process: QuickBooks answers one request at a time anyway.
* Every Conductor error is classified once (DESIGN §5, FACTS §4): transient (retry later and
  resume), record (this record fails, the page goes on), or fatal (the session fails).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import conductor
import httpx
import orjson

PATH_PREFIX = "/quickbooks-desktop/"
CONNECT_TIMEOUT_S = 10.0
READ_RETRIES = 2
LOCK_POLL_S = 0.01  # see QuickBooks._send: short, as a freed turn is taken this late

TRANSIENT, RECORD, FATAL, CURSOR = "transient", "record", "fatal", "cursor"

QB_NOT_RUNNING = (
    "QuickBooks Desktop is not reachable: it may be closed, the company file may not be open, "
    "or a QuickBooks window is waiting for someone to click OK. Open QuickBooks on the "
    "accounting computer; the sync retries by itself."
)
NOT_SET_UP = (
    "The QuickBooks connection has not been set up in Conductor yet. Finish connecting "
    "QuickBooks Desktop, then start the sync again."
)
UNREACHABLE = "Conductor could not be reached at {url} ({why}). {hint}"
# What to set when the address is wrong: said with every failed attempt (the CLI prints them)
WHERE_SET = ("Set CONDUCTOR_BASE_URL to where Conductor or the QuickBooks simulator listens "
             "(`qbsync demo --sim-port P` serves it at http://127.0.0.1:P/v1).")
WHERE_DEFAULT = ("That is Conductor's own address (CONDUCTOR_BASE_URL is not set): check this "
                 "server's internet connection.")
BAD_KEY = (
    "Conductor refused qbsync's API key. Check CONDUCTOR_SECRET_KEY and "
    "CONDUCTOR_END_USER_ID in the app's settings."
)
RECORD_CODES = {"3100", "3140", "500", "3000", "3020", "3030", "3031", "3070", "3090", "3120",
                "3180", "3200", "3171", "3250", "3260"}
# What QuickBooks answers a lookup by id that it does not hold (FACTS §4.3)
NOT_FOUND_CODES = {"qb_500", "qb_3000", "qb_3120"}
IN_USE_CODES = {"3170", "3175"}


class QuickBooksError(Exception):
    """A classified Conductor failure: `kind` says what to do, `message` says it plainly."""

    def __init__(self, kind: str, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind, self.code, self.message, self.status = kind, code, message, status

    @property
    def retryable(self) -> bool:
        return self.kind in (TRANSIENT, CURSOR)


# QuickBooks Desktop (or the way to it) is not answering: closed, busy with a dialog, the PC off.
QB_DOWN_CODES = ("QBD_CONNECTION_ERROR", "INTEGRATION_CONNECTION_NOT_ACTIVE", "QBD_REQUEST_TIMEOUT")


def classify(error: Exception, *, cursor: bool = False) -> QuickBooksError:
    """Turn any exception from the SDK into a `QuickBooksError` (once, here)."""
    if isinstance(error, QuickBooksError):
        return error
    if isinstance(error, conductor.APITimeoutError):
        kind = CURSOR if cursor else TRANSIENT
        return QuickBooksError(kind, "timeout", "QuickBooks did not answer in time.")
    if isinstance(error, conductor.APIConnectionError):
        kind = CURSOR if cursor else TRANSIENT
        return QuickBooksError(kind, "connection", "Conductor could not be reached.")
    if not isinstance(error, conductor.APIStatusError):
        raise error
    status = error.status_code
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("error") if isinstance(body.get("error"), dict) else {}
    etype, code = str(detail.get("type") or ""), str(detail.get("code") or f"http_{status}")
    integration = str(detail.get("integrationCode") or "")
    text = str(detail.get("message") or detail.get("userFacingMessage") or f"HTTP {status}")
    if cursor and etype not in ("AUTHENTICATION_ERROR", "PERMISSION_ERROR"):
        # A failed cursor request leaves the listing in an unknown place (it is not
        # idempotent): whatever the failure, the listing restarts from its checkpoint.
        return QuickBooksError(CURSOR, code, text, status)
    if etype == "AUTHENTICATION_ERROR" or status == 401:
        return QuickBooksError(FATAL, code, BAD_KEY, status)
    if etype == "PERMISSION_ERROR" or status == 403:
        return QuickBooksError(FATAL, code, f"Conductor refused the request: {text}", status)
    if code == "INTEGRATION_CONNECTION_NOT_SET_UP":
        return QuickBooksError(FATAL, code, NOT_SET_UP, status)
    if etype == "INTEGRATION_CONNECTION_ERROR" or code in QB_DOWN_CODES:
        return QuickBooksError(TRANSIENT, code, QB_NOT_RUNNING, status)
    if integration in IN_USE_CODES:
        return QuickBooksError(TRANSIENT, f"qb_{integration}", text, status)
    if status in (408, 409, 429):  # what the SDK retries (FACTS §4.4), whatever the type says
        return QuickBooksError(TRANSIENT, code, text, status)
    if etype == "INTEGRATION_ERROR" and integration in RECORD_CODES:
        return QuickBooksError(RECORD, f"qb_{integration}", text, status)
    if etype == "INVALID_REQUEST_ERROR" or status in (400, 404, 422):
        return QuickBooksError(RECORD, code, text, status)
    if status >= 500:
        return QuickBooksError(TRANSIENT, code, text, status)
    return QuickBooksError(FATAL, code, text, status)


def records_of(answer: Any, resource: str) -> list[dict[str, Any]]:
    """The records of a list answer (`data`), those that are objects; an answer without them
    fails plainly (the same answer would come again: no retry)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise QuickBooksError(FATAL, "bad_response",
                              f"QuickBooks sent a list of {resource} without its records.")
    return [record for record in data if isinstance(record, dict)]


def _root_cause(error: BaseException) -> str:
    """The innermost cause's words ("Connection refused"), without errno's number."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(error)).strip()
    return text.rstrip(".") or type(error).__name__


@dataclass
class CallCounter:
    """Counts every HTTP request sent, SDK retries included (an httpx event hook)."""

    calls: int = 0

    def __call__(self, _request: httpx.Request) -> None:
        self.calls += 1


class Wire:
    """Tells listeners the moment a request has left: its last byte sent (httpcore's trace
    events, in the sending thread). The page prefetcher waits for it before the page in hand
    is written, so the request is not held back by that Python work (see paging)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each request sent from now on; returns how to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def attach(self, request: httpx.Request) -> None:
        """An httpx request hook: every request of the client reports to this wire."""
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, _info: dict) -> None:
        if event.endswith(".send_request_body.complete"):
            for listener in tuple(self._listeners):
                listener()


class QuickBooks:
    """One company file (Conductor end user), spoken to in raw JSON."""

    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, *, api_key: str, end_user_id: str, base_url: str | None = None,
                 timeout_s: float = 120.0) -> None:
        self.end_user_id = end_user_id
        self.where_hint = WHERE_SET if base_url else WHERE_DEFAULT
        self.counter = CallCounter()
        self.wire = Wire()
        http = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            event_hooks={"request": [self.counter, self.wire.attach]},
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )
        self._reader = conductor.Conductor(
            api_key=api_key, base_url=base_url, http_client=http, max_retries=READ_RETRIES,
            timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
        )
        self._strict = self._reader.with_options(max_retries=0)
        # Told after each request whether it reached QuickBooks (webapp.sync.contact)
        self.on_contact: Callable[[bool], None] | None = None
        self._closed = False
        with self._locks_guard:
            self._lock = self._locks.setdefault(end_user_id, threading.Lock())

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> QuickBooks:
        return cls(
            api_key=config.get("CONDUCTOR_SECRET_KEY") or "",
            end_user_id=config.get("CONDUCTOR_END_USER_ID") or "",
            base_url=config.get("CONDUCTOR_BASE_URL") or None,
            timeout_s=float(config.get("QBSYNC_REQUEST_TIMEOUT_S") or 120.0),
        )

    @property
    def api_calls(self) -> int:
        return self.counter.calls

    def close(self) -> None:
        """Close the connections. A request still in flight (a prefetch abandoned by a cancel,
        a time limit or a shutdown) fails, and is not taken for QuickBooks being down."""
        self.on_contact = None
        self._closed = True
        self._reader.close()

    def __enter__(self) -> QuickBooks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, client, method: str, resource: str, *, params=None, body=None,
              cursor: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {"headers": {"Conductor-End-User-Id": self.end_user_id}}
        if params:
            options["params"] = {k: v for k, v in params.items() if v is not None}
        path = PATH_PREFIX + resource
        try:
            response = self._send(client, method, path, options, body)
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise QuickBooksError(TRANSIENT, "bad_response",
                                  "Conductor sent an answer that could not be read.") from None
        except (conductor.APIError, httpx.HTTPError) as raised:
            error = raised
            if isinstance(error, httpx.HTTPError):
                error = conductor.APIConnectionError(request=error.request)
            failure = classify(error, cursor=cursor)
            if failure.code == "connection":  # say where it looked, and what says so
                failure.message = UNREACHABLE.format(
                    url=str(client.base_url).rstrip("/"), why=_root_cause(raised),
                    hint=self.where_hint)
                failure.args = (failure.message,)
            self._contact(failure)
            raise failure from error
        self._contact(None)
        return answer

    def _contact(self, failure: QuickBooksError | None) -> None:
        """Tell `on_contact` whether QuickBooks answered: yes for an answer or a record
        rejected, no when it (or the way to it) is down; nothing when that is unknown."""
        if self.on_contact is None:
            return
        if failure is None or failure.kind == RECORD:
            self.on_contact(True)
        elif failure.code in (*QB_DOWN_CODES, "connection", "timeout") or (
                failure.message == QB_NOT_RUNNING):
            self.on_contact(False)

    def _send(self, client, method: str, path: str, options: dict, body) -> httpx.Response:
        """One request at a time per company file. The turn is waited for in short sleeps, so
        a worker's time limit or shutdown lands while another thread's slow request has it
        (an exception raised into this thread inside a timed `acquire` that had just got the
        lock would leave it held for good); a closed client sends nothing."""
        while not self._lock.acquire(blocking=False):
            time.sleep(LOCK_POLL_S)
        try:
            if self._closed:
                raise QuickBooksError(TRANSIENT, "closed", "The QuickBooks client was closed.")
            if method == "get":
                return client.get(path, cast_to=httpx.Response, options=options)
            return client.post(path, cast_to=httpx.Response, body=body or {}, options=options)
        finally:
            self._lock.release()

    def list_page(self, resource: str, params: dict[str, Any], cursor: str | None = None):
        """One page of a paginated list; with `cursor`, never retried inside the SDK."""
        if cursor is None:
            return self._call(self._reader, "get", resource, params=params)
        return self._call(self._strict, "get", resource, params={**params, "cursor": cursor},
                          cursor=True)

    def lookup(self, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Records by `ids=`, never retried inside the SDK: an id QuickBooks does not hold is
        answered with a 502 the SDK would send twice more, after a wait, to the same answer.
        (A transient failure is retried by the engine's caller, from the checkpoint.)"""
        return records_of(self._call(self._strict, "get", resource, params=params), resource)

    def list_all(self, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A non-paginated list (inventory adjustments, deleted objects, accounts)."""
        return records_of(self._call(self._reader, "get", resource, params=params), resource)

    def health_check(self) -> dict[str, Any]:
        return self._call(self._strict, "get", "health-check")

    def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Writes are not idempotent: one attempt, the caller reconciles after a failure."""
        return self._call(self._strict, "post", resource, body=body)

    def update(self, resource: str, qb_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(self._strict, "post", f"{resource}/{qb_id}", body=body)
