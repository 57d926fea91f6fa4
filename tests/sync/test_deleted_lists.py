"""Customers, vendors and items in QuickBooks' deleted-object list: which are really gone.

QuickBooks lists a list object made inactive among the deleted ones too, so each listed id is
looked up (`ids=`): only the ones it no longer holds are marked deleted in the WMS.
"""

from sqlalchemy import select

from tests.sync.conftest import objects_by_name, sync
from webapp.extensions import db
from webapp.models import Customer, Item

ITEM_LISTINGS = ("inventory-items", "non-inventory-items", "service-items", "other-charge-items")


def _calls(sim, resource: str) -> int:
    return sim.stats()["requests"].get(f"GET /v1/quickbooks-desktop/{resource}", 0)


def test_throttling_during_the_check_never_marks_a_live_record_deleted(sync_app, sim, qb):
    # Given a customer made inactive in QuickBooks (so listed as deleted, yet still there)
    sync(["customer"], qb=qb)
    victim = next(c for c in qb.list_page("customers", {"limit": 150})["data"]
                  if not c["parent"])
    sim.edits({"delete": {"resource": "customers", "id": victim["id"]}})
    # and Conductor throttling (429) the lookup that asks QuickBooks whether it still has it,
    # once (the SDK's own retries of it included)
    read_deleted, look_up = qb.list_all, qb.lookup
    throttled = []

    def list_all(resource, params):
        records = read_deleted(resource, params)
        if resource == "deleted-list-objects" and not throttled:
            throttled.append(resource)
            sim.faults(fault_rate=1.0, fault_kinds=["429"])
        return records

    def lookup(resource, params):
        try:
            return look_up(resource, params)
        finally:
            sim.faults(fault_rate=0.0)

    qb.list_all, qb.lookup = list_all, lookup
    # When the next sync runs
    doc = sync(["customer"], qb=qb)
    # Then the throttled lookup was retried, not taken for "unknown to QuickBooks": the
    # customer is inactive in the WMS, as in QuickBooks, and not deleted
    assert throttled and objects_by_name(doc)["customer"]["deleted"] == 0
    row = db.session.scalar(select(Customer).where(Customer.qb_id == victim["id"]))
    assert row.qb_deleted_at is None and row.is_active is False


def test_a_deleted_item_is_looked_for_in_its_own_item_type_only(sync_app, sim, qb):
    # Given items synced, and three service items then removed from QuickBooks
    sync(["item"], qb=qb)
    services = [i for i in qb.list_page("service-items", {"limit": 150, "status": "all"})["data"]
                if not i["parent"] and not any((j["parent"] or {}).get("id") == i["id"]
                                               for j in qb.list_page("service-items", {
                                                   "limit": 150, "status": "all"})["data"])]
    purged = [i["id"] for i in services[:3]]
    for qb_id in purged:
        sim.edits({"delete": {"resource": "service-items", "id": qb_id, "purge": True}})
    before = {resource: _calls(sim, resource) for resource in ITEM_LISTINGS}
    # When the next sync runs
    doc = sync(["item"], qb=qb)
    # Then they are deleted in the WMS ...
    assert objects_by_name(doc)["item"]["deleted"] == 3
    rows = db.session.scalars(select(Item).where(Item.qb_id.in_(purged))).all()
    assert len(rows) == 3 and all(row.qb_deleted_at is not None for row in rows)
    # ... and the other item types were asked only for their usual incremental listing
    spent = {resource: _calls(sim, resource) - before[resource] for resource in ITEM_LISTINGS}
    assert all(spent[resource] == 1 for resource in ITEM_LISTINGS if resource != "service-items")
    assert spent["service-items"] > 1
