"""The three-way merge (webapp.sync.merge) and change detection (webapp.sync.views) as pure
functions, on hand-written cases from DESIGN §1's rules: no database, no HTTP, no simulator.
Fast on purpose: `make mutation` runs mutmut over both modules with this file alone.

Mutants that survive it are equivalent (557 generated, 549 killed, 8 left — these):
- views.base_lines reading a line group with the line fields instead of GROUP_FIELDS: the
  group's keys (description, quantity, unit_of_measure, amount) have the same converters in
  every object's line fields, so the values are the same.
- views._derived's `is_line_group` test (three spellings): a group's values never hold a
  `rate` (only GROUP_KEYS are read for it), so the rate test alone already leaves groups be.
- views.same_lines' `zip(strict=True)` loosened (three ways): the lengths were compared just
  before, so strictness can never fire.
- views.load_qb_ids slicing 501 ids a chunk: the chunks overlap by one, the same ids are found
  with the same number of queries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.sync import views
from webapp.sync.merge import (
    LINES_RULE,
    QUICKBOOKS,
    REMOVED_RULE,
    WMS,
    Conflict,
    LaterChangeWins,
    QuickBooksWins,
    Rule,
    merge_fields,
    merge_lines,
)
from webapp.sync.objects import registry

CONTACT = frozenset({"phone", "email"})
RULE = QuickBooksWins(CONTACT, wms_wins="contact: WMS", quickbooks_wins="QuickBooks wins")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _merge(base, wms, fresh, changed=None, **kwargs):
    if changed is None:
        changed = {k for k in fresh if fresh[k] != base.get(k)}
    return merge_fields(base, wms, fresh, set(changed), rule=kwargs.pop("rule", RULE), **kwargs)


# --- the rules -------------------------------------------------------------------------------


def test_quickbooks_wins_except_the_wms_fields():
    assert RULE.decide("phone", None, None) == (WMS, "contact: WMS")
    assert RULE.decide("name", None, None) == (QUICKBOOKS, "QuickBooks wins")
    plain = QuickBooksWins()
    assert plain.decide("phone", T0, T0) == (QUICKBOOKS, "QuickBooks wins conflicts")
    assert plain.wms_fields == frozenset() and plain.wms_wins == ""


def test_the_later_change_wins():
    rule = LaterChangeWins()
    later, earlier = T0 + timedelta(seconds=1), T0 - timedelta(seconds=1)
    assert rule.decide("price", T0, later) == (WMS, "the later change wins: the WMS's was later")
    assert rule.decide("price", T0, earlier) == (
        QUICKBOOKS, "the later change wins: QuickBooks' was later")
    assert rule.decide("price", T0, T0)[0] == QUICKBOOKS  # a tie is not later
    assert rule.decide("price", None, T0)[0] == WMS  # QuickBooks' change has no clock
    assert rule.decide("price", T0, None)[0] == QUICKBOOKS  # the WMS's has none
    assert rule.decide("price", None, None)[0] == QUICKBOOKS


def test_a_rule_must_say_how_it_decides():
    with pytest.raises(NotImplementedError):
        Rule().decide("x", None, None)


# --- header fields ---------------------------------------------------------------------------


def test_nothing_changed_on_the_wms_side_takes_quickbooks_values():
    merged = _merge({"name": "A", "phone": "1"}, {"name": "A", "phone": "1"},
                    {"name": "B", "phone": "2"})
    assert merged.values == {"name": "B", "phone": "2"}
    assert merged.kept == set() and merged.conflicts == []
    assert merged.lines is None and merged.lines_kept is False


def test_a_field_changed_in_the_wms_only_keeps_the_wms_value():
    merged = _merge({"name": "A", "note": "x"}, {"name": "A", "note": "y"},
                    {"name": "B", "note": "x"})
    assert merged.values == {"name": "B", "note": "y"}
    assert merged.kept == {"note"} and merged.conflicts == []


def test_fields_the_wms_does_not_hold_are_quickbooks_values():
    merged = _merge({"a": 1}, {}, {"a": 2, "b": 3})
    assert merged.values == {"a": 2, "b": 3} and merged.kept == set()


def test_a_field_missing_from_the_base_counts_as_none():
    merged = _merge({}, {"note": None}, {"note": "qb"})
    assert merged.values == {"note": "qb"} and merged.kept == set()
    merged = _merge({}, {"note": "wms"}, {"note": None}, changed=set())
    assert merged.values == {"note": "wms"} and merged.kept == {"note"}


def test_both_sides_making_the_same_change_is_no_conflict():
    merged = _merge({"name": "A"}, {"name": "B"}, {"name": "B"})
    assert merged.values == {"name": "B"} and merged.conflicts == [] and merged.kept == set()


def test_a_conflict_on_an_ordinary_field_goes_to_quickbooks_and_is_logged():
    merged = _merge({"name": "A"}, {"name": "W"}, {"name": "Q"})
    assert merged.values == {"name": "Q"} and merged.kept == set()
    assert merged.conflicts == [Conflict("name", "A", "W", "Q", QUICKBOOKS, "QuickBooks wins")]


def test_a_conflict_on_a_contact_field_goes_to_the_wms_and_is_logged():
    merged = _merge({"phone": "1"}, {"phone": "2"}, {"phone": "3"})
    assert merged.values == {"phone": "2"} and merged.kept == {"phone"}
    assert merged.conflicts == [Conflict("phone", "1", "2", "3", WMS, "contact: WMS")]


def test_qb_changed_decides_whether_it_is_a_conflict():
    # QuickBooks' value differs from the WMS's, but QuickBooks did not change it (a base
    # compared as QuickBooks means it): the WMS's change stands, no conflict
    merged = _merge({"terms": "Net 30"}, {"terms": "Net 60"}, {"terms": "Net 30 "},
                    changed=set())
    assert merged.values == {"terms": "Net 60"} and merged.kept == {"terms"}
    assert merged.conflicts == []


def test_the_later_change_rule_uses_both_clocks():
    later = _merge({"price": 1}, {"price": 2}, {"price": 3}, rule=LaterChangeWins(),
                   qb_updated_at=T0, local_updated_at=T0 + timedelta(minutes=1))
    assert later.values == {"price": 2} and later.conflicts[0].winner == WMS
    earlier = _merge({"price": 1}, {"price": 2}, {"price": 3}, rule=LaterChangeWins(),
                     qb_updated_at=T0, local_updated_at=T0 - timedelta(minutes=1))
    assert earlier.values == {"price": 3} and earlier.conflicts[0].winner == QUICKBOOKS


def test_computed_fields_always_take_quickbooks_value():
    merged = _merge({"balance": 1, "name": "A"}, {"balance": 5, "name": "A"},
                    {"balance": 2, "name": "A"}, computed=frozenset({"balance"}))
    assert merged.values == {"balance": 2, "name": "A"}
    assert merged.kept == set() and merged.conflicts == []


def test_net_change_fields_add_both_sides_differences():
    # base 10, the WMS moved it to 7 (-3), QuickBooks to 15 (+5): 10 - 3 + 5
    merged = _merge({"on_hand": Decimal(10)}, {"on_hand": Decimal(7)},
                    {"on_hand": Decimal(15)}, net_change=frozenset({"on_hand"}),
                    computed=frozenset({"on_hand"}))
    assert merged.values == {"on_hand": Decimal(12)}
    assert merged.kept == {"on_hand"} and merged.conflicts == []


def test_net_change_treats_no_value_as_zero():
    merged = _merge({"on_hand": None}, {"on_hand": "4"}, {"on_hand": None},
                    net_change=frozenset({"on_hand"}))
    assert merged.values == {"on_hand": Decimal(4)}
    merged = _merge({"on_hand": "3"}, {"on_hand": None}, {"on_hand": "5"},
                    net_change=frozenset({"on_hand"}))
    assert merged.values == {"on_hand": Decimal(2)}


def test_net_change_with_no_wms_move_is_quickbooks_value_untouched():
    merged = _merge({"on_hand": "3"}, {"on_hand": "3"}, {"on_hand": "9"},
                    net_change=frozenset({"on_hand"}))
    assert merged.values == {"on_hand": "9"} and merged.kept == set()


def test_merge_does_not_change_its_inputs():
    base, wms, fresh = {"name": "A"}, {"name": "W"}, {"name": "Q"}
    _merge(base, wms, fresh)
    assert (base, wms, fresh) == ({"name": "A"}, {"name": "W"}, {"name": "Q"})


# --- lines -----------------------------------------------------------------------------------


def _line(qb_line_id, quantity=1, **extra):
    return {"qb_line_id": qb_line_id, "quantity": quantity, **extra}


def test_lines_nobody_changed_stay_with_their_local_ids():
    base = [_line("L1"), _line("L2")]
    wms = [_line("L1", id=11), _line("L2", id=12)]
    out, conflicts, kept = merge_lines(base, wms, base)
    assert out == [_line("L1", id=11, source=QUICKBOOKS), _line("L2", id=12, source=QUICKBOOKS)]
    assert conflicts == [] and kept is False


def test_a_line_changed_in_quickbooks_only_takes_quickbooks_version():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [_line("L1", 1, id=11)],
                                       [_line("L1", 5)])
    assert out == [_line("L1", 5, id=11, source=QUICKBOOKS)]
    assert conflicts == [] and kept is False


def test_a_line_changed_in_the_wms_only_keeps_the_wms_version_and_stays_pending():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [_line("L1", 7, id=11)],
                                       [_line("L1", 1)])
    assert out == [_line("L1", 7, id=11, source=WMS)]
    assert conflicts == [] and kept is True


def test_a_wms_line_change_takes_quickbooks_computed_fields():
    computed = frozenset({"invoiced"})
    base = [_line("L1", 1, invoiced=0)]
    wms = [_line("L1", 7, id=11, invoiced=0)]
    fresh = [_line("L1", 1, invoiced=1)]
    out, conflicts, kept = merge_lines(base, wms, fresh, computed=computed)
    assert out == [_line("L1", 7, id=11, invoiced=1, source=WMS)] and kept is True


def test_computed_line_fields_are_no_change_of_either_side():
    computed = frozenset({"invoiced"})
    out, conflicts, kept = merge_lines([_line("L1", 1, invoiced=0)],
                                       [_line("L1", 1, id=11, invoiced=3)],
                                       [_line("L1", 1, invoiced=1)], computed=computed)
    assert out == [_line("L1", 1, id=11, invoiced=1, source=QUICKBOOKS)]
    assert conflicts == [] and kept is False


def test_position_and_source_are_no_change():
    out, conflicts, kept = merge_lines([_line("L1", position=1)],
                                       [_line("L1", id=11, position=2, source="x")],
                                       [_line("L1", position=3)])
    assert kept is False and conflicts == []
    assert out == [_line("L1", id=11, position=3, source=QUICKBOOKS)]


def test_the_same_change_on_both_sides_is_no_conflict():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [_line("L1", 4, id=11)],
                                       [_line("L1", 4)])
    assert out == [_line("L1", 4, id=11, source=QUICKBOOKS)]
    assert conflicts == [] and kept is False


def test_a_line_changed_on_both_sides_takes_quickbooks_version_and_is_logged():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [_line("L1", 4, id=11)],
                                       [_line("L1", 9)])
    assert out == [_line("L1", 9, id=11, source=QUICKBOOKS)] and kept is False
    assert conflicts == [Conflict("line L1", _line("L1", 1), _line("L1", 4, id=11),
                                  _line("L1", 9), QUICKBOOKS, LINES_RULE)]


def test_a_line_added_on_either_side_is_kept():
    base = [_line("L1")]
    wms = [_line("L1", id=11), {"qb_line_id": None, "quantity": 2, "id": 12}]
    fresh = [_line("L1"), _line("L2", 3)]
    out, conflicts, kept = merge_lines(base, wms, fresh)
    assert out == [_line("L1", id=11, source=QUICKBOOKS), _line("L2", 3, source=QUICKBOOKS),
                   {"qb_line_id": None, "quantity": 2, "id": 12, "source": WMS}]
    assert conflicts == [] and kept is True


def test_a_wms_line_with_an_id_unknown_to_both_sides_is_an_addition():
    out, _, kept = merge_lines([], [_line("L9", id=19)], [])
    assert out == [_line("L9", id=19, source=WMS)] and kept is True


def test_a_line_quickbooks_adds_that_the_wms_holds_too_keeps_the_local_id():
    out, _, kept = merge_lines([], [_line("L2", 3, id=12)], [_line("L2", 3)])
    assert out == [_line("L2", 3, id=12, source=QUICKBOOKS)] and kept is False


def test_a_line_removed_in_the_wms_and_untouched_in_quickbooks_goes():
    out, conflicts, kept = merge_lines([_line("L1"), _line("L2")], [_line("L1", id=11)],
                                       [_line("L1"), _line("L2")])
    assert out == [_line("L1", id=11, source=QUICKBOOKS)]
    assert conflicts == [] and kept is True  # the removal is still to be sent


def test_a_line_removed_in_the_wms_but_changed_in_quickbooks_stays_changed():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [], [_line("L1", 6)])
    assert out == [_line("L1", 6, source=QUICKBOOKS)] and kept is False
    assert conflicts == [Conflict("line L1", _line("L1", 1), None, _line("L1", 6), QUICKBOOKS,
                                  REMOVED_RULE)]


def test_a_line_removed_in_quickbooks_and_untouched_in_the_wms_goes():
    out, conflicts, kept = merge_lines([_line("L1"), _line("L2")],
                                       [_line("L1", id=11), _line("L2", id=12)], [_line("L1")])
    assert out == [_line("L1", id=11, source=QUICKBOOKS)]
    assert conflicts == [] and kept is False


def test_a_line_removed_in_quickbooks_but_changed_in_the_wms_comes_back_as_new():
    out, conflicts, kept = merge_lines([_line("L1", 1)], [_line("L1", 8, id=11)], [])
    assert out == [{"qb_line_id": None, "quantity": 8, "id": 11, "source": WMS}]
    assert kept is True
    assert conflicts == [Conflict("line L1", _line("L1", 1), _line("L1", 8, id=11), None, WMS,
                                  REMOVED_RULE)]


def test_lines_come_in_quickbooks_order_then_the_wms_additions():
    base = [_line("L1"), _line("L2")]
    wms = [{"qb_line_id": None, "quantity": 5, "id": 30}, _line("L2", id=12),
           _line("L1", id=11)]
    fresh = [_line("L2"), _line("L1")]
    out, _, _ = merge_lines(base, wms, fresh)
    assert [line.get("id") for line in out] == [12, 11, 30]


# --- views: comparable values ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("", None), ({}, None), (None, None), ("x", "x"), (0, 0), (False, False),
    ({"city": "Oslo", "line2": "", "line3": None}, {"city": "Oslo"}),
    ({"line2": "", "line3": None}, None),
    (1.1, Decimal("1.1")), (Decimal("2.50"), Decimal("2.50")),
])
def test_canon_makes_empty_text_and_addresses_no_value(value, expected):
    result = views.canon(value)
    assert result == expected and type(result) is type(expected)


CUSTOMER = registry.get("customer")
ITEM = registry.get("item")
ORDER = registry.get("sales_order")


def test_base_values_convert_each_column_as_the_pull_writes_it():
    values = views.base_values(CUSTOMER, {"name": "Acme", "phone": "", "balance": "12.50",
                                          "billing_address": {"city": "Oslo", "line2": ""},
                                          "parent_qb_id": "P-1", "terms": "Net 30"})
    assert values["name"] == "Acme" and values["phone"] is None
    assert values["balance"] == Decimal("12.50")
    assert values["billing_address"] == {"city": "Oslo"}
    assert values["parent_qb_id"] == "P-1"
    assert values["terms"] == "Net 30"  # a name the field cannot read stays as it was
    assert values["email"] is None
    assert set(values) == set(CUSTOMER.column_fields()) | {"parent_qb_id"}
    assert views.base_values(CUSTOMER, None)["name"] is None


def test_qb_changed_compares_as_quickbooks_means_it():
    old = {"name": "Acme", "balance": "12.5", "terms": {"id": "T1", "fullName": "Net 30"},
           "parent_qb_id": "P-1"}
    same = {"name": "Acme", "balance": "12.50", "terms": {"id": "T1", "fullName": "Net 30 days"},
            "parent_qb_id": "P-1"}
    assert views.qb_changed(CUSTOMER, old, same) == set()  # a renamed terms entry: no change
    moved = {**same, "terms": {"id": "T2", "fullName": "Net 30"}, "parent_qb_id": "P-2",
             "name": "Acme Ltd", "balance": "13"}
    assert views.qb_changed(CUSTOMER, old, moved) == {"terms", "parent_qb_id", "name", "balance"}
    assert views.qb_changed(CUSTOMER, None, {"name": "New"}) == {"name"}
    assert views.qb_changed(CUSTOMER, {"terms": "Net 30"}, {"terms": "Net 30"}) == set()
    assert views.qb_changed(CUSTOMER, {"terms": {"fullName": "A"}},
                            {"terms": {"fullName": "B"}}) == {"terms"}


def test_row_values_stand_references_for_their_quickbooks_ids():
    row = {"name": "Job", "phone": "", "parent_id": 3}
    assert views.row_values(CUSTOMER, row, {("customer", 3): "P-3"})["parent_qb_id"] == "P-3"
    assert views.row_values(CUSTOMER, row, {})["parent_qb_id"] == "local:3"
    values = views.row_values(CUSTOMER, {"name": "Top", "parent_qb_id": "P-9"}, {})
    assert values["parent_qb_id"] == "P-9" and values["phone"] is None


def _synced_customer(**changes):
    base = {"name": "Acme", "phone": "555", "balance": "10.00", "parent_qb_id": None}
    row = {"qb_id": "C-1", "sync_base": base, "name": "Acme", "phone": "555",
           "balance": Decimal("10.00"), "parent_id": None, "parent_qb_id": None, **changes}
    return row


def test_wms_changed_finds_the_columns_the_wms_changed():
    assert views.wms_changed(CUSTOMER, _synced_customer(), None, {}) == (set(), False)
    changed, lines = views.wms_changed(CUSTOMER, _synced_customer(phone="556", name="Acme Co"),
                                       None, {})
    assert changed == {"phone", "name"} and lines is False
    changed, _ = views.wms_changed(CUSTOMER, _synced_customer(parent_id=4), None,
                                   {("customer", 4): "P-4"})
    assert changed == {"parent_qb_id"}


def test_wms_changed_ignores_computed_columns_but_not_net_changes():
    changed, _ = views.wms_changed(CUSTOMER, _synced_customer(balance=Decimal("99")), None, {})
    assert changed == set()
    base = {"name": "Bolt", "quantity_on_hand": "5", "average_cost": "1.00"}
    row = {"qb_id": "I-1", "sync_base": base, "name": "Bolt",
           "quantity_on_hand": Decimal("7"), "average_cost": Decimal("2.00")}
    changed, _ = views.wms_changed(ITEM, row, None, {})
    assert changed == {"quantity_on_hand"}


def test_a_row_never_synced_has_everything_to_send():
    assert views.wms_changed(CUSTOMER, {"qb_id": None, "sync_base": None}, None, {}) == (
        set(CUSTOMER.column_fields()), False)
    assert views.wms_changed(ORDER, {"qb_id": "S-1", "sync_base": None}, [], {}) == (
        set(ORDER.column_fields()), True)


def _order_base(*lines):
    return {"ref_number": "SO-1", "customer_qb_id": "C-1", "lines": list(lines)}


def _base_line(qb_line_id, quantity, rate=None, amount="10.00", invoiced=0, item="I-1"):
    return {"qb_line_id": qb_line_id, "group_qb_line_id": None, "is_line_group": False,
            "description": "Bolts", "quantity": quantity, "rate": rate, "amount": amount,
            "quantity_invoiced": invoiced, "item_qb_id": item, "unit_of_measure": None,
            "is_manually_closed": False}


def _row_line(qb_line_id, quantity, rate=None, amount="10.00", invoiced=0, item_id=1, **extra):
    return {"id": extra.pop("id", 100), "qb_line_id": qb_line_id, "group_qb_line_id": None,
            "is_line_group": False, "description": "Bolts",
            "quantity": Decimal(quantity), "rate": None if rate is None else Decimal(rate),
            "amount": Decimal(amount), "quantity_invoiced": Decimal(invoiced),
            "item_id": item_id, "unit_of_measure": None, "is_manually_closed": False, **extra}


def _order_row(base, lines):
    row = {"qb_id": "S-1", "sync_base": base, "ref_number": "SO-1", "customer_id": 5}
    return row, lines


def test_order_lines_compare_by_value_and_by_item_reference():
    ids = {("customer", 5): "C-1", ("item", 1): "I-1", ("item", 2): "I-2"}
    base = _order_base(_base_line("L1", 2))
    row, lines = _order_row(base, [_row_line("L1", "2.0")])
    changed, lines_changed = views.wms_changed(ORDER, row, lines, ids)
    assert lines_changed is False and "customer_qb_id" not in changed
    _, lines_changed = views.wms_changed(ORDER, row, [_row_line("L1", "3")], ids)
    assert lines_changed is True
    _, lines_changed = views.wms_changed(ORDER, row, [_row_line("L1", "2", item_id=2)], ids)
    assert lines_changed is True
    # what QuickBooks computes on a line (invoiced quantities) is not the WMS's change
    _, lines_changed = views.wms_changed(ORDER, row, [_row_line("L1", "2", invoiced="1")], ids)
    assert lines_changed is False
    # and lines not given are not compared
    assert views.wms_changed(ORDER, row, None, ids)[1] is False


def test_a_line_priced_by_its_rate_leaves_the_amount_to_quickbooks():
    ids = {("customer", 5): "C-1", ("item", 1): "I-1"}
    base = _order_base(_base_line("L1", 2, rate="5.00", amount="10.00"))
    row, _ = _order_row(base, [])
    lines = [_row_line("L1", "2", rate="5.00", amount="99.00")]
    assert views.wms_changed(ORDER, row, lines, ids)[1] is False
    assert views.base_lines(ORDER, base)[0]["amount"] is None
    without_rate = _order_base(_base_line("L1", 2, amount="10.00"))
    assert views.base_lines(ORDER, without_rate)[0]["amount"] == Decimal("10.00")


def test_plain_lines_changed_looks_at_lines_outside_groups_only():
    ids = {("item", 1): "I-1"}
    group = {"qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
             "description": "Kit", "quantity": 1, "unit_of_measure": None,
             "amount": "20.00", "item_qb_id": "K-1"}
    member = {**_base_line("L2", 1), "group_qb_line_id": "G1"}
    base = _order_base(_base_line("L1", 2), group, member)
    row, _ = _order_row(base, [])
    group_row = {"id": 200, "qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
                 "description": "Kit", "quantity": Decimal(1), "unit_of_measure": None,
                 "amount": Decimal("25.00"), "item_qb_id": "K-1"}
    member_row = _row_line("L2", "4", group_qb_line_id="G1", id=201)
    plain_same = [_row_line("L1", "2"), group_row, member_row]
    assert views.plain_lines_changed(ORDER, row, plain_same, ids) is False
    assert views.wms_changed(ORDER, row, plain_same, {**ids, ("customer", 5): "C-1"})[1] is True
    plain_moved = [_row_line("L1", "3"), group_row, member_row]
    assert views.plain_lines_changed(ORDER, row, plain_moved, ids) is True


def test_base_lines_read_groups_by_their_own_fields():
    group = {"qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
             "description": "Kit", "quantity": 2, "unit_of_measure": "",
             "amount": "20.5", "item_qb_id": "K-1", "rate": "3"}
    [values] = views.base_lines(ORDER, _order_base(group))
    assert values == {"qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
                      "description": "Kit", "quantity": Decimal(2), "unit_of_measure": None,
                      "amount": Decimal("20.5"), "item_qb_id": "K-1"}
    assert views.base_lines(ORDER, None) == [] and views.base_lines(ORDER, {"lines": None}) == []


def test_row_lines_keep_the_local_id_and_reference():
    [values] = views.row_lines(ORDER, [_row_line("L1", "2", id=7, item_id=9)], {})
    assert values["id"] == 7 and values["item_qb_id"] == "local:9"
    assert values["quantity"] == Decimal(2) and "item_id" not in values


@pytest.mark.parametrize(("a", "b", "same"), [
    ([], [], True),
    ([{"q": 1}], [], False),
    ([{"q": 1, "id": 1}], [{"q": 1, "id": 2}], True),  # local ids are not compared
    ([{"q": 1}], [{"q": 2}], False),
    ([{"q": 1, "c": 1}], [{"q": 1, "c": 2}], True),  # computed fields are not compared
    ([{"q": 1}], [{"q": 1, "x": 0}], False),
    ([{"q": 1}, {"q": 2}], [{"q": 2}, {"q": 1}], False),  # order counts
])
def test_same_lines(a, b, same):
    assert views.same_lines(a, b, frozenset({"c"})) is same


# --- every field and every line is looked at, whatever comes before it ------------------------


def test_each_kind_of_field_leaves_the_fields_after_it_to_be_merged():
    # One field of each kind, in this order; the last is a conflict the WMS wins, so a merge
    # that stopped early anywhere would lose it
    base = {"qb_only": 1, "untouched": "a", "stock": "5", "balance": "1", "same": "x",
            "note": "n", "phone": "1"}
    wms = {"untouched": "a", "stock": "4", "balance": "9", "same": "y", "note": "wms note",
           "phone": "2"}
    fresh = {"qb_only": 2, "untouched": "b", "stock": "7", "balance": "2", "same": "y",
             "note": "n", "phone": "3"}
    merged = _merge(base, wms, fresh, net_change=frozenset({"stock"}),
                    computed=frozenset({"balance"}))
    assert merged.values == {"qb_only": 2, "untouched": "b", "stock": Decimal(6), "balance": "2",
                             "same": "y", "note": "wms note", "phone": "2"}
    assert merged.kept == {"stock", "note", "phone"}
    assert merged.conflicts == [Conflict("phone", "1", "2", "3", WMS, "contact: WMS")]


def test_each_kind_of_line_leaves_the_lines_after_it_to_be_merged():
    base = [_line("L1"), _line("L2")]
    wms = [_line("L2", 5, id=12)]  # L1 removed in the WMS, L2 changed there
    fresh = [_line("L0", 3), _line("L1"), _line("L2")]  # L0 added in QuickBooks
    out, conflicts, kept = merge_lines(base, wms, fresh)
    assert out == [_line("L0", 3, source=QUICKBOOKS), _line("L2", 5, id=12, source=WMS)]
    assert conflicts == [] and kept is True


def test_a_field_only_one_side_of_a_line_has_is_a_change():
    out, conflicts, kept = merge_lines([_line("L1")], [_line("L1", id=11, memo="wms")],
                                       [_line("L1")])
    assert out == [_line("L1", id=11, memo="wms", source=WMS)] and kept is True
    out, _, kept = merge_lines([_line("L1")], [_line("L1", id=11)], [_line("L1", memo="qb")])
    assert out == [_line("L1", id=11, memo="qb", source=QUICKBOOKS)] and kept is False


def test_an_unchanged_group_row_with_every_line_column_is_no_change():
    # A group's row in the database has every line column (rate, invoiced, closed ...): only
    # the group's own keys are compared with its base
    ids = {("customer", 5): "C-1", ("item", 1): "I-1"}
    group = {"qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
             "description": "Kit", "quantity": 1, "unit_of_measure": None,
             "amount": "20.00", "item_qb_id": "K-1"}
    base = _order_base(group)
    row, _ = _order_row(base, [])
    group_row = {"id": 200, "qb_line_id": "G1", "group_qb_line_id": None, "is_line_group": True,
                 "description": "Kit", "quantity": Decimal(1), "unit_of_measure": None,
                 "amount": Decimal("20.00"), "item_qb_id": "K-1", "rate": None,
                 "quantity_invoiced": Decimal(0), "is_manually_closed": False, "item_id": None}
    assert views.wms_changed(ORDER, row, [group_row], ids)[1] is False
    assert views.wms_changed(ORDER, row, [{**group_row, "quantity": Decimal(2)}], ids)[1]


# --- the QuickBooks ids behind local references (an in-memory database, no app) --------------


def test_load_qb_ids_finds_every_local_reference_of_rows_and_lines():
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    engine = sa.create_engine("sqlite://")
    customers, items = CUSTOMER.model.__table__, ITEM.model.__table__
    vendors = registry.get("vendor").model.__table__  # what items refer to
    customers.metadata.create_all(engine, tables=[customers, vendors, items])
    with Session(engine) as session:
        session.execute(sa.insert(customers), [
            {"id": n, "qb_id": None if n == 3 else f"C-{n}", "name": f"C{n}",
             "full_name": f"C{n}"} for n in range(1, 602)])
        session.execute(sa.insert(items), [
            {"id": 7, "qb_id": "I-7", "name": "Bolt", "full_name": "Bolt",
             "item_type": "inventory"}])
        rows = [{"customer_id": n} for n in range(1, 602)] + [{"customer_id": None}]
        lines = [{"item_id": 7}, {"item_id": None}, {"item_id": 8}]
        queries = []
        sa.event.listen(engine, "before_cursor_execute",
                        lambda *args: queries.append(args[2]))
        found = views.load_qb_ids(session, ORDER, rows, lines)
    engine.dispose()
    assert len(queries) == 3  # the customers in two chunks of at most 500, then the items
    # more than one chunk of 500 ids, a row not yet in QuickBooks, and an item that is gone
    assert found[("customer", 1)] == "C-1" and found[("customer", 601)] == "C-601"
    assert found[("customer", 3)] is None
    assert found[("item", 7)] == "I-7" and ("item", 8) not in found
    assert len(found) == 602
    assert views.load_qb_ids(None, ORDER, [], []) == {}
