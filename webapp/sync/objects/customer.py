"""Customers, both ways; jobs (sub-customers) keep their parent."""

from webapp.models.wms import Customer
from webapp.sync.base import SyncObject
from webapp.sync.fields import Integer, Number, Ref, Text
from webapp.sync.objects._contact import CONTACT_FIELDS, CONTACT_RULE


class CustomerSync(SyncObject):
    name = "customer"
    display_name = "Customers"
    direction = "both"
    resources = ("customers",)
    model = Customer
    deleted_types = {"customers": "customer"}
    list_params = {"excludeAlternateShippingAddresses": True}
    fields = {
        **CONTACT_FIELDS,
        "full_name": Text("fullName", required=True, write=False),
        "sublevel": Integer("sublevel", write=False),
        "total_balance": Number("totalBalance", places=2, write=False),
        "job_status": Text("jobStatus"),
        "resale_number": Text("resaleNumber"),
    }
    rule = CONTACT_RULE
    @classmethod
    def as_listed(cls, record):
        if "alternateShippingAddresses" in record:  # what excludeAlternateShippingAddresses does
            return {**record, "alternateShippingAddresses": None}
        return record

    refs = (Ref("parent", target="customer", column="parent_id", qb_column="parent_qb_id"),)
