"""One small declarative module per synced object (DESIGN §1). Importing this package
registers them all and validates the dependency graph, so a cycle fails at import time.

Adding an object: one new module here and one import line below (the order of these lines is
the order objects are listed and run in, dependencies permitting).
"""
# isort: skip_file

from webapp.sync.objects import customer  # noqa: F401
from webapp.sync.objects import vendor  # noqa: F401
from webapp.sync.objects import item  # noqa: F401
from webapp.sync.objects import sales_order  # noqa: F401
from webapp.sync.objects import purchase_order  # noqa: F401
from webapp.sync.objects import invoice  # noqa: F401
from webapp.sync.objects import inventory_adjustment  # noqa: F401
from webapp.sync.registry import registry

registry.validate()

__all__ = ["registry"]
