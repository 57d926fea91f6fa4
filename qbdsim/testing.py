"""Helpers for tests anywhere in the project: a simulator on a free port, and a client for it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from qbdsim import contract
from qbdsim.config import SimConfig
from qbdsim.server import SimServer


@contextmanager
def running_simulator(**config_overrides) -> Iterator[SimServer]:
    """A started :class:`SimServer` (port 0 unless given), stopped on exit.

    ``config_overrides`` are :class:`SimConfig` fields, e.g. ``size=300, latency_ms=50``.
    """
    config = SimConfig(port=0).with_overrides(**config_overrides)
    server = SimServer(config).start()
    try:
        yield server
    finally:
        server.stop()


def conductor_client(server: SimServer, **options):
    """A real ``conductor.Conductor`` pointed at ``server`` (close it, or use it as a context).

    ``options`` go to the constructor, e.g. ``max_retries=0``.
    """
    from conductor import Conductor

    return Conductor(api_key=server.config.secret_key, base_url=server.base_url, **options)


class SimHttp:
    """Raw HTTP to a simulator with Conductor's headers, for checks below the SDK."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.headers = {
            "Authorization": f"Bearer {server.config.secret_key}",
            "Conductor-End-User-Id": server.config.end_user_id,
        }

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A Conductor request; ``path`` is relative to ``/v1/quickbooks-desktop/``."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = f"/v1/quickbooks-desktop/{path}"
        return self.http.request(method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        """GET a Conductor path."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> httpx.Response:
        """POST a Conductor path."""
        return self.request("POST", path, json=json, **kwargs)

    def sim(self, method: str, path: str, json=None) -> httpx.Response:
        """A ``/_sim/`` control request (an unsafe one always as JSON, ``{}`` without a body)."""
        if json is None and method.upper() not in ("GET", "HEAD"):
            json = {}
        return self.http.request(method, f"/_sim/{path}", json=json)

    def edit(self, body: dict) -> list[dict]:
        """``POST /_sim/edits`` (see :mod:`qbdsim.edits`): the records touched, ``{"resource",
        "id"}`` each. Raises ``httpx.HTTPStatusError`` when the simulator refuses the edit."""
        response = self.sim("POST", "edits", body)
        response.raise_for_status()
        return response.json()["touched"]

    def create_in_quickbooks(self, resource: str, fields: dict) -> str:
        """A record made "in QuickBooks" behind the API's back (e.g. an item receipt: stock
        received that the WMS never saw); ``fields`` as the API's create body. Its id."""
        return self.edit({"create": {"resource": resource, "fields": fields}})[0]["id"]

    def delete_in_quickbooks(self, resource: str, record_id: str) -> None:
        """A transaction deleted (a list object made inactive) in QuickBooks."""
        self.edit({"delete": {"resource": resource, "id": record_id}})

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> SimHttp:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@functools.cache
def _validator(method: str, spec_path: str, ok: bool):
    return contract.response_validator(method, spec_path, 200 if ok else 0)


def assert_conforms(response: httpx.Response, method: str, spec_path: str) -> dict:
    """Assert a response matches the spec (errors: ``ErrorResponse``); returns its JSON.

    ``spec_path`` is the spec's path, e.g. ``/quickbooks-desktop/customers/{id}``. Needs
    ``jsonschema``.
    """
    assert response.headers["Conductor-Request-Id"].startswith("req_")
    body = response.json()
    ok = response.status_code == 200
    errors = sorted(_validator(method, spec_path, ok).iter_errors(body), key=str)
    assert not errors, f"{method} {spec_path}: {errors[0].message} at {list(errors[0].path)}"
    if not ok:
        assert body["error"]["httpStatusCode"] == response.status_code
        assert body["error"]["requestId"] == response.headers["Conductor-Request-Id"]
    return body
