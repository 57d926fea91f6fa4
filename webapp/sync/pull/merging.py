"""The WMS side of writing a pulled page (DESIGN §1): what a pulled record keeps of its row's
own changes.

For each changed record whose row exists, `outcomes` compares the row (and its lines) with its
`sync_base` (webapp.sync.views); a row the WMS did not touch simply takes QuickBooks' values,
its lines keeping their local ids by QuickBooks line id; one it did is merged field by field and
line by line (webapp.sync.merge), the conflicts decided for the ledger — except the stock of an
inventory adjustment both sides changed, which is never merged (webapp.sync.push.edits).
`claim_created` and `number_lines` tie records QuickBooks created from WMS rows back to those
rows (an adjustment's stock then moves, as its push would have moved it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.sync import views
from webapp.sync.base import ADJUSTMENT
from webapp.sync.merge import QUICKBOOKS, Conflict, merge_fields, merge_lines


@dataclass
class Outcome:
    """What a pulled record does to a row that exists: the WMS values kept over QuickBooks'
    (`header`, `lines`), the conflicts decided, and what the ledger says."""

    fields: list[str]  # the columns QuickBooks changed ("lines" for its lines)
    revision_before: str | None
    header: dict[str, Any] = field(default_factory=dict)
    # per line, in order: ("qb", index in Mapped.lines, local id or None) or ("wms", row)
    lines: list[tuple] | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    pending: bool = False


def number_lines(obj, header_id: int, record: dict) -> None:
    """A row's plain lines, sent in order in a create or an update, are the plain lines
    QuickBooks answered, in the same order: each keeps its local id and takes its QuickBooks
    line id (when the counts differ, nothing is assumed)."""
    if obj.line_model is None:
        return
    table = obj.line_model.__table__
    plain = db.session.execute(
        select(table.c.id, table.c.qb_line_id).where(
            table.c[obj.line_parent] == header_id, table.c.is_line_group.is_(False),
            table.c.group_qb_line_id.is_(None))
        .order_by(table.c.position, table.c.id)).all() if "is_line_group" in table.c else (
        db.session.execute(select(table.c.id, table.c.qb_line_id).where(
            table.c[obj.line_parent] == header_id).order_by(table.c.position, table.c.id)).all())
    answered = [line for line in record.get("lines") or () if isinstance(line, dict)]
    if len(plain) != len(answered):
        return
    for (line_id, qb_line_id), qb_line in zip(plain, answered, strict=True):
        if qb_line_id != qb_line.get("id"):
            db.session.execute(update(table).where(table.c.id == line_id)
                               .values(qb_line_id=qb_line.get("id")))


def claim_created(obj, records: list[dict], existing: dict) -> None:
    """A record QuickBooks lists whose `externalId` a WMS-created row committed before its
    create is that row, not a new one: the create's answer was lost, or its worker died
    before writing it down. The row takes the record's id (and its lines their line ids)
    and is written as the record QuickBooks has."""
    table = obj.model.__table__
    wanted = {r["externalId"].lower(): r for r in records
              if r["id"] not in existing and isinstance(r.get("externalId"), str)}
    if not wanted:
        return
    found = db.session.execute(select(table.c.id, table.c.external_id).where(
        table.c.qb_id.is_(None), func.lower(table.c.external_id).in_(list(wanted))))
    for local_id, external_id in found.all():
        record = wanted[external_id.lower()]
        db.session.execute(update(table).where(table.c.id == local_id)
                           .values(qb_id=record["id"]))
        number_lines(obj, local_id, record)
        if obj.kind == ADJUSTMENT:  # ours landed unseen: its stock moves now, once
            from webapp.sync.push.stock import landed_unseen

            landed_unseen(obj, local_id)
        existing[record["id"]] = SimpleNamespace(
            id=local_id, qb_id=record["id"], qb_revision=None, sync_hash=None,
            qb_deleted_at=None)

def outcomes(obj, changed: list, existing: dict) -> dict[str, Outcome]:
    """{QuickBooks id: Outcome} for the changed records whose rows exist."""
    known = [m for m in changed if m.qb_id in existing]
    if not known:
        return {}
    table = obj.model.__table__
    wanted = [existing[m.qb_id].id for m in known]
    rows = {row["id"]: row for row in db.session.execute(
        select(table).where(table.c.id.in_(wanted))).mappings()}
    lines: dict[int, list] = {}
    if obj.line_model is not None:
        line_table = obj.line_model.__table__
        parent = line_table.c[obj.line_parent]
        query = select(line_table).where(parent.in_(wanted)).order_by(
            parent, line_table.c.position, line_table.c.id)
        for line in db.session.execute(query).mappings():
            lines.setdefault(line[obj.line_parent], []).append(line)
    two_way = obj.direction == "both"
    qb_ids = views.load_qb_ids(db.session, obj, list(rows.values()),
                               [line for held in lines.values() for line in held]
                               ) if two_way else {}
    return {m.qb_id: _outcome(obj, m, rows[existing[m.qb_id].id],
                                   lines.get(existing[m.qb_id].id, []), qb_ids, two_way)
            for m in known}

def _outcome(obj, m, row, old_lines: list, qb_ids: dict, two_way: bool) -> Outcome:
    """What the mapped record `m` does to its row: QuickBooks' values, merged with the
    WMS's own changes when the row has any."""
    old_base = row["sync_base"]
    fields = sorted(views.qb_changed(obj, old_base, m.base))
    has_lines = obj.line_model is not None
    fresh_lines = views.base_lines(obj, m.base) if has_lines else []
    if has_lines and not views.same_lines(views.base_lines(obj, old_base), fresh_lines,
                                          frozenset()):
        fields.append("lines")
    outcome = Outcome(fields=fields, revision_before=row["qb_revision"])
    by_qb_line = {line["qb_line_id"]: line["id"] for line in old_lines if line["qb_line_id"]}
    outcome.lines = [("qb", n, by_qb_line.get(values.get("qb_line_id")))
                     for n, (values, _) in enumerate(m.lines)]
    if not two_way or old_base is None:
        return outcome
    if row["qb_deleted_at"] is not None and "is_active" in row:
        # Deactivated by the sync's own deletion mark, not by the WMS.
        row = {**row, "is_active": old_base.get("is_active") is not False}
    wms_fields, wms_lines = views.wms_changed(obj, row, old_lines, qb_ids)
    if wms_lines and obj.kind == ADJUSTMENT:  # stock both sides moved: never merged
        from webapp.sync.push.edits import both_changed

        decided = both_changed(obj, row, old_lines, old_base, m.base, qb_ids)
        if decided is not None:  # QuickBooks' lines stand (the WMS's change sent anew)
            outcome.conflicts, wms_lines = decided, False
    if not wms_fields and not wms_lines:
        return outcome
    merged = merge_fields(
        views.base_values(obj, old_base), views.row_values(obj, row, qb_ids),
        views.base_values(obj, m.base), set(fields), rule=obj.rule, computed=obj.computed,
        net_change=obj.net_change, qb_updated_at=m.updated_at,
        local_updated_at=row["local_updated_at"])
    outcome.conflicts += merged.conflicts
    refs = {ref.qb_column: ref for ref in obj.refs}
    for column in merged.kept:
        ref = refs.get(column)
        if ref is not None:
            outcome.header[ref.column] = row[ref.column]
            outcome.header[ref.qb_column] = row[ref.qb_column]
        else:
            outcome.header[column] = merged.values[column]
    outcome.pending = bool(merged.kept)
    if wms_lines:
        lines, conflicts, kept = merge_lines(
            views.base_lines(obj, old_base), views.row_lines(obj, old_lines, qb_ids),
            fresh_lines, computed=obj.line_computed)
        outcome.conflicts += conflicts
        outcome.pending = outcome.pending or kept
        outcome.lines = _merged_line_specs(obj, m, lines, old_lines)
    return outcome

def _merged_line_specs(obj, m, lines: list[dict], old_lines: list) -> list[tuple]:
    """The merged lines as rows to write: QuickBooks' version from the mapped record,
    the WMS's as the row it is (with QuickBooks' invoiced or received quantities)."""
    fresh = {values.get("qb_line_id"): n for n, (values, _) in enumerate(m.lines)}
    rows = {line["id"]: line for line in old_lines}
    specs = []
    for line in lines:
        if line["source"] == QUICKBOOKS:
            specs.append(("qb", fresh[line["qb_line_id"]], line.get("id")))
            continue
        row = dict(rows[line["id"]])
        row["qb_line_id"] = line["qb_line_id"]
        index = fresh.get(line["qb_line_id"])
        if index is not None:
            for column in obj.line_computed:
                row[column] = m.lines[index][0].get(column)
        specs.append(("wms", row))
    return specs
