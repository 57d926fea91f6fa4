"""Generated list objects: accounts, supporting lists, customers and jobs, vendors, items."""

from __future__ import annotations

import random

from qbdsim.fields import blank
from qbdsim.generate_items import make_items
from qbdsim.pools import ITEM_CATEGORIES, JOB_NAMES, ODD_COMPANIES, Pools
from qbdsim.store import Company, Record
from qbdsim.values import fmt_cents

DAY_S = 86_400
HISTORY_S = 730 * DAY_S
INACTIVE_SHARE = 0.05
# (name, accountType, specialAccountType, number, parent)
ACCOUNTS = [
    ("Checking", "bank", None, "1000", None),
    ("Savings", "bank", None, "1010", None),
    ("Accounts Receivable", "accounts_receivable", "accounts_receivable", "1200", None),
    ("Inventory Asset", "other_current_asset", "inventory_assets", "1300", None),
    ("Undeposited Funds", "other_current_asset", "undeposited_funds", "1499", None),
    ("Furniture and Equipment", "fixed_asset", None, "1500", None),
    ("Accounts Payable", "accounts_payable", "accounts_payable", "2000", None),
    ("Sales Tax Payable", "other_current_liability", "sales_tax_payable", "2200", None),
    ("Opening Balance Equity", "equity", "opening_balance_equity", "3000", None),
    ("Retained Earnings", "equity", "retained_earnings", "3900", None),
    ("Sales", "income", None, "4000", None),
    ("Merchandise", "income", None, "4010", "Sales"),
    ("Services", "income", None, "4020", "Sales"),
    ("Shipping and Handling", "income", None, "4030", "Sales"),
    ("Cost of Goods Sold", "cost_of_goods_sold", "cost_of_goods_sold", "5000", None),
    ("Inventory Adjustments", "cost_of_goods_sold", None, "5100", None),
    ("Freight and Shipping", "expense", None, "6100", None),
    ("Office Supplies", "expense", None, "6200", None),
    ("Rent Expense", "expense", None, "6300", None),
    ("Utilities", "expense", None, "6400", None),
    ("Purchase Orders", "non_posting", "purchase_orders", None, None),
    ("Sales Orders", "non_posting", "sales_orders", None, None),
    ("Estimates", "non_posting", "estimates", None, None),
]
AUX = {
    "class": [("East",), ("West",), ("Online",), ("Wholesale",)],
    "standard_terms": [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)],
    "sales_tax_code": [("Tax",), ("Non",)],
    "sales_tax_item": [("State Tax", "6.25"), ("County Tax", "7.75"), ("Out of State", "0.00")],
    "sales_representative": [("JD",), ("MK",), ("AL",), ("RS",)],
    "ship_method": [("UPS Ground",), ("FedEx",), ("USPS",), ("Will Call",), ("Freight",)],
    "customer_type": [("Retail",), ("Wholesale",), ("Contractor",), ("Online",)],
    "vendor_type": [("Supplier",), ("Contractor",), ("Service Provider",)],
    "job_type": [("Commercial",), ("Residential",)],
    "customer_message": [("Thank you for your business.",), ("Please remit to above address.",)],
    "template": [("Intuit Product Invoice",), ("Custom Sales Order",), ("Custom Purchase Order",)],
    "payment_method": [("Cash",), ("Check",), ("Visa",), ("MasterCard",)],
}
COMPANY_SUFFIXES = ["Supply", "Distributors", "Wholesale", "Industries", "Trading Co.", "Imports"]
FILLER_41 = " Holdings and Distribution Company of North America"


class ListMaker:
    """Builds the list objects of a generated company and remembers them for transactions."""

    def __init__(self, company: Company, rng: random.Random, pools: Pools, anchor: int) -> None:
        self.company = company
        self.rng = rng
        self.pools = pools
        self.anchor = anchor
        self.clock = company.clock
        self.names: set[str] = set()
        self.item_names: set[str] = set()
        self.categories: set[str] = set()
        self.customers_by_time: list[Record] = []
        self.vendors_by_time: list[Record] = []
        self.items_by_time: dict[str, list[Record]] = {}
        self.prices: dict[str, tuple[int, int]] = {}  # item id -> (sale cents, cost cents)
        self.accounts: dict[str, dict] = {}
        self.aux: dict[str, list[dict]] = {}

    def stamp(self, data: dict, created: int, updated: int) -> None:
        """Set createdAt, updatedAt and the revision number."""
        data["createdAt"] = self.clock.fmt(created)
        data["updatedAt"] = self.clock.fmt(updated)
        data["revisionNumber"] = str(updated)

    def updated(self, created: int) -> int:
        """Half the records were edited after creation, at some moment up to the anchor."""
        if self.rng.random() < 0.5:
            return created
        return self.rng.randint(created, self.anchor)

    def times(self, count: int) -> list[int]:
        """Sorted creation times for ``count`` list objects over the history."""
        start, end = self.anchor - HISTORY_S, self.anchor - DAY_S
        return sorted(self.rng.randint(start, end) for _ in range(count))

    def setup(self) -> None:
        """The chart of accounts and the supporting lists, as at company setup."""
        created = self.anchor - HISTORY_S - 10 * DAY_S
        mint = self.company.mint
        for name, kind, special, number, parent in ACCOUNTS:
            data = blank("qbd_account")
            parent_ref = self.accounts[parent] if parent else None
            data.update(
                id=mint.list_id(created),
                name=name,
                fullName=f"{parent}:{name}" if parent else name,
                isActive=True,
                parent=parent_ref,
                sublevel=1 if parent else 0,
                accountType=kind,
                specialAccountType=special,
                accountNumber=number,
                balance="0.00",
                totalBalance="0.00",
                cashFlowClassification="operating" if kind in ("income", "expense") else None,
            )
            self.stamp(data, created, created)
            record = self.company.add("accounts", data, created, created)
            self.accounts[name] = self.company.ref(record)
        for kind, entries in AUX.items():
            self.aux[kind] = []
            for name, *extra in entries:
                fields = {}
                if kind == "standard_terms":
                    fields["days"] = extra[0]
                elif kind == "sales_tax_item":
                    fields["rate"] = extra[0]
                entry = self.company.aux_add(kind, mint.list_id(created), name, **fields)
                self.aux[kind].append(self.company.aux_ref(entry))

    def aux_ref(self, kind: str, name: str) -> dict:
        """A reference into a supporting list by name."""
        return next(ref for ref in self.aux[kind] if ref["fullName"] == name)

    def unique(self, name: str, limit: int, taken: set[str] | None = None) -> str:
        """``name`` cut to ``limit``, numbered when the name space already holds it."""
        taken = self.names if taken is None else taken
        candidate, counter = name[:limit].rstrip(), 2
        while candidate.casefold() in taken:
            suffix = f" {counter}"
            candidate = name[: limit - len(suffix)].rstrip() + suffix
            counter += 1
        taken.add(candidate.casefold())
        return candidate

    def _entity_name(self, index: int) -> tuple[str, str | None, str, str]:
        """(name, company name, first name, last name) with some awkward ones mixed in."""
        rng, pools = self.rng, self.pools
        first, last = rng.choice(pools.first_names), rng.choice(pools.last_names)
        if index % 97 == 13:
            name = (pools.business(rng) + FILLER_41)[:41]
            name = name[:40] + "X" if name.endswith(" ") else name
            return name, name, first, last
        if index % 53 == 7:
            odd = ODD_COMPANIES[(index // 53) % len(ODD_COMPANIES)]
            return odd, odd, first, last
        if rng.random() < 0.35:
            return f"{last}, {first}", None, first, last
        company_name = pools.business(rng)
        return company_name, company_name, first, last

    def customers(self, count: int) -> None:
        """Customers, about a fifth of them jobs under an earlier customer."""
        rng, pools, company = self.rng, self.pools, self.company
        tax = self.aux_ref("sales_tax_code", "Tax")
        non = self.aux_ref("sales_tax_code", "Non")
        for index, created in enumerate(self.times(count)):
            data = blank("qbd_customer")
            updated = self.updated(created)
            parents = [c for c in self.customers_by_time[-40:] if c.data["sublevel"] < 2]
            parent = rng.choice(parents) if parents and rng.random() < 0.2 else None
            if parent is None:
                name, company_name, first, last = self._entity_name(index)
                name = self.unique(name, 41)
                full_name, address = name, pools.address(rng, name)
            else:
                job = f"{rng.choice(JOB_NAMES)} {rng.randint(2, 99)}"
                full_name = self.unique(f"{parent.data['fullName']}:{job}", 209)
                name = full_name.rsplit(":", 1)[1]
                company_name, first, last = parent.data["companyName"], None, None
                address = dict(parent.data["billingAddress"])
            email = pools.email(rng, first or "info", last or name) if rng.random() < 0.85 else None
            taxable = rng.random() < 0.7
            data.update(
                id=company.mint.list_id(created),
                name=name,
                fullName=full_name,
                isActive=True,
                parent=company.ref(parent),
                sublevel=parent.data["sublevel"] + 1 if parent else 0,
                companyName=company_name,
                salutation=rng.choice(("Mr.", "Ms.", "Dr."))
                if first and rng.random() < 0.1
                else None,
                firstName=first,
                lastName=last,
                jobTitle=rng.choice(pools.jobs) if first and rng.random() < 0.2 else None,
                billingAddress=address,
                shippingAddress=dict(address) if rng.random() < 0.7 else pools.address(rng, name),
                alternateShippingAddresses=[],
                phone=pools.phone(rng) if rng.random() < 0.9 else None,
                fax=pools.phone(rng) if rng.random() < 0.05 else None,
                email=email,
                contact=f"{first} {last}" if first else None,
                customerType=rng.choice(self.aux["customer_type"]) if rng.random() < 0.5 else None,
                terms=rng.choice(self.aux["standard_terms"]) if rng.random() < 0.8 else None,
                salesRepresentative=(
                    rng.choice(self.aux["sales_representative"]) if rng.random() < 0.4 else None
                ),
                balance="0.00",
                totalBalance="0.00",
                salesTaxCode=tax if taxable else non,
                salesTaxItem=rng.choice(self.aux["sales_tax_item"][:2]) if taxable else None,
                resaleNumber=str(rng.randint(10**8, 10**9)) if not taxable else None,
                accountNumber=str(rng.randint(1000, 99999)) if rng.random() < 0.3 else None,
                creditLimit=fmt_cents(rng.choice((5, 10, 25, 50)) * 100_000)
                if rng.random() < 0.3
                else None,
                preferredDeliveryMethod="email" if email else "mail",
                jobStatus=rng.choice(("in_progress", "awarded", "closed")) if parent else None,
                jobDescription=rng.choice(pools.sentences) if parent else None,
                jobType=rng.choice(self.aux["job_type"]) if parent else None,
                note=rng.choice(pools.sentences) if rng.random() < 0.1 else None,
            )
            self.stamp(data, created, updated)
            self.customers_by_time.append(company.add("customers", data, created, updated))

    def vendors(self, count: int) -> None:
        """Vendors: mostly suppliers, some individual contractors (1099)."""
        rng, pools, company = self.rng, self.pools, self.company
        for index, created in enumerate(self.times(count)):
            data = blank("qbd_vendor")
            updated = self.updated(created)
            name, company_name, first, last = self._entity_name(index + 5)
            if company_name and index % 53 != 2 and rng.random() < 0.5:
                name = company_name = f"{company_name} {rng.choice(COMPANY_SUFFIXES)}"
            name = self.unique(name, 41)
            individual = company_name is None
            data.update(
                id=company.mint.list_id(created),
                name=name,
                isActive=True,
                companyName=company_name[:41] if company_name else None,
                firstName=first,
                lastName=last,
                billingAddress=pools.address(rng, name),
                phone=pools.phone(rng),
                email=pools.email(rng, first, last) if rng.random() < 0.8 else None,
                contact=f"{first} {last}",
                nameOnCheck=name,
                accountNumber=str(rng.randint(10000, 999999)) if rng.random() < 0.5 else None,
                vendorType=self.aux_ref("vendor_type", "Contractor" if individual else "Supplier"),
                terms=rng.choice(self.aux["standard_terms"][1:]) if rng.random() < 0.8 else None,
                creditLimit=fmt_cents(rng.choice((10, 50, 100)) * 100_000)
                if rng.random() < 0.2
                else None,
                taxIdentificationNumber=(
                    f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}" if individual else None
                ),
                isEligibleFor1099=individual,
                balance="0.00",
                isSalesTaxAgency=False,
            )
            self.stamp(data, created, updated)
            self.vendors_by_time.append(company.add("vendors", data, created, updated))

    def deactivate_some(self) -> None:
        """About 5% of list objects inactive; recent deactivations show as deleted objects."""
        rng, company = self.rng, self.company
        retention = self.anchor - 90 * DAY_S
        for path in ("customers", "vendors", *ITEM_CATEGORIES):
            for record in list(company.records[path].values()):
                if rng.random() >= INACTIVE_SHARE or record.id in self.categories:
                    continue
                when = rng.randint(record.created_ts, self.anchor)
                record.data["isActive"] = False
                self.stamp(record.data, record.created_ts, when)
                record.updated_ts = when
                if when >= retention:
                    company.record_deletion(record, when)

    def items(self, path: str, count: int) -> None:
        """Items of one type (see ``generate_items``)."""
        make_items(self, path, count)
