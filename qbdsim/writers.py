"""Which module writes each kind of record: list objects, the generated transaction kinds, and
the receipts (item receipts, sales receipts, credit memos), which are only created here."""

from __future__ import annotations

from types import ModuleType

from qbdsim import lists, receipts, txns
from qbdsim.resources import QB_ONLY_TXN_PATHS, Resource


def creator(res: Resource) -> ModuleType:
    """The module whose ``create(company, res, body, now_ts)`` makes a record of ``res``."""
    if res.kind == "list":
        return lists
    return receipts if res.path in QB_ONLY_TXN_PATHS else txns


def updater(res: Resource) -> ModuleType:
    """The module whose ``update(company, record, body, now_ts, ...)`` modifies one."""
    return lists if res.kind == "list" else txns
