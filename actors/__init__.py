"""Dramatiq workers for qbsync sessions.

`dramatiq actors` (Procfile `worker`) imports this package: `actors.broker` first, which builds
Dramatiq's global broker from the environment (Redis), then the actor modules. The worker's
Flask app is built with `create_app()` when the worker process boots. Web apps wire themselves
in with `actors.broker.init_app(app)`, called by `create_app`.
"""

# `broker` first: the broker must exist before any actor is declared.
from actors import broker, sync  # noqa: F401
