"""Column types shared by every model: UTC timestamps, money and quantities as exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Numeric, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no zone, so we store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


# JSON documents; JSONB on PostgreSQL so they can be indexed and compared.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")

MONEY = Numeric(15, 2)  # QuickBooks amounts: up to 13 digits and 2 decimals
RATE = Numeric(15, 5)  # prices and rates: up to 10 digits and 5 decimals
QUANTITY = Numeric(18, 5)

