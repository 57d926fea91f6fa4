"""Finding a record we may already have created (FACTS §8: creates are not idempotent).

Before any second create, and after a create whose outcome is unknown (no answer, a 5xx) or
refused as "name in use" (3100), the record is looked for by what QuickBooks can search:
list objects by their full name (vendors by name), transactions by their customer or vendor
and a narrow window around their date. Ours is the one carrying the `externalId` the row
committed before the first request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from webapp.sync.base import ADJUSTMENT, LIST
from webapp.sync.conductor import RECORD, QuickBooksError
from webapp.sync.push.bodies import Waiting, qb_id_of

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject
    from webapp.sync.conductor import QuickBooks

# Customers, vendors (and employees, other names) share one name space in QuickBooks.
NAME_SPACE = {"customers": ("vendors",), "vendors": ("customers",)}


def _by_name(qb: QuickBooks, resource: str, name: str, full_name: str | None) -> list[dict]:
    params = ({"names": [name]} if resource == "vendors" else {"fullNames": [full_name or name]})
    try:
        return qb.lookup(resource, {**params, "status": "all"})
    except QuickBooksError as error:
        if error.kind == RECORD:  # QuickBooks answers "not found" with an error
            return []
        raise


def find_created(qb: QuickBooks, obj: type[SyncObject], row, qb_ids: dict) -> dict | None:
    """QuickBooks' record created from this row, if there is one."""
    external_id = row["external_id"]
    if not external_id:
        return None
    resource = obj.resource_of(row)
    if obj.kind == LIST:
        candidates = _by_name(qb, resource, row["name"], row.get("full_name"))
    else:
        party = next(iter(obj.refs))
        try:
            party_id = qb_id_of(party, row, qb_ids)
        except Waiting:  # a party not in QuickBooks: nothing can have been created
            return None
        day = row["transaction_date"]
        params = {"transactionDateFrom": (day - timedelta(days=1)).isoformat(),
                  "transactionDateTo": (day + timedelta(days=1)).isoformat()}
        if party_id is not None:  # an inventory adjustment may name no customer
            params[f"{party.target}Ids"] = [party_id]
        if obj.kind != ADJUSTMENT:  # adjustments are not paginated
            params["limit"] = 150
        candidates = qb.list_all(resource, params)
    return next((r for r in candidates if isinstance(r, dict)
                 and str(r.get("externalId") or "").lower() == external_id.lower()), None)


def name_holder(qb: QuickBooks, obj: type[SyncObject], row) -> str:
    """Which QuickBooks record holds the row's name, in words for staff."""
    resource = obj.resource_of(row)
    for where in (resource, *NAME_SPACE.get(resource, ())):
        for record in _by_name(qb, where, row["name"], row.get("full_name")):
            kind = where.replace("-", " ").removesuffix("s")
            return f'a {kind} "{record.get("fullName") or record.get("name")}" (id {record["id"]})'
    return "another record"
