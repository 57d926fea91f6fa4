"""The registry of sync objects: topological order, dependency planning, cycle detection."""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webapp.sync.base import SyncObject


class RegistryError(Exception):
    """The declared objects do not form a valid plan (unknown dependency or a cycle)."""


class UnknownObjectError(ValueError):
    """A caller named an object that does not exist."""

    def __init__(self, names: list[str]):
        self.names = names
        super().__init__(f"unknown object(s): {', '.join(names)}")


@dataclass(frozen=True)
class PlannedObject:
    """One object of a session's plan, and why it is there."""

    name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


class Registry:
    """Holds every `SyncObject` class; `validate()` runs once all are imported."""

    def __init__(self) -> None:
        self._objects: dict[str, type[SyncObject]] = {}
        self._order: list[str] = []

    def register(self, cls: type[SyncObject]) -> None:
        if cls.name in self._objects and self._objects[cls.name] is not cls:
            raise RegistryError(f"two sync objects are named {cls.name!r}")
        self._objects[cls.name] = cls
        self._order = []

    def validate(self) -> None:
        """Fail loudly on an unknown dependency or a cycle; compute the run order."""
        for cls in self._objects.values():
            missing = [d for d in cls.depends_on if d not in self._objects]
            if missing:
                raise RegistryError(f"{cls.name} depends on unknown object(s) {missing}")
        self._order = self._topological(self._objects)

    @staticmethod
    def _topological(objects: dict[str, type[SyncObject]]) -> list[str]:
        sorter = TopologicalSorter({n: c.depends_on for n, c in objects.items()})
        try:
            sorter.prepare()
        except CycleError as error:
            cycle = " -> ".join(error.args[1])
            raise RegistryError(f"sync objects depend on each other in a cycle: {cycle}") from None
        # Deterministic: among the ready objects, keep declaration order.
        declared = list(objects)
        order: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=declared.index)
            order.extend(ready)
            sorter.done(*ready)
        return order

    @property
    def order(self) -> list[str]:
        if not self._order:
            self.validate()
        return list(self._order)

    def get(self, name: str) -> type[SyncObject]:
        try:
            return self._objects[name]
        except KeyError:
            raise UnknownObjectError([name]) from None

    def all(self) -> list[type[SyncObject]]:
        return [self._objects[n] for n in self.order]

    def plan(self, selected: list[str] | None) -> list[PlannedObject]:
        """The objects to run for `selected` (all when empty), dependencies first, with reasons."""
        if not selected:
            return [PlannedObject(n, "selected") for n in self.order]
        unknown = [n for n in selected if n not in self._objects]
        if unknown:
            raise UnknownObjectError(unknown)
        reasons: dict[str, str] = {n: "selected" for n in selected}
        stack = list(selected)
        while stack:
            name = stack.pop()
            for dep in self._objects[name].depends_on:
                if dep not in reasons:
                    reasons[dep] = f"needed by {name}"
                    stack.append(dep)
        return [PlannedObject(n, reasons[n]) for n in self.order if n in reasons]


registry = Registry()
