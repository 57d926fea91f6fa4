"""Login throttling (Flask-Limiter): failed logins are counted per account and per client
address, in Redis when the app has one (every web process shares the count), else in memory.

Only failed attempts count, so staff who type their password right are never held up; a
throttled attempt is refused before the password is even checked, with a page that says what
happened and when to try again, and `Retry-After`.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

# Failed logins allowed before the next attempt is refused for the rest of the window.
PER_ACCOUNT = "5 per 5 minutes; 20 per hour"
PER_ADDRESS = "20 per 5 minutes; 100 per hour"
LOGIN_ENDPOINT = "auth.login"
THROTTLED = ("Too many failed logins for this account or from this address. Wait "
             "{wait} and try again; if you have forgotten the password, ask an administrator "
             "to set a new one (`qbsync users set-password`).")


def _account() -> str:
    """The account a login attempt is for, as the login looks it up."""
    return (request.form.get("email") or "").strip().lower()[:254] or "-"


def _failed(response) -> bool:
    """A login that did not succeed (a success redirects)."""
    return response.status_code != 302


def init_app(app: Flask) -> Limiter:
    """A limiter of the app's own (its counts are this app's), guarding the login form."""
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        storage_options={"socket_timeout": 2, "socket_connect_timeout": 2}
        if app.config.get("REDIS_URL") else {},
        key_prefix="qbsync-login",
        strategy="moving-window",
        headers_enabled=True,
        # Redis down must not lock everyone out: count in memory meanwhile
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    view = app.view_functions[LOGIN_ENDPOINT]
    view = limiter.limit(PER_ADDRESS, methods=["POST"], deduct_when=_failed,
                         per_method=True)(view)
    view = limiter.limit(PER_ACCOUNT, key_func=_account, methods=["POST"], deduct_when=_failed,
                         per_method=True)(view)
    app.view_functions[LOGIN_ENDPOINT] = view  # this app's login, checked by this limiter
    app.register_error_handler(RateLimitExceeded, _throttled)
    app.extensions["qbsync_login_limiter"] = limiter
    return limiter


def _throttled(error: RateLimitExceeded):
    seconds = error.limit.limit.get_expiry()
    wait = f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
    return render_template("error.html", code=429,
                           message=THROTTLED.format(wait=f"up to {wait}")), 429
