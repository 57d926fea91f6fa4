"""The three-way merge of DESIGN §1: pure functions, no database, no HTTP.

Inputs are comparable values per column (webapp.sync.views makes them): the base (QuickBooks'
record as the sync last read or wrote it), the WMS row, and QuickBooks' fresh record. A field
changed on one side only takes that side's value; a field both sides changed (to different
values) is a conflict, decided by the object's rule and returned for the ledger. Fields
QuickBooks computes always take QuickBooks' value; net-change fields (stock) add both sides'
differences. Lines merge by QuickBooks line id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

WMS, QUICKBOOKS = "wms", "quickbooks"


@dataclass(frozen=True)
class Conflict:
    """One field both sides changed since the last sync, and who won."""

    field: str
    base: Any
    wms_value: Any
    quickbooks_value: Any
    winner: str
    rule: str


class Rule:
    """How an object decides a field both sides changed."""

    def decide(self, field: str, qb_updated_at: datetime | None,
               local_updated_at: datetime | None) -> tuple[str, str]:
        """(winner, the rule in words)."""
        raise NotImplementedError


class QuickBooksWins(Rule):
    """QuickBooks wins, except the `wms_fields` (customers' and vendors' contact fields)."""

    def __init__(self, wms_fields: frozenset[str] = frozenset(), *, wms_wins: str = "",
                 quickbooks_wins: str = "QuickBooks wins conflicts") -> None:
        self.wms_fields, self.wms_wins, self.quickbooks_wins = (
            wms_fields, wms_wins, quickbooks_wins)

    def decide(self, field, qb_updated_at, local_updated_at):
        if field in self.wms_fields:
            return WMS, self.wms_wins
        return QUICKBOOKS, self.quickbooks_wins


class LaterChangeWins(Rule):
    """The later change wins: QuickBooks' `updatedAt` against the row's `local_updated_at`
    (a WMS change with no clock loses: it cannot be shown to be later)."""

    def decide(self, field, qb_updated_at, local_updated_at):
        if local_updated_at is not None and (
                qb_updated_at is None or local_updated_at > qb_updated_at):
            return WMS, "the later change wins: the WMS's was later"
        return QUICKBOOKS, "the later change wins: QuickBooks' was later"


LINES_RULE = "lines: a line changed on both sides takes QuickBooks' version"
REMOVED_RULE = "lines: a line removed on one side and changed on the other stays, changed"


@dataclass
class Merged:
    values: dict[str, Any]  # column -> merged value (the row to write)
    kept: set[str] = field(default_factory=set)  # columns whose WMS value was kept
    conflicts: list[Conflict] = field(default_factory=list)
    lines: list[dict[str, Any]] | None = None  # merged lines; WMS lines keep their "id"
    lines_kept: bool = False  # a WMS line change survives (the lines are still pending)


def merge_fields(base: dict, wms: dict, fresh: dict, qb_changed: set[str], *, rule: Rule,
                 computed: frozenset[str] = frozenset(), net_change: frozenset[str] = frozenset(),
                 qb_updated_at: datetime | None = None,
                 local_updated_at: datetime | None = None) -> Merged:
    """Merge the header's fields; `qb_changed` are the columns QuickBooks changed (fresh
    against base, compared as QuickBooks means them: a reference by its id)."""
    merged = Merged(values=dict(fresh))
    for column, value in fresh.items():
        if column not in wms:
            continue
        was, now = base.get(column), wms[column]
        if now == was:
            continue  # the WMS did not change it: QuickBooks' value
        if column in net_change:
            merged.values[column] = _plus(value, _minus(now, was))
            merged.kept.add(column)
            continue
        if column in computed:
            continue
        if now == value:
            continue  # both sides made the same change
        if column not in qb_changed:
            merged.values[column] = now
            merged.kept.add(column)
            continue
        winner, words = rule.decide(column, qb_updated_at, local_updated_at)
        merged.conflicts.append(Conflict(column, was, now, value, winner, words))
        if winner == WMS:
            merged.values[column] = now
            merged.kept.add(column)
    return merged


def merge_lines(base: list[dict], wms: list[dict], fresh: list[dict], *,
                computed: frozenset[str] = frozenset()) -> tuple[list[dict], list[Conflict], bool]:
    """(merged lines, conflicts, whether a WMS change survives) — by QuickBooks line id.

    A line changed on one side takes that side's version; changed on both, QuickBooks';
    added on either side, kept; removed on one side and untouched on the other, gone; removed
    on one side and changed on the other, kept as changed (a line QuickBooks removed comes
    back as a new line). Lines are dicts of comparable values with `qb_line_id`; WMS lines
    also carry their local `id`, kept on the merged line they become. `computed` line fields
    (invoiced or received quantities) are QuickBooks' and never count as a WMS change.
    """
    def same(a: dict, b: dict) -> bool:
        keys = (set(a) | set(b)) - computed - {"id", "position", "source"}
        return all(a.get(k) == b.get(k) for k in keys)

    base_by = {line["qb_line_id"]: line for line in base if line.get("qb_line_id")}
    wms_by = {line["qb_line_id"]: line for line in wms if line.get("qb_line_id")}
    fresh_ids = {line["qb_line_id"] for line in fresh if line.get("qb_line_id")}
    out: list[dict] = []
    conflicts: list[Conflict] = []
    kept = False
    for line in fresh:  # QuickBooks' lines, in QuickBooks' order
        qb_line_id = line.get("qb_line_id")
        was, now = base_by.get(qb_line_id), wms_by.get(qb_line_id)
        local = {"id": now["id"]} if now is not None and "id" in now else {}
        local["source"] = QUICKBOOKS
        if was is None:  # added in QuickBooks (or unknown to the base): QuickBooks' version
            out.append({**line, **local})
            continue
        qb_changed = not same(line, was)
        if now is None:  # removed in the WMS
            if qb_changed:
                conflicts.append(Conflict(f"line {qb_line_id}", was, None, line, QUICKBOOKS,
                                          REMOVED_RULE))
                out.append({**line, "source": QUICKBOOKS})
            else:
                kept = True
            continue
        if same(now, was):
            out.append({**line, **local})
        elif not qb_changed:
            out.append({**_with_computed(now, line, computed), "source": WMS})
            kept = True
        elif same(now, line):
            out.append({**line, **local})
        else:
            conflicts.append(Conflict(f"line {qb_line_id}", was, now, line, QUICKBOOKS,
                                      LINES_RULE))
            out.append({**line, **local})
    for line in wms:
        qb_line_id = line.get("qb_line_id")
        if not qb_line_id or qb_line_id not in base_by and qb_line_id not in fresh_ids:
            out.append({**line, "source": WMS})  # added in the WMS
            kept = True
        elif qb_line_id not in fresh_ids:  # removed in QuickBooks
            was = base_by[qb_line_id]
            if not same(line, was):
                conflicts.append(Conflict(f"line {qb_line_id}", was, line, None, WMS,
                                          REMOVED_RULE))
                out.append({**line, "qb_line_id": None, "source": WMS})  # created again
                kept = True
    return out, conflicts, kept


def _with_computed(line: dict, fresh: dict, computed: frozenset[str]) -> dict:
    return {**line, **{k: fresh[k] for k in computed if k in fresh}}


def _minus(a: Any, b: Any) -> Decimal:
    return Decimal(a or 0) - Decimal(b or 0)


def _plus(a: Any, b: Decimal) -> Decimal:
    return Decimal(a or 0) + b
