"""Pools of realistic values, drawn once from a seeded Faker and then combined cheaply.

Calling Faker per record is far too slow for 100,000 records; a few thousand calls up front and
``random.Random`` choices afterwards give the same realism in a fraction of the time.
"""

from __future__ import annotations

import functools
import random

from faker import Faker

# Awkward but legal data QuickBooks files are full of.
ACCENTED_FIRST = ["José", "Zoë", "François", "Chloé", "Åsa", "Øyvind", "Renée", "Jürgen", "Inés"]
ACCENTED_LAST = ["Müller", "Núñez", "Brontë", "Gonçalves", "Sørensen", "Lefèvre", "Dvořák"]
APOSTROPHE_LAST = ["O'Brien", "D'Angelo", "O'Neil", "McDonald's", "L'Esperance", "O'Connor"]
ODD_COMPANIES = [
    "3M Supply #4",
    "#1 Plumbing & Heating",
    "(Old) Harbor Freight",
    "24/7 Locksmiths",
    "A-1 Auto Glass",
    "Café Crème Bistro",
    "Joe's Diner",
    "Mac's Hardware & Lumber",
    "Señor Taco Supplies",
    "_Archived Account",
    "@Home Furnishings",
    "123 Moving Co.",
]
JOB_NAMES = [
    "Kitchen Remodel",
    "Warehouse Expansion",
    "Office Fit-out",
    "Roof Repair",
    "Annual Maintenance",
    "Showroom Refresh",
    "Parking Lot Resurfacing",
    "HVAC Upgrade",
    "Store Opening",
    "Spring Restock",
]
ITEM_CATEGORIES = {
    "inventory-items": ["Hardware", "Electrical", "Plumbing", "Paint", "Lumber", "Fasteners"],
    "non-inventory-items": ["Office Supplies", "Packaging", "Cleaning"],
    "service-items": ["Installation", "Consulting", "Repairs"],
    "other-charge-items": ["Fees", "Freight"],
}
ADJECTIVES = [
    "Heavy-Duty",
    "Compact",
    "Deluxe",
    "Standard",
    "Industrial",
    "Premium",
    "Economy",
    "Slim",
    "Galvanized",
    "Stainless",
    "Cordless",
    "Weatherproof",
    "Reinforced",
    "Universal",
    "Mini",
]
MATERIALS = ["Steel", "Brass", "Copper", "Oak", "Pine", "PVC", "Nylon", "Aluminum", "Cedar"]
NOUNS = [
    "Bolt",
    "Hinge",
    "Bracket",
    "Valve",
    "Pipe",
    "Faucet",
    "Drill",
    "Saw Blade",
    "Hammer",
    "Wrench",
    "Screwdriver",
    "Anchor",
    "Washer",
    "Nut",
    "Cable",
    "Switch",
    "Outlet",
    "Ladder",
    "Brush",
    "Roller",
    "Caulk",
    "Sealant",
    "Plank",
    "Board",
    "Clamp",
    "Chain",
    "Hook",
    "Lock",
]
SIZES = ['1/2"', '3/4"', '1"', "2 in", "10 ft", "5 lb", "#8", "M6", "Large", "Small"]
SERVICES = [
    "Installation Labor",
    "Site Visit",
    "Design Consultation",
    "Repair Labor",
    "Delivery Setup",
    "Inspection",
    "Training Session",
    "Estimate Review",
    "Emergency Call-out",
    "Cleanup",
]
CHARGES = ["Freight", "Restocking Fee", "Handling", "Fuel Surcharge", "Rush Fee", "Pallet Fee"]
NON_INVENTORY = [
    "Shrink Wrap Roll",
    "Packing Tape",
    "Printer Paper",
    "Shop Towels",
    "Safety Glasses",
    "Work Gloves",
    "Pallet Labels",
    "Cleaning Spray",
    "Bubble Wrap",
    "Zip Ties",
]
BUSINESS_WORDS = [
    "Plumbing",
    "Hardware",
    "Electric",
    "Builders",
    "Landscaping",
    "Auto Parts",
    "Bakery",
    "Dental Group",
    "Construction",
    "Roofing",
    "Furniture",
    "Flooring",
    "Catering",
    "Marine",
    "Outfitters",
    "Florist",
    "Printing",
    "Glass & Mirror",
    "Heating & Air",
    "Paint Center",
    "Home Center",
    "Lumber Yard",
    "Garden Supply",
    "Cabinetry",
    "Tile & Stone",
    "Pharmacy",
]
MEMOS = [
    "Customer requested rush delivery",
    "Ship complete only",
    "Call before delivery",
    "Back-ordered items to follow",
    "Deliver to loading dock B",
    "Per phone order",
    "Net terms approved by Dana",
    "Résumé of changes attached",
]


@functools.lru_cache(maxsize=8)
def pools_for(seed: int) -> Pools:
    """The (read-only) pools for a seed, built once per process."""
    return Pools(seed)


class Pools:
    """Values drawn once from Faker (seeded) for the generator to combine; read-only after."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.first_names = [fake.first_name() for _ in range(300)] + ACCENTED_FIRST
        self.last_names = [fake.last_name() for _ in range(300)] + ACCENTED_LAST + APOSTROPHE_LAST
        self.companies = sorted({fake.company() for _ in range(500)}) + ODD_COMPANIES
        self.streets = [fake.street_address() for _ in range(600)]
        self.suites = [fake.secondary_address() for _ in range(60)]
        self.places = [(fake.city(), fake.state_abbr(), fake.zipcode()) for _ in range(300)]
        self.domains = sorted({fake.domain_name() for _ in range(120)})
        self.jobs = [fake.job()[:41] for _ in range(80)]
        self.sentences = [fake.sentence(nb_words=8) for _ in range(120)] + MEMOS

    def business(self, rng: random.Random) -> str:
        """A company name: from Faker, or a surname or town with a trade."""
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(self.companies)
        if roll < 0.7:
            return f"{rng.choice(self.last_names)} {rng.choice(BUSINESS_WORDS)}"
        return f"{rng.choice(self.places)[0]} {rng.choice(BUSINESS_WORDS)}"

    def phone(self, rng: random.Random) -> str:
        """A US phone number in one of the formats people type."""
        area, mid, end = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        style = rng.random()
        if style < 0.6:
            return f"({area}) {mid}-{end:04d}"
        if style < 0.9:
            return f"{area}-{mid}-{end:04d}"
        return f"+1 {area}.{mid}.{end:04d}"

    def address(self, rng: random.Random, line1: str | None = None) -> dict:
        """A ``qbd_address`` dict."""
        city, state, postal = rng.choice(self.places)
        line2 = rng.choice(self.streets)
        line3 = rng.choice(self.suites) if rng.random() < 0.15 else None
        return {
            "line1": line1,
            "line2": line2,
            "line3": line3,
            "line4": None,
            "line5": None,
            "city": city,
            "state": state,
            "postalCode": postal,
            "country": "US" if rng.random() < 0.3 else None,
            "note": None,
        }

    def email(self, rng: random.Random, first: str, last: str) -> str:
        """A plausible address; non-ASCII and apostrophes are dropped as mail systems do."""
        local = f"{first}.{last}".lower()
        local = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch == "."))
        return f"{local or 'info'}@{rng.choice(self.domains)}"

    def item_name(self, rng: random.Random, resource: str) -> str:
        """A product, service or charge name of at most 31 characters."""
        if resource == "service-items":
            base = rng.choice(SERVICES)
        elif resource == "other-charge-items":
            base = rng.choice(CHARGES)
        elif resource == "non-inventory-items":
            base = rng.choice(NON_INVENTORY)
        else:
            base = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)}"
            if rng.random() < 0.4:
                base += f" {rng.choice(SIZES)}"
        return base[:31].rstrip()
