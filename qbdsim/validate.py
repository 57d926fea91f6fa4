"""Request validation against the spec, worded the way Conductor's Zod validation words it.

Conductor checks bodies and query strings before anything reaches QuickBooks and answers a 400
``INVALID_REQUEST_ERROR`` whose ``message`` carries the Zod text, e.g.
``Too big: expected string to have <=41 characters at "name"``. Request schemas in the spec use
only ``type``, ``properties``, ``required``, ``additionalProperties``, ``items``, ``minItems``,
``maxLength``, ``enum``, ``format`` (date, uuid), ``minimum`` and ``maximum``.
"""

from __future__ import annotations

import re
from datetime import date

from qbdsim import contract
from qbdsim.errors import invalid_request

_INT_RE = re.compile(r"^-?\d+$")
_NUM_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A GUID as QuickBooks takes it: 8-4-4-4-12 hexadecimal digits, either case, nothing around.
_GUID_RE = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _at(path: str) -> str:
    return f' at "{path}"' if path else ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_ok(expected: str, value) -> bool:
    kind = _kind(value)
    if expected == "integer":
        return kind == "number" and float(value).is_integer()
    return kind == expected


def check(schema: dict, value, path: str = "") -> list[str]:
    """Zod-style issues of ``value`` against a request schema (an empty list when valid)."""
    expected = schema.get("type")
    if expected and not _type_ok(expected, value):
        shown = "number" if expected == "integer" else expected
        received = "undefined" if value is _MISSING else _kind(value)
        return [f"Invalid input: expected {shown}, received {received}{_at(path)}"]
    issues: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        options = "|".join(f'"{option}"' for option in schema["enum"])
        issues.append(f"Invalid option: expected one of {options}{_at(path)}")
    if expected == "string":
        issues += _check_string(schema, value, path)
    elif expected in ("number", "integer"):
        if "maximum" in schema and value > schema["maximum"]:
            issues.append(f"Too big: expected number to be <={schema['maximum']}{_at(path)}")
        if "minimum" in schema and value < schema["minimum"]:
            issues.append(f"Too small: expected number to be >={schema['minimum']}{_at(path)}")
    elif expected == "array":
        if len(value) < schema.get("minItems", 0):
            issues.append(
                f"Too small: expected array to have >={schema['minItems']} items{_at(path)}"
            )
        for index, item in enumerate(value):
            issues += check(schema.get("items", {}), item, _join(path, index))
    elif expected == "object":
        issues += _check_object(schema, value, path)
    return issues


def _check_string(schema: dict, value: str, path: str) -> list[str]:
    issues = []
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        issues.append(
            f"Too big: expected string to have <={schema['maxLength']} characters{_at(path)}"
        )
    fmt = schema.get("format")
    if fmt == "date" and not _is_date(value):
        issues.append(f"Invalid ISO date{_at(path)}")
    elif fmt == "uuid" and not _is_uuid(value):
        issues.append(f"Invalid UUID{_at(path)}")
    return issues


def _check_object(schema: dict, value: dict, path: str) -> list[str]:
    properties = schema.get("properties", {})
    issues = []
    for name in schema.get("required", ()):
        if name not in value:
            issues += check(properties.get(name, {}), _MISSING, _join(path, name))
    if schema.get("additionalProperties") is False:
        unknown = [key for key in value if key not in properties]
        if unknown:
            label = "key" if len(unknown) == 1 else "keys"
            shown = ", ".join(f'"{key}"' for key in unknown)
            issues.append(f"Unrecognized {label}: {shown}{_at(path)}")
    for name, item in value.items():
        if name in properties:
            issues += check(properties[name], item, _join(path, name))
    return issues


class _Missing:
    def __repr__(self) -> str:
        return "undefined"


_MISSING = _Missing()


def _is_date(text: str) -> bool:
    if not _DATE_RE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_uuid(text: str) -> bool:
    return _GUID_RE.fullmatch(text) is not None


def validate_body(method: str, path: str, body) -> dict:
    """The request body, checked against the operation's schema (400 on any issue)."""
    schema = contract.body_schema(method, path)
    if schema is None:
        return {}
    issues = check(schema, body)
    if issues:
        raise invalid_request("; ".join(issues))
    return body


def _coerce(schema: dict, raw: str):
    """A query-string value in the type its schema names (left as text when it does not parse)."""
    expected = schema.get("type")
    if expected == "integer" and _INT_RE.match(raw):
        return int(raw)
    if expected == "number" and _NUM_RE.match(raw):
        return float(raw)
    if expected == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def parse_query(method: str, path: str, args) -> dict:
    """Query parameters parsed per the spec (arrays repeat their key; unknown keys are refused).

    ``args`` is a werkzeug ``MultiDict``. Returns camelCase names mapped to typed values, with
    the spec's defaults filled in.
    """
    params = {p["name"]: p for p in contract.query_parameters(method, path)}
    parsed: dict = {}
    issues: list[str] = []
    unknown = [key for key in args if key not in params]
    if unknown:
        label = "key" if len(unknown) == 1 else "keys"
        issues.append(f"Unrecognized {label}: " + ", ".join(f'"{key}"' for key in unknown))
    for name, param in params.items():
        schema = param["schema"]
        if name not in args:
            if param.get("required"):
                issues += check(schema, _MISSING, name)
            elif "default" in schema:
                parsed[name] = schema["default"]
            continue
        if schema.get("type") == "array":
            value = [_coerce(schema.get("items", {}), raw) for raw in args.getlist(name)]
        else:
            value = _coerce(schema, args.get(name))
        issues += check(schema, value, name)
        parsed[name] = value
    if issues:
        raise invalid_request("; ".join(issues))
    return parsed
