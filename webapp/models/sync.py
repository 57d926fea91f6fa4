"""Sync bookkeeping: sessions, the per-object runs inside them, their errors, and sync state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import JSONDoc, UTCDateTime, utcnow

# Session status (contract): pending -> running -> completed | failed | cancelled, with
# `cancelling` while a cancel is being honoured.
PENDING, RUNNING, CANCELLING = "pending", "running", "cancelling"
COMPLETED, FAILED, CANCELLED = "completed", "failed", "cancelled"
ACTIVE_STATUSES = (PENDING, RUNNING, CANCELLING)
ENDED_STATUSES = (COMPLETED, FAILED, CANCELLED)
SKIPPED = "skipped"  # an object run that never started because its session ended first

MODES = ("incremental", "full")

# The one-active-session rule lives in the database: a partial unique index that both SQLite
# and PostgreSQL enforce, so two concurrent starts cannot both insert.
_ACTIVE_WHERE = text("status IN ('pending', 'running', 'cancelling')")


class SyncSession(db.Model):
    """One sync started by a person or a tool: a plan of objects run in dependency order."""

    __tablename__ = "sync_session"
    __table_args__ = (
        Index(
            "uq_sync_session_one_active",
            "end_user_id",
            unique=True,
            sqlite_where=_ACTIVE_WHERE,
            postgresql_where=_ACTIVE_WHERE,
        ),
        Index("ix_sync_session_started", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    end_user_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    mode: Mapped[str] = mapped_column(String(16), default="incremental")
    selected_objects: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    # [{"name": "customer", "reason": "needed by sales_order"}, ...] in run order
    planned_objects: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_object: Mapped[str | None] = mapped_column(String(40))
    current_record_id: Mapped[str | None] = mapped_column(String(64))
    # The same record as people know it (ref number, name): what the dashboard shows.
    current_record_label: Mapped[str | None] = mapped_column(String(200))
    error_count: Mapped[int] = mapped_column(default=0)
    # Highest progress ever reported, so the percentage never goes backwards.
    progress_percentage: Mapped[int] = mapped_column(default=0)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(254))
    # A session limited to one record ("Sync this record now"): {"object": name, "id": local
    # id}; it reads that record by id and pushes it, nothing else (webapp.sync.single).
    only_record: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    # What the session asked QuickBooks once for all its objects (webapp.sync.pull.probes):
    # the deleted lists and which transactions changed.
    probes: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)

    object_runs: Mapped[list[SyncObjectRun]] = relationship(
        back_populates="session", order_by="SyncObjectRun.position", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class SyncObjectRun(db.Model):
    """One object inside a session, with its counts, its checkpoint and its worker heartbeat."""

    __tablename__ = "sync_object_run"
    __table_args__ = (UniqueConstraint("session_id", "object_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sync_session.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column()
    processed: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    pushed: Mapped[int] = mapped_column(default=0)
    conflicts: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    api_calls: Mapped[int] = mapped_column(default=0)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    error_message: Mapped[str | None] = mapped_column(Text)

    session: Mapped[SyncSession] = relationship(back_populates="object_runs")


class SyncError(db.Model):
    """A record that could not be synced, or the reason an object stopped."""

    __tablename__ = "sync_error"
    __table_args__ = (Index("ix_sync_error_session", "session_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sync_session.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))  # the QuickBooks id
    # The record as people know it (ref number, name): what they look for in QuickBooks.
    record_label: Mapped[str | None] = mapped_column(String(200))
    local_id: Mapped[int | None] = mapped_column()
    phase: Mapped[str] = mapped_column(String(8))  # pull | push
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    retryable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncState(db.Model):
    """Per company and object: how far the sync has got.

    `watermark` is QuickBooks' own `updatedAt` text with its offset kept (never our clock);
    `deleted_watermark` likewise for the deleted-object lists.
    """

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("end_user_id", "object_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    end_user_id: Mapped[str] = mapped_column(String(64))
    object_name: Mapped[str] = mapped_column(String(40))
    watermark: Mapped[str | None] = mapped_column(String(32))
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_watermark: Mapped[str | None] = mapped_column(String(32))
    last_deleted_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_successful_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_session.id", ondelete="SET NULL")
    )
    last_successful_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Ledger actions (DESIGN §4): what happened to one record in one session.
PULLED_CREATED, PULLED_UPDATED = "pulled_created", "pulled_updated"
PUSHED_CREATED, PUSHED_UPDATED = "pushed_created", "pushed_updated"
CONFLICT, ERROR, SKIPPED = "conflict", "error", "skipped"
EVENT_ACTIONS = (PULLED_CREATED, PULLED_UPDATED, PUSHED_CREATED, PUSHED_UPDATED, CONFLICT,
                 ERROR, SKIPPED)


class SyncRecordEvent(db.Model):
    """The per-record ledger: one row per thing that happened to one record in one session.

    `fields` lists the columns a pull or push changed; a conflict names its one field in
    `field`, with `detail` = {"base", "wms_value", "quickbooks_value", "winner", "rule"}; an
    error has {"code", "message"} in `detail`. Records unchanged by a sync write nothing, and
    events older than `QBSYNC_LEDGER_RETENTION_DAYS` are pruned (webapp.sync.ledger).
    """

    __tablename__ = "sync_record_event"
    __table_args__ = (
        Index("ix_sync_record_event_record", "object_type", "record_id", "id"),
        Index("ix_sync_record_event_session", "session_id", "action", "id"),
        Index("ix_sync_record_event_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_session.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column()  # the WMS row's id
    qb_id: Mapped[str | None] = mapped_column(String(64))
    record_label: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(80))
    fields: Mapped[list[str] | None] = mapped_column(JSONDoc)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    revision_before: Mapped[str | None] = mapped_column(String(20))
    revision_after: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
