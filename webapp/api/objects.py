"""`GET /api/v1/objects`: what can be synced, in run order."""

from flask import jsonify

from webapp.api import bp
from webapp.sync.objects import registry


@bp.get("/objects")
def list_objects():
    return jsonify({"objects": [cls.describe() for cls in registry.all()]})
