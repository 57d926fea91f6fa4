"""JSON for column values: JSON columns (such as `sync_base`) may hold Decimals and dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def json_default(value: Any) -> Any:
    """`json.dumps` hook: Decimal and dates as strings (5, 5.0 and 5.00000 alike)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(value: Any) -> str:
    """The database engine's JSON serialiser (orjson: several times faster than json)."""
    return orjson.dumps(value, default=json_default).decode()
