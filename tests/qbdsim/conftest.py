"""Fixtures for the simulator's tests: servers on free ports, the real conductor-py client, and
raw HTTP access for checking the wire format against the spec."""

from __future__ import annotations

import pytest

from qbdsim.config import SimConfig
from qbdsim.testing import SimHttp, conductor_client, running_simulator

ANCHOR = "2026-01-15T12:00:00"
SMALL_SIZE = 300


@pytest.fixture
def server():
    """A fresh small company (300 records) for tests that write."""
    with running_simulator(size=SMALL_SIZE, anchor=ANCHOR) as sim:
        yield sim


@pytest.fixture(scope="module")
def shared_server():
    """A company shared by the read-only tests of one module (history up to now)."""
    with running_simulator(size=800, seed=7) as sim:
        yield sim


@pytest.fixture
def wire(server):
    """Raw HTTP access to ``server``."""
    raw = SimHttp(server)
    yield raw
    raw.close()


@pytest.fixture(scope="module")
def shared_wire(shared_server):
    """Raw HTTP access to ``shared_server``."""
    raw = SimHttp(shared_server)
    yield raw
    raw.close()


@pytest.fixture
def client(server):
    """The real conductor-py client on ``server``: no retries, responses checked by its models."""
    with conductor_client(server, max_retries=0, _strict_response_validation=True) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def shared_client(shared_server):
    """The real conductor-py client on ``shared_server`` (as ``client``)."""
    with conductor_client(shared_server, max_retries=0, _strict_response_validation=True) as sdk:
        yield sdk


@pytest.fixture(scope="session")
def eu() -> str:
    """The end-user id the simulator answers to."""
    return SimConfig().end_user_id


@pytest.fixture
def accounts(client, eu) -> dict[str, str]:
    """Account ids by full name."""
    return {a.full_name: a.id for a in client.qbd.accounts.list(conductor_end_user_id=eu).data}


@pytest.fixture
def widget(client, eu, accounts):
    """A new inventory item with 10 on hand at 12.50."""
    return client.qbd.inventory_items.create(
        conductor_end_user_id=eu,
        name="Test Widget",
        income_account_id=accounts["Sales:Merchandise"],
        cogs_account_id=accounts["Cost of Goods Sold"],
        asset_account_id=accounts["Inventory Asset"],
        sales_price="12.50",
        purchase_cost="5.00",
        quantity_on_hand=10,
    )


@pytest.fixture
def customer(client, eu):
    """A new customer."""
    return client.qbd.customers.create(conductor_end_user_id=eu, name="Test Customer Ltd")
