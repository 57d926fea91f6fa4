"""Browser fixtures: Debian chromium through Playwright, and the app served from a thread.

Each test gets its own app on a fresh SQLite file migrated by Alembic, served by werkzeug on a
free port of 127.0.0.1, and a logged-in page that records console errors and CSP violations.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, make_app
from webapp import PROJECT_ROOT
from webapp.extensions import db

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
EMAIL = "staff@example.com"
TEST_POLL_MS = 400  # people get 2 s; tests need not wait that long
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
# Chrome logs every failed fetch as a console error; tests that cause one on purpose allow it.
FAILED_LOAD = re.compile(r"Failed to load resource")

# Records CSP violations (they also reach the console) before any page script runs.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class LiveServer:
    """The app served on 127.0.0.1 from a background thread."""

    app: Any
    url: str = ""
    _server: Any = None
    _thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def close(self) -> None:
        """Stop serving and let go of the database file."""
        self.stop()
        with self.app.app_context():
            db.engine.dispose()

    def db(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` inside the app (for arranging rows as the workers would write them)."""
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()


def serve(tmp_path: Path, **config) -> LiveServer:
    """An app on a fresh, migrated SQLite file, with a staff user, served from a thread."""
    from flask_migrate import upgrade

    from webapp.cli import create_or_update_user

    uri = f"sqlite:///{tmp_path / 'qbsync.db'}"
    app = make_app(uri, **{"QBSYNC_DASHBOARD_POLL_MS": TEST_POLL_MS, **config})
    with app.app_context():
        upgrade()
        create_or_update_user(EMAIL, PASSWORD)
        db.session.remove()
    return LiveServer(app).start()


@pytest.fixture
def live_sim(tmp_path, simulator) -> Iterator[LiveServer]:
    """The app served with its embedded worker, syncing from the module's own `simulator`
    fixture (each module picks the company's size, seed and latency)."""
    from actors import embedded
    from tests.sync.conftest import SIM_END_USER, SIM_KEY

    served = serve(tmp_path, CONDUCTOR_BASE_URL=simulator.base_url, CONDUCTOR_SECRET_KEY=SIM_KEY,
                   CONDUCTOR_END_USER_ID=SIM_END_USER, QBSYNC_EMBEDDED_WORKER=True)
    yield served
    embedded.stop(served.app)
    served.close()


@pytest.fixture
def live(tmp_path) -> Iterator[LiveServer]:
    server = serve(tmp_path)
    yield server
    server.close()


@dataclass
class PageWatch:
    """What went wrong in the page: console errors, uncaught exceptions, CSP violations."""

    page: Any
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: re.Pattern) -> None:
        self.allowed.append(pattern)

    def on_console(self, message) -> None:
        text = message.text
        # Alpine reports expression errors as warnings; they are bugs all the same.
        if message.type == "error" or (message.type == "warning" and "Alpine" in text):
            self.errors.append(f"console.{message.type}: {text}")

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == [], f"CSP violations: {violations}"
        unexpected = [e for e in self.errors if not any(p.search(e) for p in self.allowed)]
        assert unexpected == [], f"console errors: {unexpected}"


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def open_page(browser, live: LiveServer, viewport=LAPTOP, context=None):
    """A new logged-in page on the dashboard, watched for errors (in `context` if given)."""
    context = context or browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    watch = PageWatch(page)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
    log_in(page, live.url)
    return page, watch


@pytest.fixture
def page(browser, live):
    """A logged-in dashboard page; at the end, no console errors and no CSP violations."""
    page, watch = open_page(browser, live)
    page.watch = watch
    yield page
    watch.assert_clean()
    page.context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
