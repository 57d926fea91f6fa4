"""``/_sim/``: statistics, counts, reset, fault settings, scripted answers and QuickBooks-user
edits.

No authentication (the server binds to 127.0.0.1); requests here are not counted, not delayed,
not faulted and do not wait for QuickBooks — only for the data lock. An unsafe request must say
it sends JSON (`Content-Type: application/json`, an empty body is `{}`): a web page elsewhere
can make a browser send a form or a bodiless POST here, but not that without asking first (a
CORS preflight this server never grants), so no site can reset a demo's company.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from qbdsim.edits import apply_edits
from qbdsim.errors import invalid_request

bp = Blueprint("sim", __name__, url_prefix="/_sim")


@bp.before_request
def _json_only():
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype != "application/json":
        response = jsonify({"error": {
            "type": "INVALID_REQUEST_ERROR", "code": "UNSUPPORTED_MEDIA_TYPE",
            "message": "Send /_sim/ requests as JSON (Content-Type: application/json)."}})
        response.status_code = 415
        return response
    return None


def _sim():
    return current_app.extensions["qbdsim"]


def _json_object() -> dict:
    body = request.get_json(silent=True)
    if body is None and request.get_data().strip():
        raise invalid_request("The request body is not valid JSON")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid_request("Expected a JSON object")
    return body


@bp.get("/stats")
def stats():
    """Requests received per method and path template."""
    return jsonify(_sim().stats())


@bp.get("/counts")
def counts():
    """Records held per resource, inactive ones included."""
    sim = _sim()
    company = sim.company
    with company.lock:
        return jsonify(company.counts())


@bp.post("/reset")
def reset():
    """Regenerate the company from its size and seed (or new ones); statistics to zero."""
    body = _json_object()
    for name in ("size", "seed"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid_request(f"{name} must be an integer")
    if body.get("size") is not None and body["size"] < 0:
        raise invalid_request("size must be >= 0")
    sim = _sim()
    sim.reset(size=body.get("size"), seed=body.get("seed"))
    with sim.company.lock:
        counts = sim.company.counts()
    return jsonify(
        {"reset": True, "size": sim.config.size, "seed": sim.config.seed, "counts": counts}
    )


@bp.post("/faults")
def faults():
    """Change any subset of the fault settings; answers all of them."""
    return jsonify(_sim().update_faults(_json_object()))


@bp.get("/faults")
def current_faults():
    """The current fault settings."""
    return jsonify(_sim().faults.as_dict())


@bp.post("/answers")
def answers():
    """Queue scripted answers for the next Conductor requests (see ``qbdsim.scripted``)."""
    return jsonify({"pending": _sim().script.load(_json_object())})


@bp.get("/answers")
def pending_answers():
    """The scripted answers not given yet."""
    return jsonify({"answers": _sim().script.pending()})


@bp.post("/edits")
def edits():
    """Edit, create or delete records as a QuickBooks user would (see ``qbdsim.edits``)."""
    sim = _sim()
    company = sim.company
    with company.lock:
        touched = apply_edits(company, sim.edit_rng, _json_object())
    return jsonify({"touched": touched})
