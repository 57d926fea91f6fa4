"""QuickBooks' value formats: money strings, timestamps with an offset, ids, revision numbers."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from qbdsim.errors import invalid_request

CENT = Decimal("0.01")
_AMOUNT_RE = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")
_RATE_RE = re.compile(r"^-?\d{1,10}(\.\d{1,5})?$")
_PERCENT_RE = re.compile(r"^-?\d{1,10}(\.\d{1,5})?%?$")
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fmt_cents(cents: int) -> str:
    """``123456`` -> ``"1234.56"``."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def fmt_money(value: Decimal) -> str:
    """A decimal amount with exactly two places."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def fmt_rate(value: Decimal) -> str:
    """A price or rate: two places at least, five at most (QuickBooks' precision for rates)."""
    value = value.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(CENT)
    return f"{value:f}"


def parse_amount(text: str, path: str) -> Decimal:
    """An amount as Conductor accepts it: up to 13 digits, and at most 2 decimal places."""
    if not _AMOUNT_RE.match(text):
        raise invalid_request(
            f'Invalid string: expected a decimal amount with at most 2 decimal places at "{path}"'
        )
    return Decimal(text)


def parse_rate(text: str, path: str) -> Decimal:
    """A rate or price: up to 10 digits, and at most 5 decimal places."""
    if not _RATE_RE.match(text):
        raise invalid_request(
            f'Invalid string: expected a decimal rate with at most 5 decimal places at "{path}"'
        )
    return Decimal(text)


def parse_percent(text: str, path: str) -> str:
    """A percentage such as ``"10.5"``; returned as QuickBooks echoes it."""
    if not _PERCENT_RE.match(text):
        raise invalid_request(f'Invalid string: expected a percentage at "{path}"')
    return text.rstrip("%")


def quantity_out(value) -> int | float | None:
    """A quantity as a JSON number: integral values without a fraction."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else round(value, 5)


class Clock:
    """Timestamps in the local time of the QuickBooks computer (a fixed UTC offset)."""

    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        self.offset_s = 0  # how far QuickBooks' clock is ahead of this machine's (faults)
        self._offset_s = int(tz.utcoffset(None).total_seconds())
        sign = "-" if self._offset_s < 0 else "+"
        minutes = abs(self._offset_s) // 60
        self._suffix = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"

    @staticmethod
    def wall_ts() -> int:
        """This machine's current time in whole epoch seconds (QuickBooks' resolution)."""
        return int(time.time())

    def now_ts(self) -> int:
        """The QuickBooks computer's current time, in whole epoch seconds."""
        return self.wall_ts() + self.offset_s

    def fmt(self, ts: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS±HH:MM`` in local time."""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + self._offset_s)) + self._suffix

    def local_date(self, ts: int) -> str:
        """The local calendar date of an instant, ``YYYY-MM-DD``."""
        return time.strftime("%Y-%m-%d", time.gmtime(ts + self._offset_s))

    def day_start(self, day: date) -> int:
        """Epoch seconds at local midnight starting ``day``."""
        return int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp())

    def parse_bound(self, text: str, name: str, end_of_day: bool) -> int:
        """An ``updatedAfter``-style bound as epoch seconds (inclusive).

        Date only: the start (or, for upper bounds, the last second) of that local day.
        A datetime without an offset is local time; with one, it is read in that zone.
        """
        try:
            if _DATE_ONLY_RE.match(text):
                start = self.day_start(date.fromisoformat(text))
                return start + 86399 if end_of_day else start
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise invalid_request(f'Invalid date or datetime at "{name}"') from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return int(moment.timestamp())

    def parse_date(self, text: str, name: str) -> date:
        """A ``YYYY-MM-DD`` parameter."""
        try:
            if not _DATE_ONLY_RE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise invalid_request(f'Invalid ISO date at "{name}"') from None


def add_days(day: str, days: int) -> str:
    """``"2024-01-31" + 30`` days, as ISO text."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


class IdMint:
    """QuickBooks-shaped identifiers: ListID ``80000001-1700000000``, TxnID ``1A2B-1700000000``.

    The suffix is the creation time in epoch seconds, as QuickBooks writes it.
    """

    def __init__(self) -> None:
        self.list_seq = 0
        self.txn_seq = 0
        self.line_seq = 0

    def list_id(self, ts: int) -> str:
        """A new list-object id."""
        self.list_seq += 1
        return f"{0x80000000 + self.list_seq:08X}-{ts}"

    def txn_id(self, ts: int) -> str:
        """A new transaction id."""
        self.txn_seq += 1
        return f"{0x10000 + self.txn_seq:X}-{ts}"

    def line_id(self, ts: int) -> str:
        """A new transaction-line id."""
        self.line_seq += 1
        return f"{0x20000 + self.line_seq:X}-{ts}"


def next_revision(current: str | None, now_ts: int) -> str:
    """QuickBooks' EditSequence: the write time in epoch seconds, always moving forward."""
    if current is not None and current.isdigit() and int(current) >= now_ts:
        return str(int(current) + 1)
    return str(now_ts)


def to_decimal(value) -> Decimal:
    """A JSON number or numeric string as a ``Decimal`` (``0`` for ``None``)."""
    if value is None:
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
