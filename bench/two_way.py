"""Benchmarks of two-way sync (issues 15 and 16). Not run by `make test`.

Figures, each against a baseline measured in the same run:

merge (issue 15), on a company of --size records (SQLite):
1. records/s of a full pull into a mirror where 10 % of the rows carry WMS edits, over the
   records/s of the same pull into the same mirror without them. Both mirrors are copies of
   one synced database with every fingerprint cleared, so every record is rewritten; the
   push is switched off for both, so only the pull (and its merge) is timed;
2. the ledger's rows and payload bytes (the text of its columns) after the first full sync,
   and those an incremental sync of 100 QuickBooks changes adds.

push (issue 16), with --latency-ms per request:
3. --changes WMS changes (updates of existing rows and new rows, mixed) pushed by one sync:
   wall time of the sync minus that of a sync with nothing to send (measured just before), over
   writes x latency — should be <= 1.05;
4. requests of that sync minus those of the no-change sync, over records pushed — 1.00 plus one
   re-read per conflict;
5. requests of a sync where nothing changed on either side, all objects.

Usage: python bench/two_way.py [--size 20000] [--changes 2000] [--latency-ms 300]
                               [--skip-merge] [--skip-push]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pull import Simulator, make_app  # noqa: E402

ALL = ["customer", "vendor", "item", "sales_order", "purchase_order", "invoice",
       "inventory_adjustment"]


def run(app, objects=None, mode="incremental"):
    from webapp.sync import manager, runner

    with app.app_context():
        session = manager.start_session(objects, mode)
        started = time.perf_counter()
        session = runner.run_session(session.id)
        elapsed = time.perf_counter() - started
        doc = manager.session_document(session)
        assert doc["status"] == "completed", doc["failure_reason"]
        return doc, elapsed


def ledger_size(app) -> tuple[int, int]:
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        rows, size = db.session.execute(text(
            "SELECT count(*), coalesce(sum(length(object_type) + length(action)"
            " + length(coalesce(qb_id, '')) + length(coalesce(record_label, ''))"
            " + length(coalesce(field, '')) + length(coalesce(fields, ''))"
            " + length(coalesce(detail, '')) + length(coalesce(revision_before, ''))"
            " + length(coalesce(revision_after, '')) + 40), 0) FROM sync_record_event")).one()
        return rows, size


def merge_figures(sim: Simulator, size: int, work: Path) -> None:
    from sqlalchemy import text

    import webapp.sync.push as push
    from webapp.extensions import db

    base = work / "synced.db"
    app = make_app(sim.url, str(base))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    doc, elapsed = run(app, mode="full")
    rows, payload = ledger_size(app)
    records = sum(o["processed"] for o in doc["objects"])
    print(f"first full sync: {records} records in {elapsed:.1f}s;"
          f" ledger {rows} rows, {payload / 1e6:.2f} MB payload"
          f" ({payload / max(rows, 1):.0f} bytes a row)")
    sim.http.post("/_sim/edits", json={"random": 100}).raise_for_status()
    run(app)
    rows2, payload2 = ledger_size(app)
    print(f"incremental sync of 100 QuickBooks changes: ledger +{rows2 - rows} rows,"
          f" +{(payload2 - payload) / 1e3:.1f} kB payload")
    with app.app_context():
        db.engine.dispose()

    real_push, push.push_object = push.push_object, lambda ctx: None  # the pull alone
    figures = {}
    for label, edited in (("no WMS edits", 0.0), ("10 % WMS edits", 0.1)):
        best = None
        for attempt in range(2):
            copy = work / f"copy-{edited}-{attempt}.db"
            shutil.copy(base, copy)
            app = make_app(sim.url, str(copy))
            with app.app_context():
                db.session.execute(text("UPDATE sync_state SET watermark = NULL"))
                for table in ("wms_customer", "wms_vendor", "wms_item", "wms_sales_order",
                              "wms_purchase_order"):
                    db.session.execute(text(f"UPDATE {table} SET sync_hash = NULL"))  # noqa: S608
                    if edited:
                        db.session.execute(text(  # noqa: S608
                            f"UPDATE {table} SET {'memo' if 'order' in table else 'note'}"
                            f" = 'edited in the WMS' WHERE abs(random()) % 10 = 0"
                            if table != "wms_item" else
                            "UPDATE wms_item SET sales_description = 'edited in the WMS'"
                            " WHERE abs(random()) % 10 = 0"))
                db.session.commit()
            doc, elapsed = run(app, mode="full")
            rate = sum(o["processed"] for o in doc["objects"]) / elapsed
            best = rate if best is None else max(best, rate)
            with app.app_context():
                db.engine.dispose()
        figures[label] = best
        print(f"full pull, {label}: {best:,.0f} records/s")
    push.push_object = real_push
    print(f"(1) with 10 % WMS edits / without: "
          f"{figures['10 % WMS edits'] / figures['no WMS edits']:.2f}")


def push_figures(sim: Simulator, size: int, changes: int, latency_ms: int, work: Path) -> None:
    from sqlalchemy import select, text

    from webapp.extensions import db
    from webapp.models import Customer, Item

    path = work / "push.db"
    app = make_app(sim.url, str(path))
    app.config.update(QBSYNC_DEFAULT_INCOME_ACCOUNT="Sales:Merchandise",
                      QBSYNC_DEFAULT_COGS_ACCOUNT="Cost of Goods Sold",
                      QBSYNC_DEFAULT_ASSET_ACCOUNT="Inventory Asset")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    run(app, mode="full")
    sim.faults(latency_ms=latency_ms)
    calls = lambda: sim.http.get("/_sim/stats").json()["total"]  # noqa: E731
    before = calls()
    _, quiet_s = run(app, ALL)
    quiet_calls = calls() - before
    print(f"(5) a sync with nothing to do: {quiet_calls} requests, {quiet_s:.1f}s")
    rng = random.Random(16)
    with app.app_context():
        customers = db.session.scalars(select(Customer.id).where(
            Customer.qb_id.is_not(None), Customer.is_active)).all()
        items = db.session.scalars(select(Item.id).where(
            Item.qb_id.is_not(None), Item.is_active, Item.item_type == "service")).all()
        for n in range(changes):
            if n % 4 == 3:  # one in four is a new customer
                db.session.execute(text(
                    "INSERT INTO wms_customer (name, full_name, sublevel, is_active) VALUES"
                    " (:n, :n, 0, true)"), {"n": f"Bench Customer {n}"})
            elif n % 4 == 2 and items:
                db.session.execute(text("UPDATE wms_item SET sales_description = :d WHERE id"
                                        " = :i"), {"d": f"bench {n}", "i": items.pop()})
            else:
                db.session.execute(text("UPDATE wms_customer SET email = :e WHERE id = :i"),
                                   {"e": f"bench{n}@wms.example",
                                    "i": customers.pop(rng.randrange(len(customers)))})
        db.session.commit()
    before = calls()
    doc, elapsed = run(app, ALL)
    spent = calls() - before
    pushed = sum(o["pushed"] for o in doc["objects"])
    conflicts = sum(o["conflicts"] for o in doc["objects"])
    push_s = elapsed - quiet_s
    print(f"pushed {pushed} records ({conflicts} conflicts) in {elapsed:.1f}s, "
          f"{spent} requests")
    print(f"(3) wall / (writes x latency): {push_s / (pushed * latency_ms / 1000):.3f}")
    print(f"(4) requests / records pushed: {(spent - quiet_calls) / pushed:.3f}")
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--push-size", type=int, default=20000)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--skip-merge", action="store_true")
    parser.add_argument("--skip-push", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_merge:
            sim = Simulator(args.size)
            try:
                merge_figures(sim, args.size, work)
            finally:
                sim.stop()
        if not args.skip_push:
            sim = Simulator(args.push_size)
            try:
                push_figures(sim, args.push_size, args.changes, args.latency_ms, work)
            finally:
                sim.stop()


if __name__ == "__main__":
    main()
