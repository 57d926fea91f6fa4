"""qbdsim: a stateful QuickBooks Desktop simulator that speaks Conductor's REST API.

Point the real ``conductor-py`` client at ``SimServer.base_url`` and it sees a QuickBooks
company file: paging with one cursor per list, revision numbers, name clashes, broken
references, inventory that moves with adjustments, invoices, item receipts, sales receipts and
credit memos, a transaction query across all kinds, and faults on demand.
"""

from qbdsim.config import SimConfig
from qbdsim.server import SimServer

__all__ = ["SimConfig", "SimServer"]
