"""Whatever valid body the spec allows, creates and updates answer with a spec-shaped object or a
Conductor error — never a crash (bodies generated from the spec's own request schemas)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from qbdsim import contract
from qbdsim.resources import RESOURCES
from qbdsim.testing import SimHttp, assert_conforms, running_simulator

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
OPERATIONS = [
    (path, spec_path)
    for path, res in RESOURCES.items()
    if res.writable
    for spec_path in (res.collection_path, res.item_path)
    if res.updatable or spec_path == res.collection_path
]


def _without_examples(schema):
    """The schema minus its ``example`` annotations (YAML reads some as datetimes, which
    hypothesis-jsonschema cannot serialise; they constrain nothing)."""
    if isinstance(schema, dict):
        return {k: _without_examples(v) for k, v in schema.items() if k != "example"}
    if isinstance(schema, list):
        return [_without_examples(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def fuzz_wire():
    with running_simulator(size=300, seed=5) as server, SimHttp(server) as raw:
        yield raw


def _known_ids(wire) -> list[str]:
    ids = []
    for path, res in RESOURCES.items():
        params = {"limit": 3} if res.paginated else {}
        ids += [row["id"] for row in wire.get(path, params=params).json()["data"]]
    return ids


def _point_ids_at_records(body, ids: list[str], pick) -> None:
    """Swap most generated ``...Id`` values for real ids, so writes get past reference checks."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key.endswith("Id") and isinstance(value, str) and pick.random() < 0.7:
                body[key] = pick.choice(ids)
            else:
                _point_ids_at_records(value, ids, pick)
    elif isinstance(body, list):
        for value in body:
            _point_ids_at_records(value, ids, pick)


@pytest.mark.parametrize(("path", "spec_path"), OPERATIONS)
def test_generated_bodies_never_crash_the_simulator(fuzz_wire, path, spec_path):
    ids = _known_ids(fuzz_wire)
    target = fuzz_wire.get(path, params={"limit": 1} if RESOURCES[path].paginated else {})
    url = path if spec_path.endswith(path) else f"{path}/{target.json()['data'][0]['id']}"

    schema = _without_examples(contract.body_schema("POST", spec_path))

    @FUZZ
    @given(body=from_schema(schema), pick=st.randoms())
    def check(body, pick):
        _point_ids_at_records(body, ids, pick)
        if "revisionNumber" in body and pick.random() < 0.8:
            body["revisionNumber"] = fuzz_wire.get(url).json()["revisionNumber"]
        response = fuzz_wire.post(url, json=body)
        assert response.status_code in (200, 400, 502), response.text
        assert_conforms(response, "POST", spec_path)

    check()
