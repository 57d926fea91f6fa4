"""Randomized rounds of edits on both sides, each followed by a sync, checked field by field
against an oracle written from DESIGN §1's rules — not from the code under test.

The oracle keeps, for every field it edits, the base (QuickBooks' value as of the last sync)
and the WMS's value. After each sync it reads QuickBooks through Conductor's API and says what
the WMS must now hold:

    WMS unchanged (w == b)          -> QuickBooks' value
    QuickBooks unchanged (q == b)   -> the WMS's value
    both made the same change       -> that value
    both changed, differently       -> a conflict, decided by the object's rule:
        customer / vendor contact fields -> the WMS; their other fields -> QuickBooks
        item -> the later change: QuickBooks' updatedAt against the row's local_updated_at
        sales order header and lines (by QuickBooks line id) -> QuickBooks

and counts the conflicts the session must have logged. The push then sends what the WMS
kept: after each sync QuickBooks holds the same values, nothing is pending, and every
WMS-created customer exists in QuickBooks exactly once. Rounds mix faults (the runner
retries) and cancelled syncs.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, text

from tests.sync.conftest import sync
from webapp.extensions import db
from webapp.models import Customer, Item, SalesOrder, SalesOrderLine, SyncRecordEvent, Vendor
from webapp.sync import manager

ROUNDS = 6
CONTACT = {"email", "phone", "billing_address"}


def _address(value):
    if not value:
        return None
    kept = {k: v for k, v in value.items() if v not in (None, "")}
    return kept or None


def _money(value):
    return None if value is None else Decimal(str(value))


# object -> (model, QuickBooks resource, [(column, read from QuickBooks, QuickBooks update)])
FIELDS = {
    "customer": (Customer, "customers", [
        ("email", lambda r: r["email"], lambda v, r: {"email": v}),
        ("phone", lambda r: r["phone"], lambda v, r: {"phone": v}),
        ("company_name", lambda r: r["companyName"], lambda v, r: {"companyName": v}),
        ("note", lambda r: r["note"], lambda v, r: {"note": v}),
        ("billing_address", lambda r: _address(r["billingAddress"]),
         lambda v, r: {"billingAddress": v}),
    ]),
    "vendor": (Vendor, "vendors", [
        ("email", lambda r: r["email"], lambda v, r: {"email": v}),
        ("note", lambda r: r["note"], lambda v, r: {"note": v}),
        ("account_number", lambda r: r["accountNumber"], lambda v, r: {"accountNumber": v}),
    ]),
    "item": (Item, "inventory-items", [
        ("sales_description", lambda r: r["salesDescription"],
         lambda v, r: {"salesDescription": v}),
        ("purchase_description", lambda r: r["purchaseDescription"],
         lambda v, r: {"purchaseDescription": v}),
        ("sales_price", lambda r: _money(r["salesPrice"]),
         lambda v, r: {"salesPrice": format(v, "f")}),
    ]),
    "sales_order": (SalesOrder, "sales-orders", [
        ("memo", lambda r: r["memo"], lambda v, r: {"memo": v}),
        ("purchase_order_number", lambda r: r["purchaseOrderNumber"],
         lambda v, r: {"purchaseOrderNumber": v}),
    ]),
}


def rule_winner(obj: str, column: str, qb_record: dict, local_updated_at) -> str:
    """DESIGN §1, read by a person: who wins a field both sides changed."""
    if obj in ("customer", "vendor"):
        return "wms" if column in CONTACT else "quickbooks"
    if obj == "item":
        qb_at = datetime.fromisoformat(qb_record["updatedAt"])
        return "wms" if local_updated_at is not None and local_updated_at > qb_at else "quickbooks"
    return "quickbooks"


class Oracle:
    def __init__(self, qb, rng: random.Random):
        self.qb, self.rng = qb, rng
        self.records: dict[str, list[dict]] = {}  # object -> tracked QuickBooks records
        self.base: dict[tuple, object] = {}  # (object, qb id, column) -> base
        self.wms: dict[tuple, object] = {}  # (object, qb id, column) -> what the WMS holds
        self.line_base: dict[tuple, object] = {}  # (order id, line id) -> quantity
        self.line_wms: dict[tuple, object] = {}
        self.created: list[tuple[int, str]] = []  # WMS-created customers: (id, name)
        self.counter = 0

    def fresh(self, obj: str) -> dict[str, dict]:
        resource = FIELDS[obj][1]
        ids = [r["id"] for r in self.records[obj]]
        return {r["id"]: r for r in self.qb.list_page(resource, {"ids": ids})["data"]}

    def track(self) -> None:
        """Pick the records to play with, and take their values as the base."""
        for obj, (_, resource, _) in FIELDS.items():
            page = self.qb.list_page(resource, {"limit": 150})["data"]
            if obj == "sales_order":
                page = [o for o in page if o["lines"] and not o["lineGroups"]
                        and all(line["item"] for line in o["lines"])]
            self.records[obj] = [r for r in page if r.get("isActive", True)][:8]
        self.settle()

    def settle(self) -> None:
        """After a checked sync: QuickBooks' values are the new base."""
        for obj, (_, _, fields) in FIELDS.items():
            for record in self.fresh(obj).values():
                for column, read, _ in fields:
                    self.base[(obj, record["id"], column)] = read(record)
                    self.wms.setdefault((obj, record["id"], column), read(record))
                if obj == "sales_order":
                    for line in record["lines"]:
                        key = (record["id"], line["id"])
                        self.line_base[key] = _money(line["quantity"])
                        self.line_wms.setdefault(key, _money(line["quantity"]))

    def value(self, column: str, old):
        self.counter += 1
        if column == "billing_address":
            return {**(old or {}), "city": f"City{self.counter}"}
        if column == "sales_price":
            return Decimal(self.counter) + Decimal("0.25")
        return f"v{self.counter}"

    def edit_round(self, sim) -> None:
        rng = self.rng
        for obj, (model, resource, fields) in FIELDS.items():
            for record in rng.sample(self.records[obj], 4):
                for column, _, update in rng.sample(fields, rng.randint(1, len(fields))):
                    key = (obj, record["id"], column)
                    side = rng.choice(("wms", "qb", "both", "both_same"))
                    value = self.value(column, self.wms[key])
                    if side in ("wms", "both", "both_same"):
                        self._wms_write(model, record["id"], column, value)
                        self.wms[key] = value
                    if side in ("qb", "both", "both_same"):
                        qb_value = value if side == "both_same" else self.value(
                            column, self.base[key])
                        sim.edits({"resource": resource, "id": record["id"],
                                   "fields": update(qb_value, record)})
        for order in rng.sample(self.records["sales_order"], 3):
            current = self.fresh("sales_order")[order["id"]]
            line = rng.choice(current["lines"])
            key = (order["id"], line["id"])
            side = rng.choice(("wms", "qb", "both"))
            if side in ("wms", "both"):
                quantity = Decimal(rng.randint(1, 40))
                self._wms_line(order["id"], line["id"], quantity)
                self.line_wms[key] = quantity
            if side in ("qb", "both"):
                lines = [{"id": x["id"]} for x in current["lines"]]
                lines[current["lines"].index(line)]["quantity"] = rng.randint(41, 80)
                sim.edits({"resource": "sales-orders", "id": order["id"],
                           "fields": {"lines": lines}})
        name = f"WMS Customer {self.counter}"
        self.counter += 1
        db.session.execute(text("INSERT INTO wms_customer (name, full_name, sublevel, is_active,"
                                " email) VALUES (:n, :n, 0, true, :e)"),
                           {"n": name, "e": f"{self.counter}@wms.example"})
        db.session.commit()
        self.created.append((db.session.scalar(select(Customer.id).where(
            Customer.name == name)), name))

    @staticmethod
    def _wms_write(model, qb_id: str, column: str, value) -> None:
        row = db.session.scalar(select(model).where(model.qb_id == qb_id))
        setattr(row, column, value)
        db.session.commit()

    @staticmethod
    def _wms_line(order_qb_id: str, qb_line_id: str, quantity) -> None:
        order = db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == order_qb_id))
        line = db.session.scalar(select(SalesOrderLine).where(
            SalesOrderLine.sales_order_id == order.id, SalesOrderLine.qb_line_id == qb_line_id))
        line.quantity = quantity
        db.session.commit()

    def clocks(self) -> dict[tuple, object]:
        """The rows' WMS clocks before the sync (the rule's input, not its decision)."""
        return {(obj, row.qb_id): row.local_updated_at
                for obj, (model, _, _) in FIELDS.items()
                for row in db.session.scalars(select(model).where(
                    model.qb_id.in_([r["id"] for r in self.records[obj]])))}

    def check(self, before: dict, clocks: dict, sessions: list[int]) -> None:
        """`before`: QuickBooks' records as the sync found them (after this round's edits)."""
        db.session.expire_all()
        conflicts = 0
        for obj, (model, _, fields) in FIELDS.items():
            after = self.fresh(obj)
            for qb_id, record in before[obj].items():
                row = db.session.scalar(select(model).where(model.qb_id == qb_id))
                for column, read, _ in fields:
                    key = (obj, qb_id, column)
                    b, w, q = self.base[key], self.wms[key], read(record)
                    if w in (b, q):  # the WMS changed nothing, or what QuickBooks did
                        expected = q
                    elif q == b:
                        expected = w
                    else:
                        conflicts += 1
                        winner = rule_winner(obj, column, record, clocks[(obj, qb_id)])
                        expected = w if winner == "wms" else q
                    got = getattr(row, column)
                    got = _address(got) if column == "billing_address" else got
                    assert got == expected, (obj, qb_id, column, b, w, q, got)
                    # and QuickBooks got what the WMS kept: both sides agree
                    assert read(after[qb_id]) == expected, (obj, qb_id, column, "in QuickBooks")
                    self.wms[key] = expected
                assert row.wms_pending is False, (obj, qb_id, row.push_error)
                if obj == "sales_order":
                    conflicts += self._check_lines(row, record, after[qb_id])
        for local_id, name in self.created:  # created in QuickBooks, exactly once
            row = db.session.get(Customer, local_id)
            assert row is not None and row.name == name and row.qb_id is not None
            assert row.wms_pending is False
            named = self.qb.list_page("customers", {"fullNames": [name], "status": "all"})
            assert [r["id"] for r in named["data"]] == [row.qb_id]
        logged = db.session.scalar(select(func.count()).select_from(SyncRecordEvent).where(
            SyncRecordEvent.session_id.in_(sessions), SyncRecordEvent.action == "conflict"))
        assert logged == conflicts

    def _check_lines(self, row, record, after) -> int:
        conflicts = 0
        lines = {line.qb_line_id: line for line in db.session.scalars(
            select(SalesOrderLine).where(SalesOrderLine.sales_order_id == row.id))}
        for qb_line in record["lines"]:
            key = (record["id"], qb_line["id"])
            b, w, q = self.line_base[key], self.line_wms[key], _money(qb_line["quantity"])
            if w in (b, q):  # the WMS changed nothing, or what QuickBooks did
                expected = q
            elif q == b:
                expected = w
            else:  # changed on both sides: QuickBooks' version
                conflicts += 1
                expected = q
            assert lines[qb_line["id"]].quantity == expected, (key, b, w, q)
            self.line_wms[key] = expected
        pushed = {line["id"]: _money(line["quantity"]) for line in after["lines"]}
        assert pushed == {k: v.quantity for k, v in lines.items()}  # both sides agree
        return conflicts


def _sync_until_done(sim, rng: random.Random, n: int) -> int:
    """One round's sync: some under faults, some cancelled after their first page and then
    run again; returns the id of the session whose conflicts are checked."""
    objects = ["customer", "vendor", "item", "sales_order"]
    if n % 3 == 1:
        sim.faults(fault_rate=0.1)
    ids = []
    if n % 3 == 2:
        def cancel_after_first_page(run):
            if not ids:
                ids.append(run.session_id)
                manager.cancel_session(run.session_id)
        sync(objects, expect="cancelled", on_progress=cancel_after_first_page)
    doc = sync(objects, max_attempts=30)
    sim.faults(fault_rate=0.0)
    return [*ids, doc["id"]]


def test_random_rounds_of_edits_on_both_sides_follow_the_rules(any_sync_app, sim, any_qb):
    rng = random.Random(1507)
    sync(["customer", "vendor", "item", "sales_order"])
    oracle = Oracle(any_qb, rng)
    oracle.track()
    for n in range(ROUNDS):
        oracle.edit_round(sim)
        clocks = oracle.clocks()
        before = {obj: oracle.fresh(obj) for obj in FIELDS}
        sessions = _sync_until_done(sim, rng, n)
        oracle.check(before, clocks, sessions)
        oracle.settle()
