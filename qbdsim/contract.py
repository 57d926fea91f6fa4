"""Conductor's OpenAPI description (``qbdsim/openapi/conductor.yml``) as the simulator reads it.

The spec is the contract: response objects are built from its schemas (every property present),
request bodies and query strings are validated against it, and the conformance tests check every
response against it. It is parsed once per process.
"""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

SPEC_PATH = Path(__file__).with_name("openapi") / "conductor.yml"
QBD_PREFIX = "/quickbooks-desktop"

_lock = threading.Lock()
_cache: dict[str, object] = {}


def load_spec() -> dict:
    """The parsed spec (cached; libyaml's C loader when available, it parses in about a second)."""
    with _lock:
        if "spec" not in _cache:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            with SPEC_PATH.open(encoding="utf-8") as fh:
                _cache["spec"] = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
        return _cache["spec"]  # type: ignore[return-value]


def component(name: str) -> dict:
    """``components.schemas[name]``."""
    return load_spec()["components"]["schemas"][name]


def operation(method: str, path: str) -> dict:
    """The operation for ``method`` on a spec path such as ``/quickbooks-desktop/customers``."""
    return load_spec()["paths"][path][method.lower()]


def body_schema(method: str, path: str) -> dict | None:
    """The JSON request-body schema of an operation, or ``None`` when it takes no body."""
    body = operation(method, path).get("requestBody")
    if not body:
        return None
    return body["content"]["application/json"]["schema"]


def query_parameters(method: str, path: str) -> list[dict]:
    """The ``in: query`` parameters of an operation, in spec order."""
    return [p for p in operation(method, path).get("parameters", []) if p["in"] == "query"]


def response_schema(method: str, path: str) -> dict:
    """The JSON schema of an operation's 200 response (``$ref``s left in place)."""
    response = operation(method, path)["responses"]["200"]
    return response["content"]["application/json"]["schema"]


def _deref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = component(schema["$ref"].rsplit("/", 1)[-1])
    return schema


def _non_null(schema: dict) -> dict:
    """The non-null branch of an ``anyOf: [X, null]`` property schema."""
    for option in schema.get("anyOf", ()):
        if option.get("type") != "null":
            return _deref(option)
    return _deref(schema)


def object_fields(schema_name: str) -> tuple[dict, tuple[str, ...]]:
    """A blank instance of a response object (every property ``None``) and its array properties.

    ``objectType`` is preset from the schema's ``const``.
    """
    key = f"fields:{schema_name}"
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        schema = component(schema_name)
        blank: dict = {}
        arrays = []
        for name, prop in schema["properties"].items():
            prop = _deref(prop)
            blank[name] = prop.get("const")
            if prop.get("type") == "array":
                arrays.append(name)
        cached = (blank, tuple(arrays))
        with _lock:
            _cache[key] = cached
    return cached  # type: ignore[return-value]


def nullable_fields(schema_name: str) -> frozenset[str]:
    """The properties of a component schema that may be ``null``."""
    key = f"nullable:{schema_name}"
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        properties = component(schema_name)["properties"]
        cached = frozenset(
            name
            for name, prop in properties.items()
            if any(option.get("type") == "null" for option in prop.get("anyOf", ()))
        )
        with _lock:
            _cache[key] = cached
    return cached  # type: ignore[return-value]


def property_schema(schema_name: str, prop: str) -> dict:
    """The (dereferenced, non-null) schema of one property of a component schema."""
    return _non_null(component(schema_name)["properties"][prop])


def nested_object_name(schema_name: str, prop: str) -> str | None:
    """The component name behind an object- or array-valued property, if it is a ``$ref``."""
    raw = component(schema_name)["properties"][prop]
    candidates = [raw, *raw.get("anyOf", ())]
    candidates += [option["items"] for option in candidates if option.get("type") == "array"]
    for option in candidates:
        if "$ref" in option:
            return option["$ref"].rsplit("/", 1)[-1]
    return None


def response_validator(method: str, path: str, status: int = 200):
    """A ``jsonschema`` validator for an operation's response (errors: ``ErrorResponse``).

    OpenAPI 3.1 schemas are JSON Schema 2020-12; the spec's ``components`` are embedded in the
    root so its ``#/components/...`` references resolve. Needs the ``jsonschema`` package.
    """
    from jsonschema import Draft202012Validator  # test-time dependency

    if status == 200:
        schema = dict(response_schema(method, path))
    else:
        schema = {"$ref": "#/components/schemas/ErrorResponse"}
    schema["components"] = load_spec()["components"]
    return Draft202012Validator(schema)
