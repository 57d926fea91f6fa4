"""The pull engine: one object from QuickBooks into the WMS mirror (DESIGN §5).

`run_object` takes plain inputs — the ids, a `QuickBooks` client, a cancel check and a progress
callback — so it runs the same from an actor, the CLI or a test. It is idempotent and resumes
from the checkpoint committed with the last page, so a retried or redelivered object loses
nothing and repeats at most one page (or one date window) of reads.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from webapp.extensions import db
from webapp.models.sync import ERROR, RUNNING, SyncError, SyncObjectRun, SyncSession
from webapp.models.types import utcnow
from webapp.sync import ledger
from webapp.sync.base import ADJUSTMENT, LIST, TRANSACTION, SyncObject
from webapp.sync.conductor import QuickBooks
from webapp.sync.objects import registry
from webapp.sync.pull.plan import has_rows, later, state_of, wants_full
from webapp.sync.pull.refs import RefResolver
from webapp.sync.pull.stock_types import MOVED
from webapp.sync.pull.writer import PageResult, PageWriter
from webapp.sync.writing import sync_writer

# The next incremental pull starts this long before the last one's newest `updatedAt`, on top
# of the pull's own duration: a record edited while a pull ran is read again next time.
OVERLAP_MARGIN_S = 120
MESSAGE_MAX = 2000
# A running object's heartbeat is stamped at least this often, pages or not: a quarter of the
# two minutes after which a session with no sign of a worker counts as stalled.
HEARTBEAT_EVERY_S = 30.0

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The session's cancel flag was seen between two pages."""


class HeartbeatTicker:
    """Stamps a running object's heartbeat every `every` seconds from a side thread, on a
    connection of its own, while the object runs.

    Pages stamp it too, but one page can wait on QuickBooks for minutes (a request's timeout
    times its retries, then reference lookups), and a live worker must not look dead: a cancel
    would end its session under it, and a start would be refused as "check the worker". The
    thread dies with the process, so a heartbeat gone quiet still means no worker is there.
    """

    def __init__(self, engine: Engine, run_id: int, every: float | None = None) -> None:
        self.engine, self.run_id = engine, run_id
        self.every = HEARTBEAT_EVERY_S if every is None else every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name=f"heartbeat-run-{run_id}",
                                        daemon=True)

    def __enter__(self) -> HeartbeatTicker:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        # Not waited for long: a beat held up by the page's own locks lands once they go.
        self._thread.join(timeout=1)

    def _tick(self) -> None:
        table = SyncObjectRun.__table__
        while not self._stop.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(table)
                                 .where(table.c.id == self.run_id, table.c.status == RUNNING)
                                 .values(heartbeat_at=utcnow()))
            except Exception as error:  # noqa: BLE001 - a missed beat is no failure
                log.warning("heartbeat of object run %s not written: %s", self.run_id,
                            type(error).__name__)


class PullContext:
    """Everything one object's pull needs, and the per-page commit."""

    def __init__(self, session: SyncSession, run: SyncObjectRun, obj: type[SyncObject],
                 qb: QuickBooks, is_cancelled: Callable[[], bool],
                 on_progress: Callable[[SyncObjectRun], None] | None, settings: dict) -> None:
        self.session, self.run, self.obj, self.qb = session, run, obj, qb
        self.is_cancelled = is_cancelled
        self.on_progress = on_progress
        self.settings = settings
        self.calls_at_start = qb.api_calls
        self.seen_ids: set[str] = set()  # records handed over in this attempt
        self.checkpoint: dict[str, Any] = dict(run.checkpoint or {})
        self.resolver = RefResolver(qb, registry)
        stamp = self.checkpoint.get("seen_stamp")
        self.writer = PageWriter(
            self.resolver, self.report_error, now=utcnow(),
            stamp_seen=datetime.fromisoformat(stamp) if stamp else None,
        )
        self.resolver.writer = self.writer
        self.writer.session_id = session.id
        # Records that failed in this session's earlier objects: a later object that refers
        # to one neither fetches it again nor logs its error a second time.
        self.writer.unwritable.update(
            (object_type, qb_id) for object_type, qb_id in db.session.execute(
                select(SyncError.object_type, SyncError.object_id).where(
                    SyncError.session_id == session.id, SyncError.object_id.is_not(None))))
        # What rewritten transactions referred to before is read again after any pull; the
        # sales orders every invoice read links to are noted after incremental pulls only
        # (after a full pull, refresh finds them in the database: see refresh.stale).
        self.set_link_tracking(self.checkpoint.get("full"))

    def set_link_tracking(self, full: bool | None) -> None:
        self.writer.track_links = full is not None
        self.writer.track_current_links = full is False

    def report_error(self, obj: type[SyncObject], record: dict, code: str, message: str,
                     retryable: bool = False, label: str | None = None) -> None:
        """Log a record that could not be synced; `label` (else the record's own) names it.
        The error goes into the record's ledger too when the WMS has a row for it."""
        qb_id = record.get("id")
        if not isinstance(qb_id, str) or len(qb_id) > SyncError.object_id.type.length:
            qb_id = None  # not an id QuickBooks gives (said in the message)
        label = label or obj.label(record)
        db.session.add(SyncError(
            session_id=self.session.id, object_type=obj.name, object_id=qb_id,
            record_label=label[:SyncError.record_label.type.length] if label else label,
            phase="pull", code=code, message=message[:MESSAGE_MAX], retryable=retryable,
        ))
        self.session.error_count = (self.session.error_count or 0) + 1
        table = obj.model.__table__
        local_id = db.session.scalar(select(table.c.id).where(table.c.qb_id == qb_id)) if (
            isinstance(qb_id, str) and len(qb_id) <= table.c.qb_id.type.length) else None
        if local_id is not None:
            ledger.write([ledger.event(
                self.session.id, obj.name, ERROR, record_id=local_id, qb_id=qb_id, label=label,
                detail={"code": code, "message": message[:MESSAGE_MAX], "phase": "pull"})])

    def check_cancel(self) -> None:
        if self.is_cancelled():
            raise Cancelled()

    def commit_page(self, result: PageResult, records: int) -> None:
        """Counts, checkpoint, heartbeat and progress in the same commit as the page."""
        run = self.run
        run.processed += records
        run.created += result.created
        run.updated += result.updated
        run.unchanged += result.unchanged
        run.failed += result.failed
        run.conflicts = (run.conflicts or 0) + result.conflicts
        if result.max_updated:
            self.checkpoint["max_updated"] = later(self.checkpoint.get("max_updated"),
                                                    result.max_updated)
        if self.writer.linked:  # kept with the checkpoint: a resume still refreshes them
            self.checkpoint["linked"] = sorted(set(self.checkpoint.get("linked") or [])
                                               | self.writer.linked)
            self.writer.linked.clear()
        if self.writer.referred:
            referred = self.checkpoint.setdefault("referred", {})
            for target, ids in self.writer.referred.items():
                referred[target] = sorted(set(referred.get(target) or []) | ids)
            self.writer.referred.clear()
        if result.oldest_failed:
            held = self.checkpoint.get("oldest_failed")
            if held is None or later(held, result.oldest_failed) == held:
                self.checkpoint["oldest_failed"] = result.oldest_failed
        self.flush(current_record=result.last_record_id, label=result.last_record_label)

    def flush(self, current_record: str | None = None, label: str | None = None) -> None:
        run = self.run
        run.api_calls = (run.api_calls or 0) + self.qb.api_calls - self.calls_at_start
        self.calls_at_start = self.qb.api_calls
        run.checkpoint = dict(self.checkpoint)
        run.heartbeat_at = utcnow()
        self.session.current_object = self.obj.name
        if current_record:
            self.session.current_record_id = current_record
            self.session.current_record_label = label
        db.session.commit()
        if self.on_progress is not None:
            self.on_progress(run)
        self.check_cancel()


_frozen = False


def freeze_long_lived() -> None:
    """Once per process, at worker boot: move what is alive now (modules, the app,
    SQLAlchemy's metadata) out of the garbage collector's sight (`gc.freeze`).

    A pull allocates millions of short-lived objects, so full collections come often, and
    each walked the whole heap holding the interpreter lock for ~100 ms — while the page
    prefetch thread waited to read the next answer. After the freeze they take a few ms.
    Garbage is collected before the freeze; objects frozen are the ones that live as long
    as the process.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def run_object(session_id: int, object_name: str, qb: QuickBooks, *,
               is_cancelled: Callable[[], bool] = lambda: False,
               on_progress: Callable[[SyncObjectRun], None] | None = None,
               settings: dict | None = None) -> SyncObjectRun:
    """Pull `object_name` for the session, resuming from the run's checkpoint."""
    freeze_long_lived()  # workers do it at boot; the CLI and tests here
    orm = db.session()
    expire = orm.expire_on_commit
    # One commit per page: reloading the run and session rows after each (expiry) would cost
    # two queries a page. They are this worker's to write; the cancel flag is read elsewhere.
    orm.expire_on_commit = False
    try:
        return _run_object(session_id, object_name, qb, is_cancelled, on_progress, settings)
    finally:
        orm.expire_on_commit = expire


def _run_object(session_id, object_name, qb, is_cancelled, on_progress, settings):
    session = db.session.get(SyncSession, session_id)
    run = db.session.scalar(select(SyncObjectRun).where(
        SyncObjectRun.session_id == session_id, SyncObjectRun.object_name == object_name))
    with HeartbeatTicker(db.engine, run.id), sync_writer(db.session()):
        return _pull_object(session, run, object_name, qb, is_cancelled, on_progress, settings)


def _pull_object(session, run, object_name, qb, is_cancelled, on_progress, settings):
    from webapp.sync import push
    from webapp.sync.pull import deletions, lists, moves, pulls, refresh, rewind

    obj = registry.get(object_name)
    ctx = PullContext(session, run, obj, qb, is_cancelled, on_progress, settings or {})
    ctx.check_cancel()
    if session.only_record:  # "Sync this record now": that record alone
        from webapp.sync import single

        single.run(ctx)
        return run
    if not ctx.checkpoint:
        _plan_pull(ctx)
    if obj.name == "item" and not ctx.checkpoint.get("pulled"):
        push.settle_stock(ctx)  # stock writes in doubt, before the items are read
    if not ctx.checkpoint.get("pulled"):
        {LIST: lists.pull_list, TRANSACTION: pulls.pull_transactions,
         ADJUSTMENT: pulls.pull_adjustments}[obj.kind](ctx)
        ctx.checkpoint["pulled"] = True
        ctx.flush()
    if not ctx.checkpoint.get("deletions_done"):
        deletions.apply(ctx, state_of(session, object_name))
    if rewind.HELD in ctx.checkpoint:  # did QuickBooks go back in time? (no request asked)
        rewind.report(ctx)
        ctx.flush()
    if not ctx.checkpoint.get("refreshed"):
        if obj.kind == LIST:
            refresh.renamed(ctx)
            if obj.name == MOVED:
                moves.reread(ctx)
        else:
            refresh.refresh(ctx)
        ctx.checkpoint["refreshed"] = True
        ctx.flush()
    if not ctx.checkpoint.get("pushed"):
        push.push_object(ctx)
        ctx.checkpoint["pushed"] = True
        ctx.flush()
    _advance_state(ctx)
    ctx.flush()
    return run


def _plan_pull(ctx: PullContext) -> None:
    """Decide once per run: incremental from the watermark, or a full pull with id comparison."""
    from webapp.sync.pull import probes, rewind  # imported where used (no cycles)

    state = state_of(ctx.session, ctx.obj.name)
    rows = has_rows(ctx.obj)
    started = ctx.writer.now  # rows written by this run carry a synced_at at or after it
    full = wants_full(ctx.session, state, rows, started)
    ctx.checkpoint = {
        "started": started.isoformat(),
        "since": None if full else state.watermark,
        "full": full,
        "compare_ids": full and rows,
    }
    ctx.set_link_tracking(full)
    rewind.note_held(ctx)
    if full and rows:
        ctx.checkpoint["seen_stamp"] = started.isoformat()
        ctx.writer.stamp_seen = started
    listed = None if full or ctx.obj.kind == LIST else probes.unchanged(ctx)
    if listed is not None:  # QuickBooks says none changed: nothing to list
        rewind.tick_listed(ctx, [{"id": qb_id} for qb_id in listed])
        ctx.checkpoint["pulled"] = True
        # Its watermark moves up to what the probe saw (QuickBooks' clock): a quiet object
        # must not hold the session's probe back at its old watermark.
        ctx.checkpoint["max_updated"] = probes.newest(ctx)
        ctx.run.total = 0
    else:
        ctx.run.total = None
    ctx.flush()


def _advance_state(ctx: PullContext) -> None:
    """Watermarks move only now that the object's pull has finished (QuickBooks' own clock).

    The new watermark is the newest `updatedAt` seen, set back by the pull's duration and a
    margin, never past a record that failed (so it is read again once fixed in QuickBooks) and
    never past the moment the pull started (a record stamped in the future by a wrong clock
    must not freeze the sync). The deletion watermark never passes the moment the session's
    deleted list was asked either (`probes.deleted`: it may be older than this run).
    """
    state = state_of(ctx.session, ctx.obj.name)
    started = datetime.fromisoformat(ctx.checkpoint["started"])
    back_off = timedelta(seconds=(utcnow() - started).total_seconds() + OVERLAP_MARGIN_S)
    newest = ctx.checkpoint.get("max_updated")
    if newest:
        newest_at = datetime.fromisoformat(newest)
        candidate = min(newest_at - back_off, started.astimezone(newest_at.tzinfo) - back_off)
        failed = ctx.checkpoint.get("oldest_failed")
        if failed:
            candidate = min(candidate, datetime.fromisoformat(failed) - timedelta(seconds=1))
        text = candidate.astimezone(newest_at.tzinfo).isoformat(timespec="seconds")
        # A full pull read everything: its watermarks stand, even ones earlier than before
        full = ctx.checkpoint.get("full")
        state.watermark = text if failed or full else later(state.watermark, text)
        asked = ctx.checkpoint.get("deleted_asked_at")
        if asked and not full:  # the session's deleted list was asked then: not past it
            cap = datetime.fromisoformat(asked) - timedelta(seconds=OVERLAP_MARGIN_S)
            capped = min(candidate, cap.astimezone(newest_at.tzinfo))
            text = capped.astimezone(newest_at.tzinfo).isoformat(timespec="seconds")
        state.deleted_watermark = text if full else later(state.deleted_watermark, text)
    elif ctx.checkpoint.get("full"):  # QuickBooks has none: nothing to be ahead of
        state.watermark = state.deleted_watermark = None
    if ctx.checkpoint.get("full"):
        state.last_full_sync_at = utcnow()
