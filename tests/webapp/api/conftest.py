"""Fixtures for the API tests: bearer headers, sessions in any state, a fake Conductor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from webapp.extensions import db
from webapp.models import SyncError, SyncObjectRun, SyncSession
from webapp.models.sync import ENDED_STATUSES
from webapp.models.types import utcnow
from webapp.sync import manager


@pytest.fixture
def bearer(api_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def token_client(app):
    """A client with no cookies and no CSRF help, as a script would be."""
    return app.test_client()


@pytest.fixture
def make_session(app):
    """Insert a session as the workers would have left it: `make_session("completed", ...)`."""

    def make(status: str = "completed", objects=("customer",), *, counts=None, total=10,
             processed=None, age_s: float = 60, duration_s: float = 30, errors: int = 0,
             mode: str = "incremental") -> SyncSession:
        started = utcnow() - timedelta(seconds=age_s)
        ended = status in ENDED_STATUSES
        session = SyncSession(
            end_user_id=manager.end_user_id(), status=status, mode=mode,
            selected_objects=list(objects),
            planned_objects=[{"name": n, "reason": "selected"} for n in objects],
            created_at=started, started_at=started,
            completed_at=started + timedelta(seconds=duration_s) if ended else None,
            current_object=None if ended else objects[0],
        )
        for position, name in enumerate(objects):
            done = processed if processed is not None else (total if ended else total // 2)
            session.object_runs.append(SyncObjectRun(
                object_name=name, position=position, reason="selected",
                status="completed" if status == "completed" else status,
                total=total, processed=done, **(counts or {"created": done}),
            ))
        db.session.add(session)
        db.session.flush()
        for i in range(errors):
            db.session.add(SyncError(session_id=session.id, object_type=objects[0],
                                     object_id=f"80000{i:03d}-1234567890", phase="pull",
                                     code="broken_reference", message=f"Record {i} is broken"))
        session.error_count = errors
        db.session.commit()
        return session

    return make


@dataclass
class FakeConductor:
    """A stand-in for Conductor's health-check endpoint on 127.0.0.1, counting calls."""

    status: int = 200
    body: bytes = b'{"duration": 12, "status": "ok"}'
    calls: list[dict] = field(default_factory=list)
    base_url: str = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append({"path": request.path, "auth": request.headers.get("Authorization"),
                           "end_user": request.headers.get("Conductor-End-User-Id")})
        response = Response(self.body, status=self.status, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture
def fake_conductor() -> Iterator[FakeConductor]:
    fake = FakeConductor()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}/v1"
    yield fake
    server.shutdown()
    thread.join()
