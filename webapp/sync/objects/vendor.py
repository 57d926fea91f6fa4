"""Vendors, both ways."""

from webapp.models.wms import Vendor
from webapp.sync.base import SyncObject


class VendorSync(SyncObject):
    name = "vendor"
    display_name = "Vendors"
    direction = "both"
    resources = ("vendors",)
    model = Vendor
