"""A Conductor that answers what the spec allows (and a little beyond) but our simulator never
sends: a small HTTP proxy in front of the simulator whose answers a test rewrites."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PREFIX = "/v1/quickbooks-desktop/"
# (method, resource path after the prefix, query as a multi-dict, the simulator's JSON answer)
Rewrite = Callable[[str, str, dict, object], object]


@dataclass
class Hostile:
    """The proxy's address and what it was asked (method, resource, query)."""

    url: str
    asked: list[tuple[str, str, dict]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


@contextmanager
def hostile_conductor(upstream_url: str, rewrite: Rewrite, *,
                      answer_all: bool = False) -> Iterator[Hostile]:
    """Serve `upstream_url`'s answers, each 200 JSON answer through `rewrite` first. With
    `answer_all`, the rewrite answers every request (given None when the simulator refused
    it; returning None passes the simulator's answer on) and every cursor is its own."""
    upstream = httpx.Client(base_url=upstream_url, timeout=30)
    box: dict = {}

    @Request.application
    def app(request: Request) -> Response:
        query = {k: request.args.getlist(k) for k in request.args}
        # A cursor the rewrite made up ("c_...") is the simulator's first page again
        forwarded = [(k, v) for k, v in request.args.items(multi=True)
                     if not (k == "cursor" and (answer_all or v.startswith("c_")))]
        answer = upstream.request(
            request.method, request.path, params=forwarded, content=request.get_data(),
            headers={k: v for k, v in request.headers.items()
                     if k.lower() in ("authorization", "conductor-end-user-id", "content-type")})
        resource = request.path.removeprefix(PREFIX) if request.path.startswith(PREFIX) else ""
        box["hostile"].asked.append((request.method, resource, query))
        ok = answer.status_code == 200
        body = None
        if resource and (ok or answer_all):
            body = rewrite(request.method, resource, query, answer.json() if ok else None)
        if body is None:
            return Response(answer.content, status=answer.status_code,
                            content_type=answer.headers.get("content-type"))
        return Response(json.dumps(body), status=200, content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    box["hostile"] = Hostile(f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box["hostile"]
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        upstream.close()
