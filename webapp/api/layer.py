"""A thin typed layer over Flask routes: each API view declares its query, body and responses as
pydantic models; the layer validates the request, validates the answer, and records the
operation so `webapp.api.openapi` can describe it. Smaller than spectree or flask-openapi3, and
it answers every failure in the API's one error shape."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from webapp.api.schemas import MAX_ID
from webapp.security import json_error
from webapp.sync.manager import MAX_PAGE_LIMIT

log = logging.getLogger(__name__)

# A field's failures get their own code, so clients can tell a bad mode from a bad cursor.
FIELD_ERROR_CODES = {
    "mode": "invalid_mode",
    "limit": "invalid_limit",
    "cursor": "invalid_cursor",
}
FIELD_ERROR_MESSAGES = {
    "mode": 'mode must be "incremental" or "full".',
    "limit": f"limit must be a whole number from 1 to {MAX_PAGE_LIMIT}.",
}
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


class ApiError(Exception):
    """Raise in a view to answer `{"error": {"code", "message"}}` with `status`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Operation:
    """One method + path of the API, as the OpenAPI description shows it."""

    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    responses: dict[int, tuple[type[BaseModel], str]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    public: bool = False
    path_params: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The OpenAPI path: `/api/v1/sessions/{session_id}`."""
        return _PATH_PARAM.sub(r"{\2}", self.rule)


OPERATIONS: list[Operation] = []


def operation(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    responses: dict[int, tuple[type[BaseModel], str]],
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    public: bool = False,
) -> Callable:
    """Register a view on `bp` for `method rule`, validated by the given models.

    The view receives path parameters, plus `query=` and `body=` model instances when declared,
    and returns a payload (status 200), `(status, payload)` or `(status, payload, headers)`.
    Every status it can return must be declared in `responses`.
    """

    def decorator(view: Callable) -> Callable:
        full_rule = (bp.url_prefix or "") + rule
        op = Operation(
            method=method.upper(),
            rule=full_rule,
            endpoint=f"{bp.name}.{view.__name__}",
            summary=summary,
            description=(view.__doc__ or "").strip(),
            tag=tag,
            responses=responses,
            body=body,
            query=query,
            public=public,
            path_params=[(name, conv or "string") for conv, name in _PATH_PARAM.findall(rule)],
        )

        @functools.wraps(view)
        def wrapper(**path_args: Any):
            try:
                _check_path(op, path_args)
                kwargs = dict(path_args)
                if query is not None:
                    kwargs["query"] = _validate(query, _query())
                if body is not None:
                    kwargs["body"] = _validate(body, _json_body())
                return _respond(op, view(**kwargs))
            except ApiError as error:
                return json_error(error.status, error.code, error.message)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[op.method])
        OPERATIONS.append(op)
        return wrapper

    return decorator


def _check_path(op: Operation, path_args: dict[str, Any]) -> None:
    for name, converter in op.path_params:
        if converter == "int" and not 1 <= path_args[name] <= MAX_ID:
            raise ApiError(404, "not_found", f"There is no {name.replace('_id', '')} with that id.")


def _json_body() -> Any:
    """The body as JSON. A body of another kind (a form, multipart) is refused with 415, never
    read as empty: a cross-site form post must not start a sync of everything. A body with
    no type at all is taken as JSON; an empty one as `{}`."""
    if request.mimetype and not _is_json_type(request.mimetype):
        raise ApiError(415, "unsupported_media_type",
                       "Send the request body as JSON (Content-Type: application/json).")
    raw = _read_body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None


def _is_json_type(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def _read_body() -> bytes:
    """The body, at most MAX_CONTENT_LENGTH bytes: longer is a 413, chunked too (Werkzeug's
    limit on the stream). A chunked body the server did not de-chunk would read as empty, so
    as `{}`: it is refused instead."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    limit = request.max_content_length
    if not chunked or limit is None:
        return request.get_data(cache=True)  # a declared length too long is Werkzeug's 413
    if not request.environ.get("wsgi.input_terminated"):
        raise ApiError(411, "length_required",
                       "Send the request body with a Content-Length header.")
    # Werkzeug would cut a chunked body at the limit, silently: read one byte more here.
    raw = request.environ["wsgi.input"].read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, "request_entity_too_large",
                       f"The request body is larger than {limit} bytes.")
    return raw


def _query() -> dict[str, str]:
    """The query string; a value with control characters (NUL among them, which PostgreSQL
    cannot store or compare) is refused."""
    args = request.args.to_dict()
    for name, value in args.items():
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
            raise ApiError(400, FIELD_ERROR_CODES.get(name, "invalid_request"),
                           f"{name} must not contain control characters.")
    return args


def _validate(model: type[BaseModel], data: Any) -> BaseModel:
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _as_api_error(error) from None


def _as_api_error(error: ValidationError) -> ApiError:
    first = error.errors(include_url=False, include_context=False, include_input=False)[0]
    loc = [str(part) for part in first["loc"]]
    name = loc[0] if loc else "body"
    where = ".".join(loc) or "body"
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(first_model_fields(error))
        return ApiError(400, "invalid_request", f"Unexpected field {where!r}; send only {allowed}.")
    message = FIELD_ERROR_MESSAGES.get(name) or f"{where}: {first['msg']}."
    return ApiError(400, FIELD_ERROR_CODES.get(name, "invalid_request"), message)


def first_model_fields(error: ValidationError) -> list[str]:
    """The fields of the model that raised `error` (for a helpful message)."""
    from webapp.api import schemas

    model = getattr(schemas, error.title, None)
    return list(model.model_fields) if model else []


def _respond(op: Operation, result: Any) -> Response:
    status, payload, headers = 200, result, {}
    if isinstance(result, tuple):
        status, payload, *rest = result
        headers = rest[0] if rest else {}
    if status not in op.responses:
        raise RuntimeError(f"{op.endpoint} answered {status}, which it does not declare")
    model = op.responses[status][0]
    document = payload if isinstance(payload, model) else model.model_validate(payload)
    response = jsonify(document.model_dump(mode="json"))
    response.status_code = status
    response.headers.update(headers)
    return response
