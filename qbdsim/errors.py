"""Conductor's error envelope and the errors the simulator answers with.

Every error leaves the server as ``{"error": {message, userFacingMessage, type, code,
httpStatusCode, [integrationCode], requestId}}`` with ``httpStatusCode`` equal to the HTTP status.
"""

from __future__ import annotations

MASKED_MESSAGE = "An internal server error occurred. Please try again later."
QB_NOT_RUNNING_CODE = "0x80040408"

# QuickBooks' own words for the entities named in its error messages.
QB_TYPE_NAMES = {
    "customers": "Customer:Job",
    "vendors": "Vendor",
    "inventory-items": "Item",
    "non-inventory-items": "Item",
    "service-items": "Item",
    "other-charge-items": "Item",
    "accounts": "Account",
    "sales-orders": "Sales Order",
    "purchase-orders": "Purchase Order",
    "invoices": "Invoice",
    "inventory-adjustments": "Inventory Adjustment",
    "item-receipts": "Item Receipt",
    "sales-receipts": "Sales Receipt",
    "credit-memos": "Credit Memo",
}


class SimError(Exception):
    """An error answered in Conductor's envelope."""

    def __init__(
        self,
        status: int,
        type_: str,
        code: str,
        message: str,
        user_facing: str = MASKED_MESSAGE,
        integration_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.code = code
        self.message = message
        self.user_facing = user_facing
        self.integration_code = integration_code

    def envelope(self, request_id: str) -> dict:
        """The JSON body: ``integrationCode`` is omitted, not null, when QuickBooks gave none."""
        error = {
            "message": self.message,
            "userFacingMessage": self.user_facing,
            "type": self.type,
            "code": self.code,
            "httpStatusCode": self.status,
        }
        if self.integration_code is not None:
            error["integrationCode"] = self.integration_code
        error["requestId"] = request_id
        return {"error": error}


class ResponseLost(Exception):
    """The write is applied, then the connection closes with no answer at all: the client
    sees the server disconnect (``conductor.APIConnectionError``), as when the network or the
    Web Connector fails after QuickBooks has done the work."""

    def __init__(self) -> None:
        super().__init__("qbdsim: the response to this write was lost on purpose")


def invalid_request(message: str, status: int = 400, code: str = "INVALID_REQUEST") -> SimError:
    """A request Conductor rejects before it reaches QuickBooks (its user message is masked)."""
    return SimError(status, "INVALID_REQUEST_ERROR", code, message)


def authentication(message: str) -> SimError:
    """A missing or wrong secret key."""
    return SimError(
        401,
        "AUTHENTICATION_ERROR",
        "API_KEY_INVALID",
        message,
        "The API key is invalid. Check the key your integration uses and try again.",
    )


def qbd_request_error(status_code: str, text: str) -> SimError:
    """QuickBooks answered with a non-zero qbXML status (502 ``QBD_REQUEST_ERROR``)."""
    return SimError(
        502,
        "INTEGRATION_ERROR",
        "QBD_REQUEST_ERROR",
        f"QBD Request Error ({status_code}): {text}",
        f"QuickBooks Desktop could not complete the request: {text}",
        status_code,
    )


def not_found(value: str) -> SimError:
    """A queried id, name or reference number that QuickBooks does not hold (status 500)."""
    return qbd_request_error(
        "500",
        "The query request has not been fully completed. There was a required element "
        f'("{value}") that could not be found in QuickBooks.',
    )


def object_missing(value: str) -> SimError:
    """A modify, delete or void of an object QuickBooks does not hold (status 3120)."""
    return qbd_request_error("3120", f'Object "{value}" specified in the request cannot be found.')


def stale_revision(sent: str) -> SimError:
    """A ``revisionNumber`` that is not the current one (status 3200)."""
    return qbd_request_error(
        "3200", f'The provided revision number (edit sequence) "{sent}" is out-of-date.'
    )


def name_in_use(name: str) -> SimError:
    """A duplicate name in a name space (status 3100)."""
    return qbd_request_error("3100", f'The name "{name}" of the list element is already in use.')


def invalid_reference(target_type: str, value: str, owner_type: str) -> SimError:
    """A reference to nothing, or to the wrong kind of thing (status 3140)."""
    return qbd_request_error(
        "3140",
        f'There is an invalid reference to QuickBooks {target_type} "{value}" in the '
        f"{owner_type}. QuickBooks error message: Invalid argument. The specified record does "
        "not exist in the list.",
    )


def qb_not_running() -> SimError:
    """What Conductor answers at once when QuickBooks Desktop is closed on the end-user's PC."""
    return SimError(
        502,
        "INTEGRATION_CONNECTION_ERROR",
        "QBD_CONNECTION_ERROR",
        f"QBD Connection Error ({QB_NOT_RUNNING_CODE}): Could not start QuickBooks. QuickBooks "
        "Desktop is not running or the company file is not open.",
        "QuickBooks Desktop is not running or the company file is not open on the computer "
        "that syncs with it. Ask someone at that computer to open QuickBooks Desktop and the "
        "company file, then try again.",
        QB_NOT_RUNNING_CODE,
    )


def connection_lost() -> SimError:
    """An injected transient failure between Conductor and the QuickBooks Web Connector."""
    return SimError(
        502,
        "INTEGRATION_CONNECTION_ERROR",
        "QBD_CONNECTION_ERROR",
        "QBD Connection Error: The connection to QuickBooks Desktop was lost while the request "
        "was in progress.",
        "The connection to QuickBooks Desktop was interrupted. Please try again.",
    )


def request_timeout() -> SimError:
    """An injected QuickBooks timeout (504 ``QBD_REQUEST_TIMEOUT``)."""
    return SimError(
        504,
        "INTEGRATION_CONNECTION_ERROR",
        "QBD_REQUEST_TIMEOUT",
        "QuickBooks Desktop did not respond to the request within 90 seconds.",
        "QuickBooks Desktop is taking too long to respond. It may be busy or showing a dialog "
        "box; please try again.",
    )


def rate_limited() -> SimError:
    """An injected 429."""
    return SimError(
        429,
        "INVALID_REQUEST_ERROR",
        "TOO_MANY_REQUESTS",
        "Too many requests for this end-user. Slow down and try again.",
        "Too many requests were sent to QuickBooks Desktop at once. Please try again shortly.",
    )
