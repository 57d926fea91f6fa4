"""Settings, read once from the environment (and `.env`) into a flat mapping for `app.config`.

Contract names (DESIGN §3): SECRET_KEY, DATABASE_URL, REDIS_URL, CONDUCTOR_SECRET_KEY,
CONDUCTOR_END_USER_ID, CONDUCTOR_BASE_URL. Everything else is prefixed QBSYNC_.

Three modes, from QBSYNC_MODE: ``production`` (the default, what gunicorn and the Procfile run),
``demo`` (``qbsync demo``: SQLite, in-process worker, the simulator) and ``test``. Production
refuses to start without its secrets; demo and test fill in safe local defaults.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qbdsim.config import SimConfig

MODES = ("production", "demo", "test")
# Where `qbsync demo` serves its simulator by default, and the simulator's own credentials
DEMO_SIMULATOR = {"base_url": f"http://127.0.0.1:{SimConfig.port}/v1",
                  "secret_key": SimConfig.secret_key, "end_user_id": SimConfig.end_user_id,
                  # accounts of the simulator's company, for items created in the WMS
                  "income_account": "Sales:Merchandise", "cogs_account": "Cost of Goods Sold",
                  "asset_account": "Inventory Asset",
                  "adjustment_account": "Inventory Adjustments"}
PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CONDUCTOR_SECRET_KEY",
    "CONDUCTOR_END_USER_ID",
)
MIN_SECRET_KEY_LENGTH = 32  # characters: a short key can be brute-forced from one cookie
SESSION_LIFETIME_S = 12 * 3600
CSRF_TIME_LIMIT_S = 8 * 3600
MAX_REQUEST_BYTES = 1024 * 1024


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming the variable."""


def normalize_database_url(url: str) -> str:
    """Accept Heroku's ``postgres://`` and plain ``postgresql://`` URLs; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redis_url_from(env: Mapping[str, str]) -> str | None:
    """REDIS_URL; for a TLS one (``rediss://``) with ``QBSYNC_REDIS_VERIFY_TLS=false``, with the
    option that accepts the server's certificate unverified. Heroku's Redis add-on presents a
    self-signed certificate, which redis-py refuses by default; app.json says so explicitly."""
    url = env.get("REDIS_URL") or None
    verify = _flag(env.get("QBSYNC_REDIS_VERIFY_TLS"), default=True)
    if url and url.startswith("rediss://") and not verify and "ssl_cert_reqs=" not in url:
        url += ("&" if "?" in url else "?") + "ssl_cert_reqs=none"
    return url


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _resume_records(env: Mapping[str, str]) -> int:
    value = _float(env, "QBSYNC_RESUME_RECORDS", 3000)
    if value < 150 or value != int(value):
        raise ConfigError(f"QBSYNC_RESUME_RECORDS must be a whole number of records, at least"
                          f" one page (150), got {env.get('QBSYNC_RESUME_RECORDS')!r}")
    return int(value)


def load_settings(env: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Turn environment variables into Flask config keys, failing loudly in production."""
    mode = (env.get("QBSYNC_MODE") or "production").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"QBSYNC_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    production = mode == "production"
    if production:
        for name in PRODUCTION_REQUIRED:
            if not env.get(name):
                raise ConfigError(f"{name} is not set; it is required in production "
                                  "(set QBSYNC_MODE=demo to try qbsync locally)")
        if len(env["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"SECRET_KEY is too short ({len(env['SECRET_KEY'])} characters); "
                              f"production needs at least {MIN_SECRET_KEY_LENGTH} random ones "
                              "(python -c 'import secrets; print(secrets.token_hex())')")
        debug = (env.get("FLASK_DEBUG") or "").strip().lower()
        if debug and debug not in ("0", "false", "no"):  # Flask's own reading of it
            raise ConfigError("FLASK_DEBUG is set; debug mode is never allowed in production "
                              "(unset it, or set QBSYNC_MODE=demo to try qbsync locally)")

    demo = DEMO_SIMULATOR if mode == "demo" else {}
    sqlite_path = Path(instance_path) / "qbsync.db"
    database_url = env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"
    secure_cookies = _flag(env.get("QBSYNC_SECURE_COOKIES"), default=production)
    return {
        "QBSYNC_MODE": mode,
        "TESTING": mode == "test",
        **({"DEBUG": False} if production else {}),
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_hex(32),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url_from(env),
        # Demo mode talks to `qbsync demo`'s simulator unless told otherwise, so the CLI run
        # beside a demo (`QBSYNC_MODE=demo qbsync sync start`) syncs from the same company.
        "CONDUCTOR_SECRET_KEY": env.get("CONDUCTOR_SECRET_KEY") or demo.get("secret_key"),
        "CONDUCTOR_END_USER_ID": env.get("CONDUCTOR_END_USER_ID") or demo.get("end_user_id"),
        "CONDUCTOR_BASE_URL": env.get("CONDUCTOR_BASE_URL") or demo.get("base_url"),
        "QBSYNC_REQUEST_TIMEOUT_S": _float(env, "QBSYNC_REQUEST_TIMEOUT_S", 120.0),
        # Workers (actors/): transient failures are retried with capped exponential backoff.
        "QBSYNC_MAX_RETRIES": int(_float(env, "QBSYNC_MAX_RETRIES", 10)),
        "QBSYNC_RETRY_MIN_BACKOFF_MS": int(_float(env, "QBSYNC_RETRY_MIN_BACKOFF_MS", 5000)),
        "QBSYNC_RETRY_MAX_BACKOFF_MS": int(_float(env, "QBSYNC_RETRY_MAX_BACKOFF_MS", 90000)),
        # A session the database says is pending or running, with no message left in Redis
        # and no sign of life for this long, is queued again by the workers (actors/recovery).
        "QBSYNC_ORPHAN_AFTER_S": _float(env, "QBSYNC_ORPHAN_AFTER_S", 180.0),
        "QBSYNC_ORPHAN_CHECK_S": _float(env, "QBSYNC_ORPHAN_CHECK_S", 60.0),
        # Accounts (by name) a new inventory item gets in QuickBooks when the WMS names none.
        # (the demo's simulator has these accounts)
        "QBSYNC_DEFAULT_INCOME_ACCOUNT": env.get("QBSYNC_DEFAULT_INCOME_ACCOUNT")
        or demo.get("income_account"),
        "QBSYNC_DEFAULT_COGS_ACCOUNT": env.get("QBSYNC_DEFAULT_COGS_ACCOUNT")
        or demo.get("cogs_account"),
        "QBSYNC_DEFAULT_ASSET_ACCOUNT": env.get("QBSYNC_DEFAULT_ASSET_ACCOUNT")
        or demo.get("asset_account"),
        # The account (by name) of inventory adjustments the WMS makes (counts included).
        "QBSYNC_ADJUSTMENT_ACCOUNT": env.get("QBSYNC_ADJUSTMENT_ACCOUNT")
        or demo.get("adjustment_account"),
        # The most records a crash makes an object read again (transaction listings holding
        # more are read in windows of updatedAt: webapp.sync.pull.pulls).
        "QBSYNC_RESUME_RECORDS": _resume_records(env),
        # The per-record ledger keeps this many days of events (pruned as sessions end).
        "QBSYNC_LEDGER_RETENTION_DAYS": int(_float(env, "QBSYNC_LEDGER_RETENTION_DAYS", 180)),
        "QBSYNC_ADMIN_EMAIL": env.get("QBSYNC_ADMIN_EMAIL") or "admin@example.com",
        "QBSYNC_ADMIN_PASSWORD": env.get("QBSYNC_ADMIN_PASSWORD") or None,
        # Cookies: HttpOnly and SameSite everywhere; Secure and the __Host- prefix whenever the
        # app is served over HTTPS (production), so a cookie never travels in clear text.
        "SESSION_COOKIE_NAME": "__Host-qbsync" if secure_cookies else "qbsync",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME_S,
        "WTF_CSRF_TIME_LIMIT": CSRF_TIME_LIMIT_S,
        # CSRF is enforced by webapp.security for every unsafe request without a bearer token.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Heroku's router is one proxy in front of us: trust one hop of X-Forwarded-*.
        "QBSYNC_PROXY_COUNT": int(_float(env, "QBSYNC_PROXY_COUNT", 1 if production else 0)),
    }
