"""Fields shared by customers and vendors."""

from webapp.sync.fields import Address, Bool, Number, RefName, Text
from webapp.sync.merge import QuickBooksWins

CONTACT_FIELDS = {
    "name": Text("name", required=True, max_length=41),
    "company_name": Text("companyName"),
    "salutation": Text("salutation"),
    "first_name": Text("firstName"),
    "middle_name": Text("middleName"),
    "last_name": Text("lastName"),
    "job_title": Text("jobTitle"),
    "email": Text("email"),
    "cc_email": Text("ccEmail"),
    "phone": Text("phone"),
    "alternate_phone": Text("alternatePhone"),
    "fax": Text("fax"),
    "contact": Text("contact"),
    "alternate_contact": Text("alternateContact"),
    "billing_address": Address("billingAddress"),
    "shipping_address": Address("shippingAddress"),
    "account_number": Text("accountNumber"),
    "credit_limit": Number("creditLimit", places=2),
    "balance": Number("balance", places=2, write=False),
    "terms": RefName("terms", lookup=("standard-terms", "date-driven-terms")),
    "note": Text("note"),
    "external_id": Text("externalId", create_only=True),
    "is_active": Bool("isActive"),
}
# The contact fields, where the WMS wins a conflict (DESIGN §1); QuickBooks wins the rest.
CONTACT_RULE_FIELDS = frozenset({
    "salutation", "first_name", "middle_name", "last_name", "job_title", "email", "cc_email",
    "phone", "alternate_phone", "fax", "contact", "alternate_contact", "billing_address",
    "shipping_address",
})
CONTACT_RULE = QuickBooksWins(
    CONTACT_RULE_FIELDS, wms_wins="contact fields: the WMS wins conflicts",
    quickbooks_wins="QuickBooks wins conflicts (except contact fields)")
