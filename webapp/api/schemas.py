"""The pydantic models of JSON API v1 (DESIGN §7): they validate every request and response and
generate `/api/v1/openapi.json`, so the description cannot drift from what the API does."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from webapp.sync.manager import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT

# Largest id the path accepts: PostgreSQL `integer` columns stop here, and anything larger
# cannot name a row, so it is simply "not found".
MAX_ID = 2**31 - 1
MAX_OBJECTS_PER_REQUEST = 50
MAX_CURSOR_CHARS = 200

SessionStatus = Literal["pending", "running", "cancelling", "completed", "failed", "cancelled"]
Mode = Literal["incremental", "full"]
Timestamp = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$",
        json_schema_extra={"format": "date-time"},
        description="ISO 8601, UTC, with a Z.",
    ),
]
ObjectName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Response(BaseModel):
    """Base of response documents: every field is declared, and nothing else goes out."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


# --- errors -------------------------------------------------------------------------------


class ErrorBody(Response):
    code: str = Field(description="A stable, machine-readable code such as `not_found`.")
    message: str = Field(description="A plain-English explanation for people.")


class ErrorDocument(Response):
    """Every error the API answers: `{"error": {"code", "message"}}`."""

    error: ErrorBody


# --- health and objects --------------------------------------------------------------------


class Health(Response):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    broker: Literal["ok", "unreachable"]


class ObjectDescription(Response):
    name: str = Field(description="The object's name in requests, e.g. `sales_order`.")
    display_name: str
    direction: Literal["both", "pull"] = Field(
        description="`both`: QuickBooks and the WMS in both directions; `pull`: QuickBooks → WMS."
    )
    depends_on: list[str] = Field(description="Objects synced first whenever this one is.")


class ObjectList(Response):
    objects: list[ObjectDescription]


# --- sessions ------------------------------------------------------------------------------


class PlannedObject(Response):
    name: str
    reason: str = Field(description="`selected`, or why it came along: `needed by sales_order`.")


class ObjectRun(Response):
    """One object of a session, with its counts."""

    name: str
    status: str = Field(description="pending, running, completed, failed, cancelled or skipped.")
    reason: str | None = None
    total: int | None = Field(description="Records to process; null until the first page.")
    processed: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    pushed: int
    conflicts: int
    failed: int
    api_calls: int
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    heartbeat_at: Timestamp | None = None
    stalled: bool = Field(
        default=False, description="Running, but its worker has not reported for 2 minutes."
    )
    resumed_from: int | None = Field(
        default=None, description="The cancelled session whose unfinished pull of this object "
        "this run carries on from its checkpoint, if any.")


class OnlyRecord(Response):
    object: str
    id: int


class SessionDocument(Response):
    """A sync session (DESIGN §7 contract fields, plus created_at, failure_reason, created_by
    and current_record_label)."""

    id: int
    status: SessionStatus
    mode: Mode
    created_at: Timestamp | None = None
    started_at: Timestamp | None
    completed_at: Timestamp | None
    duration_s: float | None = Field(description="Seconds from start to end (or to now).")
    selected_objects: list[str]
    planned_objects: list[PlannedObject] = Field(description="Run order, dependencies added.")
    current_object: str | None
    current_record_id: str | None
    current_record_label: str | None = Field(
        default=None, description="The current record as people know it: a transaction's ref "
        "number, a customer's, vendor's or item's full name (null when it has none).")
    total_records: int
    processed_records: int
    progress_percentage: int = Field(
        ge=0, le=100, description="Never goes backwards; 100 only when the session completed."
    )
    error_count: int
    cancel_requested: bool
    stalled: bool = Field(
        default=False,
        description="Active, but a worker has gone quiet; the object resumes from its checkpoint.",
    )
    failure_reason: str | None = None
    created_by: str | None = None
    only_record: OnlyRecord | None = Field(
        default=None, description="A session limited to one record (\"Sync this record "
        "now\"): read again by id from QuickBooks, then pushed if the WMS changed it.")
    objects: list[ObjectRun]


class SessionPage(Response):
    sessions: list[SessionDocument] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class SyncErrorDocument(Response):
    """A record that could not be synced, or why an object stopped."""

    id: int | None = None
    object_type: str
    object_id: str | None = Field(description="The QuickBooks id, when there is one.")
    record_label: str | None = Field(
        default=None, description="The record as people know it: a transaction's ref number, "
        "a customer's, vendor's or item's full name (null when it has none).")
    local_id: int | None = None
    phase: str = Field(description="`pull` or `push`.")
    code: str
    message: str
    retryable: bool | None = None
    created_at: Timestamp | None


class ErrorPage(Response):
    errors: list[SyncErrorDocument] = Field(description="Oldest first.")
    next_cursor: str | None


class QuickBooksConnection(Response):
    mode: Literal["conductor", "simulator"]
    reachable: bool


class Status(Response):
    last_successful_sync_at: Timestamp | None
    current_session: SessionDocument | None = Field(
        description="The pending or running session, else the latest; null when there is none."
    )
    quickbooks: QuickBooksConnection


class OpenAPIDocument(Response):
    """This API's OpenAPI 3.1 description."""

    model_config = ConfigDict(extra="allow")
    openapi: str


# --- requests ------------------------------------------------------------------------------


class StartSessionRequest(BaseModel):
    """Start a sync. Leave out `objects` (or send `[]`) to sync everything."""

    model_config = ConfigDict(extra="forbid", strict=True)

    objects: list[ObjectName] | None = Field(
        default=None,
        max_length=MAX_OBJECTS_PER_REQUEST,
        description="Object names from `GET /api/v1/objects`; dependencies are added.",
    )
    mode: Mode = Field(
        default="incremental",
        description="`incremental`: only what changed since the last sync; `full`: everything.",
    )


class PageQuery(BaseModel):
    """Paging of history and error lists."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=DEFAULT_PAGE_LIMIT, ge=1, le=MAX_PAGE_LIMIT)
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_CHARS,
        description="The `next_cursor` of the previous page (opaque).",
    )
