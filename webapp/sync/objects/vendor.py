"""Vendors, both ways."""

from webapp.models.wms import Vendor
from webapp.sync.base import SyncObject
from webapp.sync.fields import Bool, Text
from webapp.sync.objects._contact import CONTACT_FIELDS, CONTACT_RULE


class VendorSync(SyncObject):
    name = "vendor"
    display_name = "Vendors"
    direction = "both"
    resources = ("vendors",)
    model = Vendor
    deleted_types = {"vendors": "vendor"}
    name_path = "name"
    rule = CONTACT_RULE
    fields = {
        **CONTACT_FIELDS,
        "name_on_check": Text("nameOnCheck"),
        "tax_identification_number": Text("taxIdentificationNumber"),
        "is_eligible_for_1099": Bool("isEligibleFor1099"),
    }
