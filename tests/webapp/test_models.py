"""The data model: the one-active-session rule, exact money, UTC timestamps."""

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import make_app
from webapp.extensions import db
from webapp.models import Item, SyncSession

INSERT_SESSION = text(
    "INSERT INTO sync_session (end_user_id, status, mode, selected_objects, planned_objects,"
    " created_at, error_count, progress_percentage)"
    " VALUES ('end_usr_1', 'pending', 'full', '[]', '[]', :now, 0, 0)"
)


def _race_two_inserts(uri: str) -> list[str]:
    """Two connections insert an active session for one company at the same moment."""
    engine = create_engine(uri, connect_args={"timeout": 30} if uri.startswith("sqlite") else {})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def insert():
        with engine.connect() as conn:
            barrier.wait()
            try:
                conn.execute(INSERT_SESSION, {"now": datetime.now(UTC).replace(tzinfo=None)})
                conn.commit()
                outcomes.append("inserted")
            except IntegrityError:
                outcomes.append("refused")

    threads = [threading.Thread(target=insert) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return sorted(outcomes)


def _assert_one_active(uri: str) -> None:
    app = make_app(uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    assert _race_two_inserts(uri) == ["inserted", "refused"]
    with app.app_context():
        # Once the first ends, a new session for the company is allowed again.
        first = db.session.scalar(select(SyncSession))
        first.status = "completed"
        db.session.commit()
        db.session.add(SyncSession(end_user_id="end_usr_1", status="pending", mode="full"))
        db.session.commit()
        # Another company is never blocked.
        db.session.add(SyncSession(end_user_id="end_usr_2", status="running", mode="full"))
        db.session.commit()
        db.session.add(SyncSession(end_user_id="end_usr_2", status="cancelling", mode="full"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()


def test_one_active_session_per_company_under_concurrent_inserts_sqlite(tmp_path):
    _assert_one_active(f"sqlite:///{tmp_path}/race.db")


@pytest.mark.postgres
def test_one_active_session_per_company_under_concurrent_inserts_postgresql(postgres_url):
    _assert_one_active(postgres_url)


def test_money_and_quantities_round_trip_exactly(app):
    item = Item(item_type="inventory", name="Bolt", full_name="Bolt", qb_id="80000001-1",
                sales_price=Decimal("19.99999"), quantity_on_hand=Decimal("0.1"))
    db.session.add(item)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Item, item.id)
    assert stored.sales_price == Decimal("19.99999")
    assert stored.quantity_on_hand + Decimal("0.2") == Decimal("0.3")


def test_timestamps_come_back_as_aware_utc(app):
    eastern = timezone(timedelta(hours=-5))
    local = datetime(2025, 1, 1, 7, 0, tzinfo=eastern)
    item = Item(item_type="service", name="Fit", full_name="Fit", qb_updated_at=local)
    db.session.add(item)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Item, item.id).qb_updated_at
    assert stored == local and stored.tzinfo == UTC and stored.hour == 12


def test_naive_timestamps_are_refused(app):
    db.session.add(Item(item_type="service", name="X", full_name="X",
                        qb_updated_at=datetime(2025, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()
