"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description, generated from the operations the
layer recorded and the same pydantic models that validate them."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webapp.api import bp
from webapp.api.layer import OPERATIONS, Operation, operation
from webapp.api.schemas import MAX_ID, ErrorDocument, OpenAPIDocument

REF_TEMPLATE = "#/components/schemas/{model}"
API_VERSION = "1.0.0"
DESCRIPTION = """\
qbsync keeps a warehouse-management database and a QuickBooks Desktop company file in step.
This API starts, watches and cancels syncs and lists their history and errors.

Authentication: `Authorization: Bearer <token>` (create one with `qbsync tokens create EMAIL`),
or the dashboard's login session, in which case POST requests also need the `X-CSRFToken` header.
Tokens in the query string are refused. Every error is `{"error": {"code", "message"}}`."""

# Answers any authenticated operation can give, whatever its own responses.
COMMON_RESPONSES: dict[int, str] = {
    400: "The request was refused (for example a token in the URL, or a missing CSRF header).",
    401: "No valid login session or API token.",
}
SERVER_ERROR = "Something failed on the server; the body never contains internals."
# Answers of any operation that takes a body.
BODY_RESPONSES: dict[int, str] = {
    411: "A chunked request body the server in front could not read; send Content-Length.",
    413: "The request body is larger than the server takes (1 MiB).",
    415: "The request body is not JSON (send Content-Type: application/json).",
}


@operation(bp, "GET", "/openapi.json", summary="This description", tag="meta",
           responses={200: (OpenAPIDocument, "The OpenAPI 3.1 document.")})
def openapi_json():
    """The OpenAPI 3.1 description of every endpoint, request, response and error."""
    return build_spec()


@functools.cache
def build_spec() -> dict[str, Any]:
    """Build (once per process) the OpenAPI document from the recorded operations."""
    schemas = _component_schemas(OPERATIONS)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_object(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "qbsync API", "version": API_VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `qbsync tokens create EMAIL`.",
                }
            },
        },
    }


def _component_schemas(operations: list[Operation]) -> dict[str, Any]:
    inputs = {op.body for op in operations if op.body is not None}
    outputs = {m for op in operations for m, _ in op.responses.values()} | {ErrorDocument}
    pairs = [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs]
    pairs.sort(key=lambda pair: pair[0].__name__)
    _, top = models_json_schema(pairs, ref_template=REF_TEMPLATE)
    return dict(sorted(top.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _json_content(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


def _operation_object(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    declared = dict(op.responses)
    if not op.public:
        for status, text in COMMON_RESPONSES.items():
            declared.setdefault(status, (ErrorDocument, text))
    if op.body is not None:
        for status, text in BODY_RESPONSES.items():
            declared.setdefault(status, (ErrorDocument, text))
    declared.setdefault(500, (ErrorDocument, SERVER_ERROR))
    for status in sorted(declared):
        model, text = declared[status]
        responses[str(status)] = {"description": text, "content": _json_content(model)}
    result: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[-1],
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_parameters(op) + _query_parameters(op),
        "responses": responses,
    }
    if op.description:
        result["description"] = op.description
    if op.public:
        result["security"] = []
    if op.body is not None:
        result["requestBody"] = {"required": False, "content": _json_content(op.body)}
    return result


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    params = []
    for name, converter in op.path_params:
        schema = (
            {"type": "integer", "minimum": 1, "maximum": MAX_ID, "examples": [1]}
            if converter == "int"
            else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _without_null(prop)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append(param)
    return params


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of `X | None`."""
    prop = dict(prop)
    prop.pop("title", None)
    variants = [v for v in prop.pop("anyOf", []) if v.get("type") != "null"]
    if len(variants) == 1:
        prop.update(variants[0])
    if prop.get("default", ...) is None:
        prop.pop("default")
    return prop
