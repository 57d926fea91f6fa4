"""The triggers that stamp WMS changes made straight into the mirror tables (DESIGN §4).

A WMS may write the mirror tables with SQL instead of the records API. Whenever a WMS column
of a synced row changes (or a row is inserted) outside the sync, the row's `local_updated_at`
becomes the database's clock and `wms_pending` is set; a line inserted, changed or deleted does
the same to its header (lines carry no sync columns). The sync's own writes are told apart by
a mark only the sync's transactions carry (webapp.sync.writing): on PostgreSQL the
transaction-local setting `qbsync.sync_writer`, on SQLite an uncommitted row of
`sync_write_marker` (SQLite has one writer at a time, so no other transaction can see it).

The DDL is generated from the models' columns; migrations call `install` with the tables of
their revision, and `drop` before changing a table's columns.
"""

from __future__ import annotations

from sqlalchemy import Table

from webapp.models.wms import SYNC_COLUMNS

SETTING = "qbsync.sync_writer"  # named in the functions below too
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
_NOT_SYNC_SQLITE = "NOT EXISTS (SELECT 1 FROM sync_write_marker)"

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION qbsync_wms_row_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('qbsync.sync_writer', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - TG_ARGV::text[]) = (to_jsonb(OLD) - TG_ARGV::text[])
    THEN
        RETURN NEW;
    END IF;
    NEW.local_updated_at := clock_timestamp();
    NEW.wms_pending := true;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION qbsync_wms_line_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_now jsonb;
    row_then jsonb;
BEGIN
    IF current_setting('qbsync.sync_writer', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN row_now := to_jsonb(NEW); END IF;
    IF TG_OP <> 'INSERT' THEN row_then := to_jsonb(OLD); END IF;
    IF row_now IS NOT DISTINCT FROM row_then THEN
        RETURN NULL;
    END IF;
    EXECUTE format('UPDATE %I SET local_updated_at = clock_timestamp(), wms_pending = true'
                   ' WHERE id = $1 OR id = $2', TG_ARGV[1])
        USING (row_now ->> TG_ARGV[0])::integer, (row_then ->> TG_ARGV[0])::integer;
    RETURN NULL;
END $$;
"""


def _names(table: Table, header: bool, absent: frozenset[str] = frozenset()) -> list[str]:
    return [c.name for c in table.columns
            if (not header or c.name not in SYNC_COLUMNS) and c.name not in absent]


def postgresql(headers: list[Table], lines: list[tuple[Table, str, Table]]) -> list[str]:
    statements = [_PG_FUNCTIONS]
    excluded = ", ".join(f"'{name}'" for name in SYNC_COLUMNS)
    for table in headers:
        statements.append(
            f"CREATE TRIGGER {table.name}_wms_change BEFORE INSERT OR UPDATE ON {table.name} "
            f"FOR EACH ROW EXECUTE FUNCTION qbsync_wms_row_changed({excluded})")
    for table, parent, header in lines:
        statements.append(
            f"CREATE TRIGGER {table.name}_wms_change AFTER INSERT OR UPDATE OR DELETE ON "
            f"{table.name} FOR EACH ROW EXECUTE FUNCTION "
            f"qbsync_wms_line_changed('{parent}', '{header.name}')")
    return statements


def sqlite(headers: list[Table], lines: list[tuple[Table, str, Table]],
           absent: frozenset[str] = frozenset()) -> list[str]:
    stamp = f"SET local_updated_at = {SQLITE_NOW}, wms_pending = 1"
    statements = []
    for table in headers:
        changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}"
                              for name in _names(table, True, absent))
        statements += [
            f"CREATE TRIGGER {table.name}_wms_insert AFTER INSERT ON {table.name} "
            f"WHEN {_NOT_SYNC_SQLITE} BEGIN UPDATE {table.name} {stamp} WHERE id = NEW.id; END",
            f"CREATE TRIGGER {table.name}_wms_update AFTER UPDATE ON {table.name} "
            f"WHEN {_NOT_SYNC_SQLITE} AND ({changed}) "
            f"BEGIN UPDATE {table.name} {stamp} WHERE id = NEW.id; END",
        ]
    for table, parent, header in lines:
        changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}"
                              for name in _names(table, False, absent))
        update = f"UPDATE {header.name} {stamp} WHERE id = "
        statements += [
            f"CREATE TRIGGER {table.name}_wms_insert AFTER INSERT ON {table.name} "
            f"WHEN {_NOT_SYNC_SQLITE} BEGIN {update}NEW.{parent}; END",
            f"CREATE TRIGGER {table.name}_wms_update AFTER UPDATE ON {table.name} "
            f"WHEN {_NOT_SYNC_SQLITE} AND ({changed}) "
            f"BEGIN {update}NEW.{parent}; {update}OLD.{parent}; END",
            f"CREATE TRIGGER {table.name}_wms_delete AFTER DELETE ON {table.name} "
            f"WHEN {_NOT_SYNC_SQLITE} BEGIN {update}OLD.{parent}; END",
        ]
    return statements


def trigger_names(dialect: str, headers: list[Table], lines: list[tuple]) -> list[tuple]:
    """(trigger, table) of every trigger `install` creates."""
    if dialect == "postgresql":
        return [(f"{t.name}_wms_change", t.name) for t in [*headers, *(x[0] for x in lines)]]
    names = [(f"{t.name}_wms_{op}", t.name) for t in headers for op in ("insert", "update")]
    return names + [(f"{t.name}_wms_{op}", t.name) for t, _, _ in lines
                    for op in ("insert", "update", "delete")]


def mirror_tables() -> tuple[list[Table], list[tuple[Table, str, Table]]]:
    """The synced header tables, and (line table, parent column, header table) of each."""
    from webapp.models import wms

    headers = [wms.Customer, wms.Vendor, wms.Item, wms.SalesOrder, wms.PurchaseOrder,
               wms.Invoice, wms.InventoryAdjustment]
    lines = [(wms.SalesOrderLine, "sales_order_id", wms.SalesOrder),
             (wms.PurchaseOrderLine, "purchase_order_id", wms.PurchaseOrder),
             (wms.InvoiceLine, "invoice_id", wms.Invoice),
             (wms.InventoryAdjustmentLine, "inventory_adjustment_id", wms.InventoryAdjustment)]
    return ([m.__table__ for m in headers],
            [(line.__table__, parent, header.__table__) for line, parent, header in lines])


def install(execute, dialect: str, absent: tuple[str, ...] = ()) -> None:
    """Create the triggers (through `execute(sql)`, e.g. Alembic's `op.execute`); `absent`
    names columns the models have and the database does not (a downgrade removed them)."""
    headers, lines = mirror_tables()
    if dialect == "postgresql":  # its triggers compare whole rows: they name no column
        statements = postgresql(headers, lines)
    else:
        statements = sqlite(headers, lines, frozenset(absent))
    for statement in statements:
        execute(statement)


def drop(execute, dialect: str) -> None:
    headers, lines = mirror_tables()
    for name, table in trigger_names(dialect, headers, lines):
        execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql"
                                                     else ""))
    if dialect == "postgresql":
        execute("DROP FUNCTION IF EXISTS qbsync_wms_row_changed()")
        execute("DROP FUNCTION IF EXISTS qbsync_wms_line_changed()")
