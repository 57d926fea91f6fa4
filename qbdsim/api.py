"""The Conductor REST surface under ``/v1/quickbooks-desktop``.

Every request goes through the same steps Conductor takes: count it, check the secret key and
end-user, validate the query string and body against the spec, then hold QuickBooks (latency,
faults, one request at a time) while the handler reads or writes the company.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import Blueprint, Response, current_app, g, request

from qbdsim import contract, handlers, validate
from qbdsim.errors import authentication, invalid_request
from qbdsim.handlers import Call
from qbdsim.resources import RESOURCES, Resource
from qbdsim.store import dumps

bp = Blueprint("conductor", __name__, url_prefix="/v1")
ID_MAX_LENGTH = 36
END_USER_HEADER = "Conductor-End-User-Id"
REQUEST_ID_HEADER = "Conductor-Request-Id"


@dataclass(frozen=True)
class Operation:
    """One Conductor operation: its method, spec path and handler."""

    method: str
    spec_path: str
    handler: Callable
    resource: Resource | None = None
    writes: bool = False  # a create or update: its answer may be lost (``lost_response_rate``)

    @property
    def stats_key(self) -> str:
        """``"POST /v1/quickbooks-desktop/customers/{id}"``."""
        return f"{self.method} /v1{self.spec_path}"


def new_request_id() -> str:
    """A ``req_...`` id for the ``Conductor-Request-Id`` header and error bodies."""
    return f"req_{secrets.token_hex(10)}"


def json_response(payload, status: int = 200) -> Response:
    """A JSON response carrying the request id header."""
    body = payload if isinstance(payload, bytes) else dumps(payload)
    response = Response(body, status=status, mimetype="application/json")
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or new_request_id()
    return response


def _authenticate(config) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise authentication(
            "Missing API key. Send your secret key in the Authorization header as "
            '"Bearer <secret key>".'
        )
    if not hmac.compare_digest(token.strip().encode(), config.secret_key.encode()):
        raise authentication("Invalid API key provided.")
    end_user = request.headers.get(END_USER_HEADER)
    if not end_user:
        raise invalid_request(f'Missing required header "{END_USER_HEADER}"')
    if end_user != config.end_user_id:
        raise invalid_request(
            f'No end-user found with id "{end_user}".', status=404, code="RESOURCE_MISSING"
        )


def _body(op: Operation) -> dict:
    """The validated JSON body (DELETE and void requests carry none worth reading)."""
    if op.method != "POST" or contract.body_schema(op.method, op.spec_path) is None:
        return {}
    raw = request.get_data()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_request("The request body is not valid JSON") from None
    return validate.validate_body(op.method, op.spec_path, body)


def dispatch(op: Operation, **path_args) -> Response:
    """Run one Conductor operation end to end."""
    arrived = time.monotonic()
    g.request_id = new_request_id()
    sim = current_app.extensions["qbdsim"]
    sim.count(op.stats_key)
    _authenticate(sim.config)
    record_id = path_args.get("record_id")
    if record_id is not None and len(record_id) > ID_MAX_LENGTH:
        raise invalid_request(
            f'Too big: expected string to have <={ID_MAX_LENGTH} characters at "id"'
        )
    params = validate.parse_query(op.method, op.spec_path, request.args)
    body = _body(op)
    with sim.request(), sim.quickbooks(write=op.writes):
        company = sim.company
        with company.lock:
            call = Call(params, body, record_id, arrived, company)
            payload = op.handler(sim, call, op.resource)
    return json_response(payload)


def unknown_route(rest: str) -> Response:
    """Anything else under ``/v1``."""
    g.request_id = new_request_id()
    current_app.extensions["qbdsim"].count(f"{request.method} {request.path}")
    raise invalid_request(
        f"Unrecognized request URL ({request.method}: {request.path}).",
        status=404,
        code="RESOURCE_MISSING",
    )


def _register(op: Operation, rule: str, endpoint: str) -> None:
    bp.add_url_rule(rule, endpoint, partial(dispatch, op), methods=[op.method])


def _operations_for(res: Resource) -> None:
    base = f"/quickbooks-desktop/{res.path}"
    one = f"{base}/<record_id>"
    _register(
        Operation("GET", res.collection_path, handlers.list_records, res), base, f"{res.path}:list"
    )
    _register(Operation("GET", res.item_path, handlers.retrieve, res), one, f"{res.path}:get")
    if not res.writable:
        return
    _register(
        Operation("POST", res.collection_path, handlers.create, res, writes=True),
        base,
        f"{res.path}:create",
    )
    if res.updatable:
        _register(
            Operation("POST", res.item_path, handlers.update, res, writes=True),
            one,
            f"{res.path}:update",
        )
    if res.deletable:
        _register(
            Operation("DELETE", res.item_path, handlers.delete, res), one, f"{res.path}:delete"
        )
    if res.voidable:
        _register(
            Operation("POST", f"{res.item_path}/void", handlers.void, res),
            f"{one}/void",
            f"{res.path}:void",
        )


for _res in RESOURCES.values():
    _operations_for(_res)
_register(
    Operation("GET", "/quickbooks-desktop/transactions", handlers.list_transactions),
    "/quickbooks-desktop/transactions",
    "transactions:list",
)
_register(
    Operation("GET", "/quickbooks-desktop/transactions/{id}", handlers.retrieve_transaction),
    "/quickbooks-desktop/transactions/<record_id>",
    "transactions:get",
)
for _name, _handler in (
    ("deleted-list-objects", handlers.deleted_list_objects),
    ("deleted-transactions", handlers.deleted_transactions),
    ("health-check", handlers.health_check),
):
    _register(
        Operation("GET", f"/quickbooks-desktop/{_name}", _handler),
        f"/quickbooks-desktop/{_name}",
        _name,
    )
bp.add_url_rule(
    "/<path:rest>",
    "unknown",
    unknown_route,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
)
