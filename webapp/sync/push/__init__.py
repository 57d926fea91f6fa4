"""The push: WMS changes sent to QuickBooks, after the object's pull, in the same actor
(DESIGN §5, push steps 1-6).

Rows to send are those the WMS created (`qb_id` NULL) or changed (`wms_pending`, confirmed
by comparing the row with its `sync_base`). Each is one committed step:

- an update sends only the changed fields, with the stored `revisionNumber` (lines whole);
  a stale revision (3200) re-reads the record, merges it like a pull, and tries once more;
- a create carries an `externalId` committed before the request, and is never sent twice
  blindly: after an uncertain outcome (no answer, a 5xx) or a 3100 "name in use", the
  record is looked for in QuickBooks first (`webapp.sync.push.creates`) and adopted;
- what QuickBooks answers becomes the row's base, revision and hash through the pull's own
  writer (echo suppression: the next pull skips it; a WMS edit made meanwhile is merged,
  not lost), committed with its ledger event;
- a record QuickBooks refuses is one `sync_error` (phase push) with a plain reason, stays
  pending with `push_error` set, and the rest go on. Cancel is checked between records;
- stock (DESIGN §1, net changes): an item's count is recorded as an adjustment of its
  difference (`push.counts`), edits of pushed adjustments send their lines and move the items
  by the change (`push.edits`), and adjustments the push itself recorded meanwhile are sent in
  a further pass; writes with no known outcome are settled before items are read
  (`push.doubt`, called by the engine before the item pull).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update

from webapp.extensions import db
from webapp.models.sync import ERROR, PUSHED_CREATED, PUSHED_UPDATED, SyncError
from webapp.sync import ledger, views
from webapp.sync.base import ADJUSTMENT
from webapp.sync.conductor import RECORD, QuickBooksError
from webapp.sync.pull.merging import number_lines
from webapp.sync.push import bodies, counts, edits, stock
from webapp.sync.push.creates import find_created, name_holder

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject
    from webapp.sync.engine import PullContext

STALE = "qb_3200"
NAME_IN_USE = "qb_3100"
MESSAGE_MAX = 2000


def push_object(ctx: PullContext) -> None:
    """Send the object's pending rows; resumable (a pushed row is no longer pending)."""
    obj = ctx.obj
    if obj.direction != "both":
        return
    table = obj.model.__table__
    failed = set(ctx.checkpoint.get("push_failed") or ())
    order = [table.c.sublevel, table.c.id] if "sublevel" in table.c else [table.c.id]
    pusher = Pusher(ctx)
    done: set[int] = set()
    while True:
        ids = [i for i in db.session.scalars(
            select(table.c.id).where(or_(table.c.wms_pending, table.c.qb_id.is_(None)),
                                     table.c.qb_deleted_at.is_(None), _not_held(table))
            .order_by(*order)) if i not in failed and i not in done]
        if not ids:
            return
        run = ctx.run
        run.total = max(run.total or 0, run.processed) + len(ids)  # progress covers the push
        for local_id in ids:
            ctx.check_cancel()
            pusher.push(local_id)
            done.add(local_id)
            run.processed += 1
            ctx.flush()
        if obj.kind != ADJUSTMENT:
            return
        # an adjustment's edit QuickBooks overtook left the WMS's change as a new one: sent now


def settle_stock(ctx: PullContext) -> None:
    """Adjustments whose create or update has no known outcome, settled (push.doubt)."""
    from webapp.sync.push import doubt

    doubt.settle(ctx)


def _not_held(table):
    """Rows staff held back ("Hold") wait until the WMS changes them again."""
    held, changed = table.c.push_held_at, table.c.local_updated_at
    return or_(held.is_(None), and_(changed.is_not(None), changed > held))


class Pusher:
    """Sends one row at a time of `obj` (the context's object unless said otherwise)."""

    def __init__(self, ctx: PullContext, obj: type[SyncObject] | None = None) -> None:
        self.ctx, self.obj, self.qb = ctx, obj or ctx.obj, ctx.qb
        self.names = bodies.Names(ctx.qb)

    # --- one row ------------------------------------------------------------------------

    def _load(self, local_id: int):
        obj = self.obj
        table = obj.model.__table__
        row = db.session.execute(select(table).where(table.c.id == local_id)).mappings().one()
        lines = []
        if obj.line_model is not None:
            line_table = obj.line_model.__table__
            lines = list(db.session.execute(
                select(line_table).where(line_table.c[obj.line_parent] == local_id)
                .order_by(line_table.c.position, line_table.c.id)).mappings())
        qb_ids = views.load_qb_ids(db.session, obj, [row], lines)
        return row, lines, qb_ids

    def push(self, local_id: int) -> None:
        row, lines, qb_ids = self._load(local_id)
        try:
            if row["qb_id"] is None:
                self._create(row, lines, qb_ids)
            else:
                self._update(row, lines, qb_ids)
        except bodies.Waiting as waiting:
            self._refused(row, "waiting_for_reference",
                          f"it names {waiting}, which is not in QuickBooks yet (see that"
                          " record's own error); it is sent once that one is")
        except bodies.Refused as refused:
            self._refused(row, "cannot_send", str(refused))

    def _update(self, row, lines, qb_ids, *, retried: bool = False) -> None:
        obj = self.obj
        changed, lines_changed = views.wms_changed(obj, row, lines, qb_ids)
        if obj.kind == ADJUSTMENT:  # stock moves: the change of difference (push.edits)
            edits.push_edit(self, row, lines, qb_ids, changed, lines_changed)
            return
        columns = changed - obj.computed
        count_refused = None
        if changed & obj.net_change:  # a count: sent as an adjustment of its difference
            count_refused = counts.record(row)
        unsent = None
        if lines_changed and not views.plain_lines_changed(obj, row, lines, qb_ids):
            lines_changed = False  # only inside line groups, which are left as QuickBooks has
            unsent = "changes inside line groups are not sent to QuickBooks"
        if not columns and not lines_changed:
            # Nothing to update; stock the WMS moved stays its pending difference until the
            # count's adjustment lands (or for good, on an item QuickBooks keeps no stock of).
            self._set(row["id"], wms_pending=bool(changed & obj.net_change) and not (
                count_refused), push_error=unsent or count_refused)
            return
        body: dict[str, Any] = {"revisionNumber": row["qb_revision"]}
        body.update(bodies.header(obj, row, columns, qb_ids, self.names, create=False))
        if lines_changed:
            body["lines"] = bodies.lines(obj, lines, qb_ids, self.names)
        if len(body) == 1:  # changed, but nowhere to put it (a purchase cost on an item
            # QuickBooks keeps without purchase details): no request, and staff are told
            self._set(row["id"], wms_pending=False, push_error=(
                f"QuickBooks has no place for {', '.join(sorted(columns))} on this record;"
                " the WMS keeps its value"))
            return
        resource = obj.resource_of(row)
        try:
            record = self.qb.update(resource, row["qb_id"], body)
        except QuickBooksError as error:
            if error.code == STALE and not retried:
                self._read_again(resource, row["qb_id"])
                row, lines, qb_ids = self._load(row["id"])
                self._update(row, lines, qb_ids, retried=True)
                return
            if error.code == STALE:
                self._refused(row, error.code, "QuickBooks was being edited at the same moment"
                              " (its revision moved twice while we sent this); the next sync"
                              " sends it again")
                return
            if error.kind != RECORD:
                raise
            self._refused(row, error.code, _plain(error))
            return
        fields = sorted(columns) + (["lines"] if lines_changed else [])
        self._adopt(row, lines, record, PUSHED_UPDATED, fields, sent_lines=lines_changed)

    def _read_again(self, resource: str, qb_id: str) -> None:
        """A stale revision: QuickBooks' record now, merged like a pull (conflicts logged)."""
        records, _gone = self.ctx.resolver.lookup(resource, [qb_id])
        result = self.ctx.writer.write(self.obj, resource, records)
        self.ctx.run.conflicts = (self.ctx.run.conflicts or 0) + result.conflicts

    def _create(self, row, lines, qb_ids) -> None:
        obj = self.obj
        resource = obj.resource_of(row)
        if row["external_id"] is not None:  # an earlier attempt may have created it: look
            found = find_created(self.qb, obj, row, qb_ids)  # before creating again
            if found is not None:
                self._created(row, lines, found)
                return
        if row["external_id"] is None or row["push_error"] is not None:
            # Committed before the request: whatever happens to it, we can find it again
            # (a row with an external id, no id and no refusal may be in QuickBooks: see
            # push.doubt).
            self._set(row["id"], external_id=row["external_id"] or str(uuid.uuid4()),
                      push_error=None)
            db.session.commit()
            row, lines, qb_ids = self._load(row["id"])
        columns = set(obj.write_fields(row)) | {ref.qb_column for ref in obj.refs}
        body = bodies.header(obj, row, columns, qb_ids, self.names, create=True)
        self._defaults(row, lines, body)
        if obj.line_model is not None:
            body["lines"] = bodies.lines(obj, lines, qb_ids, self.names, create=True)
        try:
            record = self.qb.create(resource, body)
        except QuickBooksError as error:
            if error.kind == RECORD and error.code != NAME_IN_USE:
                self._refused(row, error.code, _plain(error))
                return
            found = find_created(self.qb, obj, row, qb_ids)
            if found is None and error.code == NAME_IN_USE:
                holder = name_holder(self.qb, obj, row)
                self._refused(row, error.code, f"QuickBooks already has {holder} with this"
                              " name; rename one of them and the next sync sends it")
                return
            if found is None:
                raise  # nothing was created: the object is retried, and looks again first
        else:
            found = record
        self._created(row, lines, found)

    def _created(self, row, lines, record: dict) -> None:
        self._adopt(row, lines, record, PUSHED_CREATED, ["created"], sent_lines=True)
        if self.obj.kind == ADJUSTMENT:
            stock.moved_by_us(lines, from_count=row["from_count"])
        elif row.get("item_type") == "inventory" and row.get("quantity_on_hand"):
            # A new item's stock in the WMS is a count: QuickBooks created it with none.
            self._set(row["id"], quantity_on_hand=row["quantity_on_hand"], wms_pending=True)
            counts.record(self._load(row["id"])[0])

    def _defaults(self, row, lines, body: dict) -> None:
        """What QuickBooks requires on create that the WMS may not say: an item's accounts,
        from settings (by name) — an inventory item's income, COGS and asset accounts, the
        other kinds' posting (or income and expense) account."""
        if self.obj.kind == ADJUSTMENT:
            stock.adjustment_defaults(self.ctx, row, lines, body, self.names)
            return
        if self.obj.name != "item":
            return
        income, cogs = "QBSYNC_DEFAULT_INCOME_ACCOUNT", "QBSYNC_DEFAULT_COGS_ACCOUNT"
        details = self.obj.details(row)
        if details is None:
            wanted = [(body, "incomeAccountId", income), (body, "cogsAccountId", cogs),
                      (body, "assetAccountId", "QBSYNC_DEFAULT_ASSET_ACCOUNT")]
        elif details == "salesOrPurchaseDetails":
            wanted = [(body.setdefault(details, {}), "postingAccountId", income)]
        else:
            block = body.setdefault(details, {})
            wanted = [(block, "incomeAccountId", income), (block, "expenseAccountId", cogs)]
        for target, key, setting in wanted:
            if target.get(key):
                continue
            name = self.ctx.settings.get(setting)
            if not name:
                raise bodies.Refused(f"QuickBooks needs {key.removesuffix('Id')} for a new"
                                     f" item: give it one, or set {setting} to an account's"
                                     " name")
            target[key] = self.names.id_of(("accounts",), name)

    # --- after QuickBooks answered --------------------------------------------------------

    def _adopt(self, row, lines, record: dict, action: str, fields: list[str], *,
               sent_lines: bool) -> None:
        """QuickBooks' answer becomes the row's base (through the pull's writer, so a WMS
        edit made meanwhile is merged and nothing is taken for a QuickBooks change)."""
        obj = self.obj
        record = obj.as_listed(record)
        if row["qb_id"] is None:
            self._set(row["id"], qb_id=record["id"])
        if sent_lines:
            number_lines(obj, row["id"], record)
        writer = self.ctx.writer
        writer.pushed = (action, fields)
        try:
            result = writer.write(obj, obj.resource_of(row), [record])
        finally:
            writer.pushed = None
        self.ctx.run.conflicts = (self.ctx.run.conflicts or 0) + result.conflicts
        self._set(row["id"], push_error=None)
        self.ctx.run.pushed = (self.ctx.run.pushed or 0) + 1

    def _refused(self, row, code: str, reason: str) -> None:
        obj, ctx = self.obj, self.ctx
        label = obj.row_label(row)
        message = f"{obj.display_name}: {label} was not sent to QuickBooks: {reason}."[
            :MESSAGE_MAX]
        db.session.add(SyncError(
            session_id=ctx.session.id, object_type=obj.name, object_id=row["qb_id"],
            local_id=row["id"], record_label=label, phase="push", code=code, message=message))
        ctx.session.error_count = (ctx.session.error_count or 0) + 1
        ledger.write([ledger.event(ctx.session.id, obj.name, ERROR, record_id=row["id"],
                                   qb_id=row["qb_id"], label=label,
                                   detail={"code": code, "message": message, "phase": "push"})])
        self._set(row["id"], push_error=message)
        ctx.run.failed += 1
        ctx.checkpoint["push_failed"] = sorted({*ctx.checkpoint.get("push_failed", ()),
                                                row["id"]})

    def _set(self, local_id: int, **values) -> None:
        table = self.obj.model.__table__
        db.session.execute(update(table).where(table.c.id == local_id).values(**values))


def _plain(error: QuickBooksError) -> str:
    text = error.message.removeprefix("QBD Request Error ")
    return f"QuickBooks refused it ({text.strip()}); correct it in the WMS and the next sync" \
           " sends it again"
