"""Serving the simulator over HTTP: in a background thread (tests, demos) or in the foreground."""

from __future__ import annotations

import gc
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from qbdsim.app import create_app
from qbdsim.config import SimConfig
from qbdsim.simulator import Simulator

POLL_INTERVAL_S = 0.05


class _QuietHandler(WSGIRequestHandler):
    """No access log: a benchmark makes thousands of requests."""

    def log_request(self, code="-", size="-") -> None:
        pass


class SimServer:
    """A simulated QuickBooks Desktop company behind Conductor's REST API.

    ``start()`` serves from a background thread on ``config.host``/``config.port`` (port 0 picks
    a free one); ``url`` and ``base_url`` (for ``CONDUCTOR_BASE_URL``) are known once it is
    bound. Use it as a context manager to stop it reliably.
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.simulator = Simulator(self.config)
        self.app = create_app(self.simulator)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> SimServer:
        """Open the listening socket (threaded: one thread per connection)."""
        if self._server is None:
            self._server = make_server(
                self.config.host,
                self.config.port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
            )
        return self

    @property
    def port(self) -> int:
        """The port actually bound."""
        if self._server is None:
            raise RuntimeError("the simulator is not bound yet; call start() or bind()")
        return self._server.server_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The ``base_url`` / ``CONDUCTOR_BASE_URL`` for conductor-py: ``url + "/v1"``."""
        return f"{self.url}/v1"

    def start(self) -> SimServer:
        """Serve in a daemon thread; returns at once."""
        self.bind()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL_S},
                name=f"qbdsim:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self.bind()
        # A process of its own: the company lives as long as it does, so keep the cyclic
        # garbage collector from walking it again and again.
        gc.collect()
        gc.freeze()
        try:
            self._server.serve_forever(poll_interval=POLL_INTERVAL_S)
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and close the socket; requests waiting out latency are answered now."""
        if self._server is None:
            return
        self.simulator.update_faults({"latency_ms": 0, "latency_jitter_ms": 0})
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
