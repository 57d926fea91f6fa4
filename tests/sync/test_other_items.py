"""Lines whose item is of a kind the WMS does not mirror (discount, subtotal, sales-tax,
assembly items, item groups) are valid lines, not broken references: they keep the id and the
name the line carries, and nothing is looked up for them (issue 21: each lookup is a request,
and a request costs QuickBooks seconds)."""

from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import (
    Invoice,
    InvoiceLine,
    Item,
    SalesOrder,
    SalesOrderLine,
    SyncError,
    SyncSession,
)
from webapp.sync import manager
from webapp.sync.engine import run_object
from webapp.sync.objects.item import NOT_MIRRORED_ITEM_RESOURCES

QBD = "/v1/quickbooks-desktop"
GHOST = "80000FFF-0000000000"


def other_kinds(qb) -> dict[str, str]:
    """{QuickBooks id: resource} of every item of the kinds the WMS does not mirror."""
    return {row["id"]: resource for resource in NOT_MIRRORED_ITEM_RESOURCES
            for row in qb.list_page(resource, {"status": "all"})["data"]}


def lookups(sim) -> dict[str, int]:
    """Requests made so far to each not-mirrored item resource."""
    requests = sim.stats()["requests"]
    return {r: requests.get(f"GET {QBD}/{r}", 0) for r in NOT_MIRRORED_ITEM_RESOURCES}


def with_kind(qb, kinds, resource: str, kind: str) -> dict:
    """A record of `resource` that has a line whose item is of `kind`."""
    params = {"limit": 150}
    while True:
        page = qb.list_page(resource, params)
        for record in page["data"]:
            if any(kinds.get(line["item"]["id"]) == kind for line in record["lines"]):
                return record
        assert page["hasMore"], f"no {resource} with a {kind} line"
        params = {"limit": 150, "cursor": page["nextCursor"]}


def test_a_full_pull_writes_lines_of_item_kinds_it_does_not_mirror(sync_app, sim, qb):
    kinds = other_kinds(qb)
    names = {row["id"]: row.get("fullName") or row["name"]
             for resource in NOT_MIRRORED_ITEM_RESOURCES
             for row in qb.list_page(resource, {"status": "all"})["data"]}
    before = lookups(sim)
    doc = sync(mode="full")
    # Then nothing failed, although orders and invoices carry such lines
    assert doc["error_count"] == 0 and db.session.scalar(select(SyncError.id)) is None
    lines = [*db.session.scalars(select(SalesOrderLine)),
             *db.session.scalars(select(InvoiceLine))]
    special = [line for line in lines if line.item_qb_id in kinds]
    found = {kinds[line.item_qb_id] for line in special}
    assert {"discount-items", "subtotal-items", "inventory-assembly-items"} <= found
    # Their lines keep QuickBooks' item id and the name the line carries, with no local item
    assert all(line.item_id is None for line in special)
    assert all(line.item_name == names[line.item_qb_id] for line in special)
    mirrored = dict(db.session.execute(select(Item.qb_id, Item.full_name)).all())
    plain = [line for line in lines if line.item_qb_id in mirrored]
    assert plain and all(line.item_id is not None for line in plain)
    assert all(line.item_name is None for line in plain)  # their item's row names them
    assert {line.item_qb_id for line in lines} <= mirrored.keys() | kinds.keys()
    # And nothing was looked up for them: each transaction object made one request a page
    assert lookups(sim) == before
    runs = objects_by_name(doc)
    for name, resource in (("sales_order", "sales-orders"), ("invoice", "invoices"),
                           ("purchase_order", "purchase-orders")):
        pages = -(-sim.counts()[resource] // 150)
        assert runs[name]["api_calls"] == pages, (name, runs[name]["api_calls"], pages)


def test_an_edited_invoice_with_a_discount_line_is_written_without_a_lookup(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync()
    invoice = with_kind(qb, kinds, "invoices", "discount-items")
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {"memo": "Re-priced"}})
    before = lookups(sim)
    # When the invoices are pulled incrementally
    doc = sync(["invoice"])
    # Then the invoice is written, and nothing was looked up
    assert doc["error_count"] == 0
    assert objects_by_name(doc)["invoice"]["updated"] >= 1
    row = db.session.scalar(select(Invoice).where(Invoice.qb_id == invoice["id"]))
    assert row.memo == "Re-priced"
    discount = next(x for x in row.lines if kinds.get(x.item_qb_id) == "discount-items")
    assert discount.item_id is None and discount.amount < 0 and discount.item_name
    assert lookups(sim) == before


def test_no_lookup_when_every_line_item_is_mirrored(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync()
    page = qb.list_page("invoices", {"limit": 150})["data"]
    invoice = next(r for r in page if not any(x["item"]["id"] in kinds for x in r["lines"])
                   and not r["lineGroups"])  # a group names an item group, not mirrored
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {"memo": "Plain"}})
    before = lookups(sim)
    doc = sync(["invoice"])
    assert doc["error_count"] == 0
    assert lookups(sim) == before


def test_a_line_naming_an_item_the_wms_lacks_keeps_it_and_is_linked_when_it_comes(
        sync_app, sim, qb):
    sync()
    # An inventory item created in QuickBooks after the items were pulled, and an order line
    # naming it (the WMS cannot tell it from a discount item without asking: it does not ask)
    item = qb.create("inventory-items", {"name": "Late Widget", "incomeAccountId": _account(
        qb, "Income"), "assetAccountId": _account(qb, "Other Current Asset"),
        "cogsAccountId": _account(qb, "Cost of Goods Sold")})
    order = with_kind(qb, {i: "mirrored" for i in db.session.scalars(select(Item.qb_id))},
                      "sales-orders", "mirrored")
    lines = [dict(line) for line in order["lines"]]
    lines[0]["item"] = {"id": item["id"], "fullName": item["fullName"]}
    sim.edits({"resource": "sales-orders", "id": order["id"], "raw": True,
               "fields": {"lines": lines}})
    before = lookups(sim)
    # When the sales orders are pulled before the items are (the item came meanwhile)
    session = manager.start_session(["sales_order"], "incremental")
    run = run_object(session.id, "sales_order", qb, settings=sync_app.config)
    assert run.failed == 0
    db.session.execute(SyncSession.__table__.update().values(status="completed"))
    db.session.commit()
    row = db.session.scalar(select(SalesOrder).where(SalesOrder.qb_id == order["id"]))
    late = next(x for x in row.lines if x.item_qb_id == item["id"])
    assert late.item_id is None and late.item_name == "Late Widget"
    # Then the line keeps the item's id and name, and nothing was looked up for it
    assert lookups(sim) == before
    # When the items are synced, the line gets its item
    sync(["item"])
    db.session.expire_all()
    late = db.session.get(SalesOrderLine, late.id)
    local = db.session.scalar(select(Item.id).where(Item.qb_id == item["id"]))
    assert local is not None and late.item_id == local and late.item_name is None
    # and the order has nothing to push: the link is the sync's own write
    assert not db.session.get(SalesOrder, row.id).wms_pending


def test_a_line_naming_an_item_no_one_knows_keeps_its_id_without_a_request(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync()
    invoice = with_kind(qb, kinds, "invoices", "subtotal-items")
    lines = [dict(line) for line in invoice["lines"]]
    lines[0]["item"] = {"id": GHOST, "fullName": "Ghost Item"}
    sim.edits({"resource": "invoices", "id": invoice["id"], "raw": True,
               "fields": {"lines": lines}})
    before = lookups(sim)
    doc = sync(["invoice"])
    assert doc["error_count"] == 0 and objects_by_name(doc)["invoice"]["failed"] == 0
    row = db.session.scalar(select(Invoice).where(Invoice.qb_id == invoice["id"]))
    ghost = next(x for x in row.lines if x.item_qb_id == GHOST)
    assert ghost.item_id is None and ghost.item_name == "Ghost Item"
    # the invoice listing, the deleted-list check and the refresh of its customer and items
    assert lookups(sim) == before and objects_by_name(doc)["invoice"]["api_calls"] <= 4


def _account(qb, kind_name: str) -> str:
    accounts = qb.list_all("accounts", {})
    return next(a["id"] for a in accounts if a.get("accountType", "").replace("_", " ").lower()
                == kind_name.lower() or a.get("name") == kind_name)
