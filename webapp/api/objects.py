"""`GET /api/v1/objects`: what can be synced, in run order."""

from webapp.api import bp
from webapp.api.layer import operation
from webapp.api.schemas import ObjectList
from webapp.sync.objects import registry


@operation(bp, "GET", "/objects", tag="objects", summary="What can be synced",
           responses={200: (ObjectList, "Every object, in run order, with its dependencies.")})
def list_objects():
    """Every object that can be synced, its direction and what it depends on."""
    return {"objects": [cls.describe() for cls in registry.all()]}
