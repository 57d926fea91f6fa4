"""`SyncObject`: the declarative base every synced object subclasses (STYLE principle 4).

An object module declares what it is — name, display name, direction, dependencies, the
QuickBooks resources and the WMS model — and its mappings; paging, checkpoints, upserts,
progress, cancel checks and error handling live once in the engine.
"""

from __future__ import annotations

from typing import ClassVar

DIRECTIONS = ("both", "pull")


class SyncObject:
    """Base of every synced object; subclasses register themselves in the registry."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    direction: ClassVar[str] = "both"
    depends_on: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # an intermediate base class, not an object
        if cls.direction not in DIRECTIONS:
            raise TypeError(f"{cls.__name__}.direction must be one of {DIRECTIONS}")
        from webapp.sync.registry import registry

        registry.register(cls)

    @classmethod
    def describe(cls) -> dict:
        """The object as the API lists it."""
        return {
            "name": cls.name,
            "display_name": cls.display_name,
            "direction": cls.direction,
            "depends_on": list(cls.depends_on),
        }
