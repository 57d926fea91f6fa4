"""Stock as net changes on the push side (DESIGN §1): QuickBooks only ever receives quantity
differences, never an absolute on-hand figure.

- An inventory adjustment created in the WMS is created in QuickBooks with the same
  differences, on the account it names or `QBSYNC_ADJUSTMENT_ACCOUNT`, with a memo saying it
  came from the WMS.
- Once QuickBooks created it, the items' on-hand moves by its differences on both sides
  (`moved_by_us`). An item's on-hand changed in the WMS directly (a count) stays a pending
  WMS difference that pulls keep (WMS = QuickBooks + the difference); it is not sent as an
  absolute figure.
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


def moved_by_us(lines) -> None:
    """A WMS adjustment QuickBooks just created moved its items' on-hand there by its
    differences — our own write, which no pull will see (the items' revisions do not move):
    the WMS's figure and the items' bases move by the same differences, so both sides agree
    and the next pull takes none of it for a QuickBooks move."""
    from webapp.models.wms import Item

    moves: dict[int, Decimal] = {}
    for line in lines:
        if line.get("item_id") is not None and line.get("quantity_difference"):
            moves[line["item_id"]] = moves.get(line["item_id"], Decimal(0)) + Decimal(
                line["quantity_difference"])
    table = Item.__table__
    for item_id, difference in moves.items():
        found = db.session.execute(select(table.c.quantity_on_hand, table.c.sync_base).where(
            table.c.id == item_id)).first()
        if found is None:
            continue
        on_hand, base = found
        base = dict(base or {})
        if base.get("quantity_on_hand") is not None:
            base["quantity_on_hand"] = _number(Decimal(str(base["quantity_on_hand"]))
                                               + difference)
        db.session.execute(update(table).where(table.c.id == item_id).values(
            quantity_on_hand=Decimal(on_hand or 0) + difference, sync_base=base))
