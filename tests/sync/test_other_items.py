"""Lines whose item is of a kind the WMS does not mirror (discount, subtotal, sales-tax,
assembly items...) are valid lines, not broken references."""

from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import Invoice, InvoiceLine, Item, SalesOrderLine, SyncError
from webapp.models.types import utcnow
from webapp.sync.objects import registry
from webapp.sync.objects.item import NOT_MIRRORED_ITEM_RESOURCES
from webapp.sync.pull.refs import PRELOAD_AFTER, RefResolver
from webapp.sync.pull.writer import PageWriter

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
    before = lookups(sim)
    doc = sync(mode="full")
    # Then nothing failed, although orders and invoices carry such lines
    assert doc["error_count"] == 0 and db.session.scalar(select(SyncError.id)) is None
    lines = [*db.session.scalars(select(SalesOrderLine)),
             *db.session.scalars(select(InvoiceLine))]
    special = [line for line in lines if line.item_qb_id in kinds]
    found = {kinds[line.item_qb_id] for line in special}
    assert {"discount-items", "subtotal-items", "inventory-assembly-items"} <= found
    # Their lines keep QuickBooks' item id, with no local item
    assert all(line.item_id is None for line in special)
    mirrored = set(db.session.scalars(select(Item.qb_id)))
    assert all(line.item_id is not None for line in lines if line.item_qb_id in mirrored)
    assert {line.item_qb_id for line in lines} <= mirrored | kinds.keys()
    # And looking them up cost at most one listing per resource per object run (sales orders,
    # invoices, and purchase orders, whose line groups name item groups)
    runs = objects_by_name(doc)
    after = lookups(sim)
    assert all(after[r] - before[r] <= 3 for r in NOT_MIRRORED_ITEM_RESOURCES)
    for name, resource in (("sales_order", "sales-orders"), ("invoice", "invoices"),
                           ("purchase_order", "purchase-orders")):
        pages = -(-sim.counts()[resource] // 150)
        assert runs[name]["api_calls"] <= pages + len(NOT_MIRRORED_ITEM_RESOURCES)


def test_an_edited_invoice_with_a_discount_line_is_written_without_error(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync()
    invoice = with_kind(qb, kinds, "invoices", "discount-items")
    sim.edits({"resource": "invoices", "id": invoice["id"], "fields": {"memo": "Re-priced"}})
    before = lookups(sim)
    # When the invoices are pulled incrementally
    doc = sync(["invoice"])
    # Then the invoice is written, and its item kinds were looked up once at most
    assert doc["error_count"] == 0
    assert objects_by_name(doc)["invoice"]["updated"] >= 1
    row = db.session.scalar(select(Invoice).where(Invoice.qb_id == invoice["id"]))
    assert row.memo == "Re-priced"
    discount = next(x for x in row.lines if kinds.get(x.item_qb_id) == "discount-items")
    assert discount.item_id is None and discount.amount < 0
    after = lookups(sim)
    assert all(after[r] - before[r] <= 1 for r in NOT_MIRRORED_ITEM_RESOURCES)
    assert after["discount-items"] - before["discount-items"] == 1


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


def test_an_item_id_no_resource_knows_is_still_a_broken_reference(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync()
    invoice = with_kind(qb, kinds, "invoices", "subtotal-items")
    lines = [dict(line) for line in invoice["lines"]]
    lines[0]["item"] = {"id": GHOST, "fullName": "Ghost Item"}
    sim.edits({"resource": "invoices", "id": invoice["id"], "raw": True,
               "fields": {"lines": lines}})
    doc = sync(["invoice"])
    errors = db.session.scalars(select(SyncError)).all()
    assert [(e.object_id, e.code) for e in errors] == [(invoice["id"], "broken_reference")]
    assert f"refers to item {GHOST}, which QuickBooks cannot find" in errors[0].message
    assert objects_by_name(doc)["invoice"]["failed"] == 1


def test_ids_found_elsewhere_are_never_looked_up_again_in_the_run(sync_app, sim, qb):
    kinds = other_kinds(qb)
    sync(["item"])
    discount = next(qb_id for qb_id, kind in kinds.items() if kind == "discount-items")
    assembly = next(qb_id for qb_id, kind in kinds.items() if kind == "inventory-assembly-items")
    resolver = RefResolver(qb, registry)
    resolver.writer = PageWriter(resolver, lambda *args: None, now=utcnow())
    calls = qb.api_calls
    # The first page needing them lists the resources up to where both are found
    first = resolver.resolve({"item": {discount, assembly}})
    listed = qb.api_calls - calls
    assert first == {"item": {}} and resolver.elsewhere["item"] >= {discount, assembly}
    assert listed == NOT_MIRRORED_ITEM_RESOURCES.index("inventory-assembly-items") + 1
    # Later pages, the whole-id-map preload included, ask QuickBooks nothing more
    for _ in range(PRELOAD_AFTER + 1):
        assert resolver.resolve({"item": {discount, assembly}}) == {"item": {}}
    assert qb.api_calls - calls == listed
