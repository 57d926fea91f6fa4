"""Request guards and response headers: authentication everywhere, CSRF, tokens, headers.

Order of the guards for every request:
1. a token in the query string is refused (tokens travel in the Authorization header only);
2. a request with `Authorization: Bearer` is authenticated by the token alone, needs no CSRF
   token, and never receives a session cookie;
   Tokens are for the JSON API only: one sent to a page (or to log out) is refused;
3. every endpoint but the login page, the health check and static files needs a user;
4. every other unsafe request must carry a valid CSRF token (form field or `X-CSRFToken`).

`static/` serves assets only (stylesheets, scripts, images, fonts, licences), never other files
that live there (the vendoring script). Authenticated answers are never cached.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from webapp.extensions import commit_bookkeeping, csrf
from webapp.models.auth import ApiToken
from webapp.models.types import utcnow

PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.health", "static"})
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "api_key", "apikey", "auth", "bearer"})
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
HSTS_MAX_AGE_S = 63072000  # two years
# What `static/` serves: assets, by their file name's ending.
STATIC_ASSET_SUFFIXES = (".css", ".js", ".map", ".svg", ".png", ".ico", ".woff", ".woff2",
                         ".webp", ".jpg", ".jpeg", ".gif")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """Never send a session cookie in answer to a token-authenticated request."""

    def save_session(self, app, session, response):
        if g.get("token_auth"):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = TokenAwareSessionInterface()
    app.before_request(_guard)
    app.after_request(_security_headers)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.blueprint == "api"


def json_error(status: int, code: str, message: str, headers: dict | None = None):
    """The one shape of every API error: {"error": {"code", "message"}}."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _guard():
    if request.endpoint == "static" and not _is_asset(request.view_args or {}):
        abort(404)
    if QUERY_TOKEN_NAMES.intersection(k.lower() for k in request.args):
        return json_error(
            400, "token_in_query", "Send API tokens in the Authorization header, never in the URL."
        )
    header = request.headers.get("Authorization")
    if header is not None:
        return _authenticate_token(header)
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        # Nobody is logged in: say so (401 / the login page) before judging the CSRF token.
        if _wants_json() or request.endpoint is None and request.path.startswith("/api"):
            return json_error(401, "unauthorized", "Log in or send a valid API token.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        csrf.protect()
    return None


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
PLAIN_HTTP_NOTE = (
    "This page seems to have come over plain HTTP. If the address starts with http://, the "
    "browser will not send back the login cookie (it is set to travel over HTTPS only), so "
    "logging in cannot work: serve qbsync over HTTPS (recommended), or on a trusted network "
    "only set QBSYNC_SECURE_COOKIES=false. If it starts with https://, a proxy in front of "
    "qbsync is not saying so (X-Forwarded-Proto; see QBSYNC_PROXY_COUNT)."
)


def plain_http_blocks_login() -> bool:
    """The login cookie is Secure but this request came over plain HTTP from a host the
    browser does not treat as secure (it does treat localhost so): no login can stick."""
    if not current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
        return False
    return (urlsplit(f"//{request.host}").hostname or "") not in LOOPBACK_HOSTS


def _authenticate_token(header: str):
    g.token_auth = True
    scheme, _, clear = header.partition(" ")
    row = ApiToken.authenticate(clear.strip()) if scheme.lower() == "bearer" and clear else None
    if row is None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        return json_error(
            401,
            "invalid_token",
            "The API token is missing, malformed, revoked or unknown.",
            {"WWW-Authenticate": 'Bearer realm="qbsync"'},
        )
    if not _wants_json():  # a page, or the logout: a browser's login, never a token's
        return json_error(403, "token_not_for_pages",
                          "API tokens are for the JSON API under /api/ only; log in to use "
                          "the pages.")
    g._login_user = row.user  # Flask-Login's per-request user
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
        commit_bookkeeping("token use")
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        hsts = f"max-age={HSTS_MAX_AGE_S}; includeSubDomains"
        headers.setdefault("Strict-Transport-Security", hsts)
    if request.path.startswith("/api/") or request.endpoint in ("auth.login",) or (
            request.endpoint != "static" and _authenticated()):
        # What a user (or a token) was shown stays out of caches and the browser's history
        headers["Cache-Control"] = "no-store"
    return response


def _authenticated() -> bool:
    return bool(g.get("token_auth")) or current_user.is_authenticated


def _is_asset(view_args: dict) -> bool:
    return str(view_args.get("filename") or "").lower().endswith(STATIC_ASSET_SUFFIXES)
