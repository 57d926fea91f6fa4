"""The registry: topological order, dependency planning with reasons, cycle detection."""

import pytest

from webapp.sync.base import SyncObject
from webapp.sync.objects import registry
from webapp.sync.registry import Registry, RegistryError, UnknownObjectError


def test_objects_run_in_dependency_order():
    order = registry.order
    assert order == ["customer", "vendor", "item", "sales_order", "purchase_order", "invoice",
                     "inventory_adjustment"]
    for cls in registry.all():
        for dep in cls.depends_on:
            assert order.index(dep) < order.index(cls.name)


def test_selecting_an_object_plans_its_dependencies_with_reasons():
    plan = [p.as_dict() for p in registry.plan(["sales_order"])]
    assert plan == [
        {"name": "customer", "reason": "needed by sales_order"},
        {"name": "vendor", "reason": "needed by item"},
        {"name": "item", "reason": "needed by sales_order"},
        {"name": "sales_order", "reason": "selected"},
    ]


def test_empty_selection_plans_everything():
    assert [p.name for p in registry.plan([])] == registry.order
    assert {p.reason for p in registry.plan(None)} == {"selected"}


def test_unknown_objects_are_named():
    with pytest.raises(UnknownObjectError) as caught:
        registry.plan(["customer", "widgets", "gadgets"])
    assert caught.value.names == ["widgets", "gadgets"]


def _declare(reg: Registry, name: str, deps: tuple[str, ...]):
    cls = type(f"{name}Sync", (), {"name": name, "depends_on": deps})
    reg.register(cls)


def test_a_cycle_is_refused():
    reg = Registry()
    _declare(reg, "a", ("b",))
    _declare(reg, "b", ("c",))
    _declare(reg, "c", ("a",))
    with pytest.raises(RegistryError, match="cycle"):
        reg.validate()


def test_an_unknown_dependency_is_refused():
    reg = Registry()
    _declare(reg, "a", ("ghost",))
    with pytest.raises(RegistryError, match="unknown object"):
        reg.validate()


def test_objects_register_themselves_by_subclassing(monkeypatch):
    fresh = Registry()
    monkeypatch.setattr("webapp.sync.registry.registry", fresh)

    class WidgetSync(SyncObject):
        name = "widget"
        display_name = "Widgets"

    assert fresh.get("widget") is WidgetSync
    with pytest.raises(TypeError, match="direction"):
        class BadSync(SyncObject):
            name = "bad"
            display_name = "Bad"
            direction = "sideways"
