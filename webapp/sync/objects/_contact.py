"""Fields shared by customers and vendors."""

from webapp.sync.fields import Address, Bool, Number, RefName, Text

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
    "balance": Number("balance", places=2),
    "terms": RefName("terms"),
    "note": Text("note"),
    "external_id": Text("externalId"),
    "is_active": Bool("isActive"),
}
