"""Customers, both ways; jobs (sub-customers) keep their parent."""

from webapp.models.wms import Customer
from webapp.sync.base import SyncObject


class CustomerSync(SyncObject):
    name = "customer"
    display_name = "Customers"
    direction = "both"
    resources = ("customers",)
    model = Customer
