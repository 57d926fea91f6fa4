"""Stock as net changes on the push side (DESIGN §1): QuickBooks only ever receives quantity
differences, never an absolute on-hand figure.

- An inventory adjustment created in the WMS is created in QuickBooks with the same
  differences, on the account it names or `QBSYNC_ADJUSTMENT_ACCOUNT`, with a memo saying it
  came from the WMS.
- Once QuickBooks created it, the items' on-hand moves by its differences on both sides
  (`moved_by_us`); an update of its lines moves them by the change of difference (`move`).
- An item's on-hand changed in the WMS directly (a count) stays a pending WMS difference that
  pulls keep (WMS = QuickBooks + the difference) and becomes an adjustment of that difference
  (webapp.sync.push.counts), never an absolute figure: when QuickBooks creates that one, only
  the bases move, as the WMS figure holds the count already.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.sync.push.bodies import Names, Refused

if TYPE_CHECKING:
    from webapp.sync.engine import PullContext

ACCOUNT_SETTING = "QBSYNC_ADJUSTMENT_ACCOUNT"


def adjustment_defaults(ctx: PullContext, row, lines, body: dict, names: Names) -> None:
    """The account (by name) and the memo of a WMS adjustment's create."""
    if any(line.get("serial_number") or line.get("lot_number") for line in lines):
        raise Refused("serial and lot numbers are not sent to QuickBooks; adjust items tracked"
                      " by them in QuickBooks")
    if not body.get("accountId"):
        name = ctx.settings.get(ACCOUNT_SETTING)
        if not name:
            raise Refused("QuickBooks needs an account for an inventory adjustment: give it"
                          f" one (account_name), or set {ACCOUNT_SETTING} to an account's name")
        body["accountId"] = names.id_of(("accounts",), name)
    memo = body.get("memo")
    body["memo"] = f"{memo} (from the WMS)" if memo else "From the WMS"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def differences(lines, key: str = "item_id") -> dict:
    """{item (by `key`): the sum of its quantity differences} of an adjustment's lines
    (rows, or line bases with `item_qb_id`); lines with no item or no difference count
    nothing."""
    out: dict = {}
    for line in lines or ():
        item, difference = line.get(key), line.get("quantity_difference")
        if item is not None and difference:
            out[item] = out.get(item, Decimal(0)) + Decimal(str(difference))
    return {item: total for item, total in out.items() if total}


def record_differences(record: dict) -> dict[str, Decimal]:
    """{item's QuickBooks id: quantity difference} of an adjustment as QuickBooks sent it."""
    return differences([{"item_qb_id": (line.get("item") or {}).get("id"),
                         "quantity_difference": line.get("quantityDifference")}
                        for line in record.get("lines") or () if isinstance(line, dict)],
                       "item_qb_id")


def change(before: dict, after: dict) -> dict:
    """{item: after - before}, the items whose difference changed."""
    out = {item: after.get(item, Decimal(0)) - before.get(item, Decimal(0))
           for item in before.keys() | after.keys()}
    return {item: delta for item, delta in out.items() if delta}


def local_items(moves: dict[str, Decimal]) -> dict[int, Decimal]:
    """`moves` keyed by QuickBooks item id, keyed by the WMS's item ids (items the WMS does
    not mirror are not moved)."""
    ids = item_ids(list(moves))
    return {ids[qb_id]: delta for qb_id, delta in moves.items() if qb_id in ids}


def item_ids(qb_ids: list[str]) -> dict[str, int]:
    """{QuickBooks id: the WMS's item id} of the items the WMS mirrors among `qb_ids`."""
    from webapp.models.wms import Item

    if not qb_ids:
        return {}
    return dict(db.session.execute(select(Item.qb_id, Item.id).where(
        Item.qb_id.in_(qb_ids))).all())


def move(moves: dict[int, Decimal], *, wms: bool = True) -> None:
    """Our own write moved these items' on-hand in QuickBooks by `moves` — a write no pull
    will see (the items' revisions do not move): the items' bases move by the same amounts,
    so the next pull takes none of it for a QuickBooks move, and so does the WMS's figure
    unless it holds the move already (`wms=False`: a count's adjustment)."""
    from webapp.models.wms import Item

    table = Item.__table__
    for item_id, difference in sorted(moves.items()):
        found = db.session.execute(select(table.c.quantity_on_hand, table.c.sync_base).where(
            table.c.id == item_id)).first()
        if found is None:
            continue
        on_hand, base = found
        base = dict(base or {})
        base["quantity_on_hand"] = _number(Decimal(str(base.get("quantity_on_hand") or 0))
                                           + difference)
        # The stored fingerprint is of QuickBooks' record before our move: kept, a later read
        # of a record that looks the same again (QuickBooks moved the stock back) would be
        # skipped as unchanged, and that move lost.
        values = {"sync_base": base, "sync_hash": None}
        if wms:
            values["quantity_on_hand"] = Decimal(on_hand or 0) + difference
        db.session.execute(update(table).where(table.c.id == item_id).values(**values))


def moved_by_us(lines, *, from_count: bool = False) -> None:
    """A WMS adjustment QuickBooks just created moved its items' on-hand there by its
    differences (`move`); one born of a count moves the bases alone."""
    move(differences(lines), wms=not from_count)


def landed_unseen(obj, local_id: int) -> None:
    """A WMS adjustment a pull found in QuickBooks by its `externalId` (its create's answer
    was lost): its stock moves now, as its push would have moved it."""
    table, line_table = obj.model.__table__, obj.line_model.__table__
    from_count = db.session.scalar(select(table.c.from_count).where(table.c.id == local_id))
    lines = db.session.execute(select(line_table).where(
        line_table.c[obj.line_parent] == local_id)).mappings().all()
    moved_by_us(lines, from_count=bool(from_count))
