"""Stock and money that QuickBooks derives from transactions: on hand, on order, invoiced
quantities, customer balances, and what a void gives back."""

from __future__ import annotations

from datetime import date

import conductor
import pytest

DAY = date(2026, 1, 10)


def _item(client, eu, item_id):
    return client.qbd.inventory_items.retrieve(item_id, conductor_end_user_id=eu)


def test_on_hand_moves_only_through_adjustments_and_invoices(
    client, eu, accounts, customer, widget
):
    # a quantity difference and a new quantity both move on-hand
    adjustment = client.qbd.inventory_adjustments.create(
        conductor_end_user_id=eu,
        account_id=accounts["Inventory Adjustments"],
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "adjust_quantity": {"quantity_difference": 5}}],
    )
    assert adjustment.lines[0].quantity_difference == 5
    assert _item(client, eu, widget.id).quantity_on_hand == 15
    client.qbd.inventory_adjustments.create(
        conductor_end_user_id=eu,
        account_id=accounts["Inventory Adjustments"],
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "adjust_quantity": {"new_quantity": 40}}],
    )
    assert _item(client, eu, widget.id).quantity_on_hand == 40
    # a sales order only reserves; a purchase order only shows as on order
    client.qbd.sales_orders.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 6}],
    )
    client.qbd.purchase_orders.create(
        conductor_end_user_id=eu,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 24}],
    )
    item = _item(client, eu, widget.id)
    assert (
        item.quantity_on_hand,
        item.quantity_on_sales_order,
        item.quantity_on_purchase_order,
    ) == (40, 6, 24)
    # an invoice takes stock out; voiding it puts it back
    invoice = client.qbd.invoices.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 4}],
    )
    assert _item(client, eu, widget.id).quantity_on_hand == 36
    client.qbd.invoices.void(invoice.id, conductor_end_user_id=eu)
    assert _item(client, eu, widget.id).quantity_on_hand == 40
    # the item's own update cannot set on-hand (not a field of the update)
    with pytest.raises(TypeError):
        client.qbd.inventory_items.update(
            widget.id,
            conductor_end_user_id=eu,
            revision_number=widget.revision_number,
            quantity_on_hand=99,
        )


def test_updating_an_adjustment_moves_on_hand_by_the_difference(client, eu, accounts, widget):
    adjustment = client.qbd.inventory_adjustments.create(
        conductor_end_user_id=eu,
        account_id=accounts["Inventory Adjustments"],
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "adjust_quantity": {"quantity_difference": 5}}],
    )
    client.qbd.inventory_adjustments.update(
        adjustment.id,
        conductor_end_user_id=eu,
        revision_number=adjustment.revision_number,
        lines=[{"id": adjustment.lines[0].id, "quantity_difference": 2}],
    )
    assert _item(client, eu, widget.id).quantity_on_hand == 12
    client.qbd.inventory_adjustments.delete(adjustment.id, conductor_end_user_id=eu)
    assert _item(client, eu, widget.id).quantity_on_hand == 10


def test_invoice_made_from_a_sales_order_links_both_ways(client, eu, customer, widget):
    order = client.qbd.sales_orders.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 3}],
    )
    invoice = client.qbd.invoices.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        link_to_transaction_ids=[order.id],
    )
    assert invoice.lines[0].quantity == 3 and invoice.subtotal == "37.50"
    assert invoice.linked_transactions == []  # not echoed on create
    order = client.qbd.sales_orders.retrieve(order.id, conductor_end_user_id=eu)
    assert order.is_fully_invoiced and order.lines[0].quantity_invoiced == 3
    assert [link.id for link in order.linked_transactions] == [invoice.id]
    assert _item(client, eu, widget.id).quantity_on_sales_order == 0
    # a sales order with linked transactions cannot be deleted
    with pytest.raises(conductor.InternalServerError):
        client.qbd.sales_orders.delete(order.id, conductor_end_user_id=eu)


def test_void_zeroes_an_invoice_and_keeps_it(client, eu, customer, widget):
    invoice = client.qbd.invoices.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 2}],
    )
    voided = client.qbd.invoices.void(invoice.id, conductor_end_user_id=eu)
    assert voided.voided and voided.ref_number == invoice.ref_number
    kept = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=eu)
    assert kept.subtotal == "0.00" and kept.memo.startswith("VOID")
    assert kept.revision_number != invoice.revision_number


def test_customer_balance_follows_invoices(client, eu, customer, widget):
    client.qbd.invoices.create(
        conductor_end_user_id=eu,
        customer_id=customer.id,
        transaction_date=DAY,
        lines=[{"item_id": widget.id, "quantity": 2}],
    )
    refreshed = client.qbd.customers.retrieve(customer.id, conductor_end_user_id=eu)
    assert refreshed.balance == "25.00" and refreshed.total_balance == "25.00"
