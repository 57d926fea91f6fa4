"""What the progress says the sync is working on: QuickBooks' id, and the record's ref number or
name, which is what people in a warehouse know it by."""

from sqlalchemy import select

from tests.sync.conftest import sync
from webapp.extensions import db
from webapp.models import Customer, SalesOrder, SyncSession


def test_each_page_names_its_last_record_by_ref_number_or_name(sync_app, sim):
    # Given a sync of sales orders (customers and items come first)
    seen = []

    def on_progress(run):
        session = db.session.get(SyncSession, run.session_id)
        seen.append((run.object_name, session.current_record_id, session.current_record_label))

    sync(["sales_order"], on_progress=on_progress)
    # Then after every page the session named the record by what people know it by
    pages = {name: [(i, label) for n, i, label in seen if n == name and i]
             for name in ("customer", "sales_order")}
    assert pages["customer"] and pages["sales_order"]
    for qb_id, label in pages["customer"]:
        assert label == db.session.scalar(select(Customer.full_name)
                                          .where(Customer.qb_id == qb_id))
    orders = [db.session.execute(select(SalesOrder.ref_number)
                                 .where(SalesOrder.qb_id == qb_id)).one_or_none()
              for qb_id, _ in pages["sales_order"]]
    assert None not in orders  # never the record of the object before (an item)
    refs = [order.ref_number for order in orders]
    assert [label for _, label in pages["sales_order"]] == refs  # None: it has no ref number
    assert any(refs)
