"""A deterministic, realistic company file from ``(size, seed)``.

List objects come first (accounts and supporting lists, then customers with their jobs,
vendors, items with sub-items), transactions after them in time order, each referencing list
objects that existed when it was entered. Timestamps spread over the two years before the
anchor; on-hand quantities, open order quantities and balances are built by the same ledger
the API uses, so they agree with the transactions. The item kinds the simulator only lists
(discounts, subtotals, assemblies...) come last, from their own random stream, and some sales
orders and invoices gain a line using them (``generate_other_items``); last, a few orders and
invoices gain a line group made from an item group (``generate_line_groups``).
"""

from __future__ import annotations

import gc
import random
from datetime import datetime

from qbdsim.config import SimConfig
from qbdsim.generate_line_groups import LineGroupMaker
from qbdsim.generate_lists import ListMaker
from qbdsim.generate_other_items import OtherItemMaker
from qbdsim.generate_txns import TxnMaker
from qbdsim.pools import pools_for
from qbdsim.resources import ITEM_PATHS, SIZED_PATHS
from qbdsim.store import Company
from qbdsim.values import Clock

# Shares of the total size; the rest of a rounding goes to the largest remainders.
SHARES = {
    "customers": 0.15,
    "vendors": 0.05,
    "inventory-items": 0.05,
    "non-inventory-items": 0.02,
    "service-items": 0.02,
    "other-charge-items": 0.01,
    "sales-orders": 0.25,
    "purchase-orders": 0.15,
    "invoices": 0.25,
    "inventory-adjustments": 0.05,
}
# Tiny companies are dealt out in this order, so everything a transaction needs exists first.
DEAL_ORDER = (
    "customers",
    "inventory-items",
    "vendors",
    "sales-orders",
    "service-items",
    "purchase-orders",
    "invoices",
    "inventory-adjustments",
    "non-inventory-items",
    "other-charge-items",
)
SMALL_SIZE = 40
LARGE_SIZE = 5_000


def allocate(size: int) -> dict[str, int]:
    """How many records of each resource make up a company of ``size`` records."""
    counts = dict.fromkeys(SIZED_PATHS, 0)
    if size < SMALL_SIZE:
        for index in range(size):
            counts[DEAL_ORDER[index % len(DEAL_ORDER)]] += 1
        return counts
    exact = {path: size * share for path, share in SHARES.items()}
    counts = {path: int(value) for path, value in exact.items()}
    leftover = size - sum(counts.values())
    by_remainder = sorted(exact, key=lambda p: (exact[p] - counts[p], p), reverse=True)
    for path in by_remainder[:leftover]:
        counts[path] += 1
    return counts


def anchor_ts(config: SimConfig) -> int:
    """The "now" generated history leads up to (``config.anchor`` or the current second)."""
    if config.anchor:
        moment = datetime.fromisoformat(config.anchor)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=config.tzinfo)
        return int(moment.timestamp())
    # A second in the past, so anything written from now on is strictly newer.
    return Clock.wall_ts() - 1


def generate_company(config: SimConfig) -> Company:
    """Build the company for ``config.size`` and ``config.seed``."""
    # Hundreds of thousands of new dicts set off full garbage collections over and over;
    # nothing here forms reference cycles worth collecting meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        company = _generate(config)
    finally:
        if collecting:
            gc.enable()
    if collecting and config.size >= LARGE_SIZE:
        # Age the new objects now: otherwise the first full collection, which has to walk
        # them all, lands in the middle of the first requests.
        gc.collect()
    return company


def _generate(config: SimConfig) -> Company:
    company = Company(Clock(config.tzinfo))
    rng = random.Random(config.seed)
    anchor = anchor_ts(config)
    counts = allocate(config.size)
    pools = pools_for(config.seed)
    lists = ListMaker(company, rng, pools, anchor)
    lists.setup()
    lists.customers(counts["customers"])
    lists.vendors(counts["vendors"])
    for path in ITEM_PATHS:
        lists.items(path, counts[path])
    txns = TxnMaker(company, rng, pools, anchor, lists)
    txns.sales_orders(counts["sales-orders"])
    txns.purchase_orders(counts["purchase-orders"])
    txns.adjustments_and_invoices(counts["inventory-adjustments"], counts["invoices"])
    txns.deletions(max(5, config.size // 200) if config.size >= SMALL_SIZE else 0)
    lists.deactivate_some()
    others = OtherItemMaker(company, lists, config.seed, anchor)
    others.items()
    others.sales_lines(txns.tax_rates)
    LineGroupMaker(company, lists, config.seed).add(txns.tax_rates)
    return company
